"""The in-app scanner (stub: being written)."""
from flask import Blueprint, redirect, url_for
from flask_login import login_required

bp = Blueprint("scan", __name__)


@bp.route("/scan")
@login_required
def scan():
    return redirect(url_for("exchanges.confirm_form"))
