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
from carebank.features import feature_modules

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.before_request
def coordinators_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_coordinator:
        abort(403)
    return None


# Each feature's console.py adds its routes to `bp`; importing them registers them.
feature_modules("console")
