"""Exchanges and visit confirmation pages (stub: being written)."""
from flask import Blueprint, abort
from flask_login import login_required

bp = Blueprint("exchanges", __name__)


@bp.route("/exchanges/")
@login_required
def index():
    abort(404)


@bp.route("/exchanges/<int:exchange_id>")
@login_required
def detail(exchange_id):
    abort(404)


@bp.route("/confirm")
@login_required
def confirm_form():
    abort(404)
