"""API v1: the member's ledger, transfers, donations, grants and the pool."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from carebank.api import api
from carebank.api import serialize as out
from carebank.api.handler import body, created, login_required, text
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.governance import pool as governed_pool
from carebank.ledger import services as ledger


@api.get("/ledger")
@login_required
def my_ledger():
    entries = ledger.history(db.session, current_user.id)
    return jsonify({
        "balance_minutes": ledger.balance_of(db.session, current_user.id),
        "entries": [out.ledger_entry(e) for e in entries],
    })


@api.post("/transfers")
@login_required
def transfer():
    data = body()
    transaction = ledger.gift(db.session, current_user, data.get("to_member_id"), data.get("minutes"),
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
    # Through governance's pool service, which builds on the ledger and sends a grant above the
    # bylaw's limit to a ballot; the ledger's services never import governance.
    transaction = governed_pool.grant(db.session, current_user, data.get("to_member_id"), data.get("minutes"),
                                      text(data, "memo"), text(data, "need"), current_policy())
    return created({"transaction": out.transaction(transaction)})


@api.get("/pool")
@login_required
def pool():
    return jsonify({"balance_minutes": ledger.pool_account(db.session).balance_minutes})
