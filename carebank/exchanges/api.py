"""API v1: the member's exchanges and their answers."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from carebank.api import api
from carebank.api import serialize as out
from carebank.api.handler import login_required
from carebank.core.extensions import db
from carebank.exchanges import services as exchanges


@api.get("/exchanges")
@login_required
def my_exchanges():
    mine = exchanges.exchanges_of(db.session, current_user)
    standings = exchanges.standings(db.session, mine)
    return jsonify({"exchanges": [out.exchange(e, standings[e.id]) for e in mine]})


@api.get("/exchanges/<id:exchange_id>")
@login_required
def get_exchange(exchange_id: int):
    return jsonify({"exchange": out.exchange(exchanges.get_exchange(db.session, current_user, exchange_id))})


def _exchange_action(action, exchange_id: int):
    exchange = action(db.session, current_user, exchange_id)
    return jsonify({"exchange": out.exchange(exchange)})


@api.post("/exchanges/<id:exchange_id>/accept")
@login_required
def accept(exchange_id: int):
    return _exchange_action(exchanges.accept, exchange_id)


@api.post("/exchanges/<id:exchange_id>/decline")
@login_required
def decline(exchange_id: int):
    return _exchange_action(exchanges.decline, exchange_id)


@api.post("/exchanges/<id:exchange_id>/cancel")
@login_required
def cancel(exchange_id: int):
    return _exchange_action(exchanges.cancel, exchange_id)


@api.post("/exchanges/<id:exchange_id>/finish")
@login_required
def finish(exchange_id: int):
    """Either party closes an agreed exchange (no more visits are counted)."""
    return _exchange_action(exchanges.finish, exchange_id)
