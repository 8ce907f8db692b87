"""API v1: the message thread of an exchange (its two parties; anyone else gets 404)."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from carebank.api import api
from carebank.api.handler import body, login_required, text
from carebank.api.serialize import iso
from carebank.core import idempotency
from carebank.core.extensions import db
from carebank.messages import services as messages
from carebank.messages.models import ExchangeMessage
from carebank.messages.rate_limits import writing

THREAD = "/exchanges/<id:exchange_id>/messages"


def _message(m: ExchangeMessage) -> dict:
    return {"id": m.id, "author_id": m.author_id, "body": m.body, "created_at": iso(m.created_at)}


@api.get(THREAD)
@login_required
def list_messages(exchange_id: int):
    return jsonify({"messages": [_message(m) for m in messages.thread(db.session, current_user, exchange_id)]})


@api.post(THREAD)
@login_required
@writing
def write_message(exchange_id: int):
    """Write to the other party. With an Idempotency-Key (the phone's outbox sending a message
    written offline), a replay answers the first success again: a message sent twice is one."""
    key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    exchange = messages.party_exchange(db.session, current_user, exchange_id)  # 404 before 400
    sent = text(body(), "body")
    if not key:
        return jsonify({"message": _message(messages.write(db.session, current_user, exchange.id, sent))}), 201
    fingerprint = idempotency.request_hash(f"POST /api/v1/exchanges/{exchange.id}/messages",
                                           sent.strip() if sent else "")
    status, payload = (idempotency.stored_answer(db.session, current_user.id, key, fingerprint)
                       or _write_once(exchange.id, sent, key, fingerprint))
    return jsonify(payload), status


def _write_once(exchange_id: int, sent: str | None, key: str, fingerprint: str) -> tuple[int, dict]:
    """Write the message and store the answer under the key. Unlike a redemption, writing is
    not idempotent by itself: when a concurrent request with the same key stored its answer
    first, our message is undone and the winner's answer given."""
    ours = db.session.begin_nested()
    mine = {"message": _message(messages.write(db.session, current_user, exchange_id, sent))}
    status, payload = idempotency.remember(db.session, current_user.id, key, fingerprint, 201, mine)
    if payload is mine:
        ours.commit()
    else:
        ours.rollback()
    return status, payload
