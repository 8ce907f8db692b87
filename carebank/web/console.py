"""The coordinator console: a centre's staff register members without phones, act for
them, print cards, approve check-ins, settle disputes and report on the hours exchanged.

Every view here is for coordinators only, and every member or exchange a view loads goes
through carebank.centres (`managed_member`, `managed_exchange`), so a coordinator sees and
acts only within their own centre; an admin sees all.
"""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from carebank.core.extensions import login_manager

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.before_request
def coordinators_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_coordinator:
        abort(403)
    return None


# Each module adds its routes to `bp`.
from carebank.cards import console as cards  # noqa: E402,F401
from carebank.centres import console as centres  # noqa: E402,F401
from carebank.checkins import console as checkins  # noqa: E402,F401
from carebank.dashboard import console as dashboard  # noqa: E402,F401
from carebank.disputes import console as disputes  # noqa: E402,F401
from carebank.ledger import console as ledger  # noqa: E402,F401
from carebank.members import console as members  # noqa: E402,F401
from carebank.reports import console as reports  # noqa: E402,F401
