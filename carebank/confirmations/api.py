"""API v1: making a code and redeeming it."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from carebank.api import api
from carebank.api import serialize as out
from carebank.api.handler import body, created, login_required
from carebank.confirmations import services as confirmations
from carebank.core import idempotency, rate_limits
from carebank.core.database import reads_first
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.web import base_url


@api.post("/exchanges/<id:exchange_id>/confirmation-codes")
@login_required
def make_code(exchange_id: int):
    code, token = confirmations.make_code(
        db.session, current_user, exchange_id, body().get("minutes"), current_policy()
    )
    url = confirmations.confirm_url(base_url(), token)
    return created(out.confirmation_code(code, token, url, confirmations.display_code(token)))


@api.post("/confirmations")
@reads_first
@login_required
@rate_limits.redeem
def redeem():
    """Confirm a visit. With an Idempotency-Key (an offline queue retrying), a replay answers
    the first successful answer again, even if the code has expired since. A second visit of
    the same exchange within the hour answers 409 "recent_confirmation" unless the body says
    "confirm_again": true."""
    key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    token = confirmations.parse_code(body().get("code"))
    if key:
        fingerprint = idempotency.request_hash("POST /api/v1/confirmations", token)
        answer = idempotency.stored_answer(db.session, current_user.id, key, fingerprint)
        if answer:
            status, payload = answer
            return jsonify(payload), status
    transaction, is_new = confirmations.redeem(db.session, current_user, token, current_policy(),
                                               confirm_again=body().get("confirm_again") is True)
    status, payload = 201 if is_new else 200, {"transaction": out.transaction(transaction)}
    if key:
        status, payload = idempotency.remember(db.session, current_user.id, key, fingerprint, status, payload)
    return jsonify(payload), status
