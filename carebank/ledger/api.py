"""API v1: the member's ledger, transfers, donations, grants and the pool."""
from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.api import api
from carebank.api import serialize as out
from carebank.api.handler import body, created, login_required, text
from carebank.core.converters import MAX_ID
from carebank.core.errors import ValidationFailed
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.ledger import services as ledger


@api.get("/ledger")
@login_required
def my_ledger():
    entries = ledger.history(db.session, current_user.id)
    return jsonify({
        "balance_minutes": ledger.balance_of(db.session, current_user.id),
        "entries": [out.ledger_entry(e) for e in entries],
    })


def _member_id(data: dict):
    value = data.get("to_member_id")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        message = _l("Choose the member by their member number.")
        raise ValidationFailed(message, fields={"to_member_id": message})
    return value


@api.post("/transfers")
@login_required
def transfer():
    data = body()
    transaction = ledger.gift(db.session, current_user, _member_id(data), data.get("minutes"),
                              text(data, "memo"), current_policy())
    return created({"transaction": out.transaction(transaction)})


@api.post("/donations")
@login_required
def donate():
    data = body()
    transaction = ledger.donate_to_pool(db.session, current_user, data.get("minutes"), text(data, "memo"),
                                        current_policy())
    return created({"transaction": out.transaction(transaction)})


@api.post("/grants")
@login_required
def grant():
    data = body()
    transaction = ledger.grant_from_pool(db.session, current_user, _member_id(data), data.get("minutes"),
                                         text(data, "memo"), current_policy())
    return created({"transaction": out.transaction(transaction)})


@api.get("/pool")
@login_required
def pool():
    return jsonify({"balance_minutes": ledger.pool_account(db.session).balance_minutes})
