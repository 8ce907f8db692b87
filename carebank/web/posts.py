"""Needs and offers pages (stub: being written)."""
from flask import Blueprint, abort
from flask_login import login_required

bp = Blueprint("posts", __name__, url_prefix="/posts")


@bp.route("/")
def browse():
    abort(404)


@bp.route("/new")
@login_required
def new():
    abort(404)


@bp.route("/<int:post_id>")
def detail(post_id):
    abort(404)
