"""API v1: the message thread of an exchange (its two parties; anyone else gets 404)."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from carebank.api import api
from carebank.api.handler import body, created, login_required, text
from carebank.api.serialize import iso
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
    exchange = messages.party_exchange(db.session, current_user, exchange_id)  # 404 before 400
    message = messages.write(db.session, current_user, exchange.id, text(body(), "body"))
    return created({"message": _message(message)})
