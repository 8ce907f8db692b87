"""Time ledger pages (stub: being written)."""
from flask import Blueprint, abort
from flask_login import login_required

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


@bp.route("/")
@login_required
def history():
    abort(404)


@bp.route("/gift")
@login_required
def gift():
    abort(404)


@bp.route("/pool")
@login_required
def pool():
    abort(404)
