"""API v1: posts, categories, matches and responses."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from carebank.api import api
from carebank.api import serialize as out
from carebank.api.handler import (
    body,
    created,
    login_required,
    optional_body,
    parse_datetime,
    query_text,
    text,
)
from carebank.core.converters import MAX_ID
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.exchanges import services as exchanges
from carebank.matching.words import reasons_data
from carebank.posts import services as posts
from carebank.posts.categories import CATEGORIES


@api.get("/categories")
def categories():
    return jsonify({"categories": [{"slug": slug, "name": str(name)} for slug, name in CATEGORIES.items()]})


@api.post("/posts")
@login_required
def create_post():
    data = body()
    post = posts.create_post(
        db.session, current_user, kind=text(data, "kind"), category=text(data, "category"),
        title=text(data, "title"), description=text(data, "description") or "", minutes=data.get("minutes"),
        neighbourhood=text(data, "neighbourhood"), starts_at=parse_datetime(data, "starts_at"),
        ends_at=parse_datetime(data, "ends_at"), once=data.get("once", False), policy=current_policy(),
    )
    return created({"post": out.post(post)})


@api.get("/posts")
def list_posts():
    wanted = posts.PostFilter(
        kind=query_text("kind"), category=query_text("category"),
        neighbourhood=query_text("neighbourhood"), text=query_text("q"),
    )
    offset = request.args.get("offset", 0, type=int)
    found = posts.browse(db.session, wanted, offset=min(max(offset, 0), MAX_ID))
    return jsonify({"posts": [out.post(p) for p in found]})


@api.get("/posts/mine")
@login_required
def my_posts():
    return jsonify({"posts": [out.post(p) for p in posts.posts_of(db.session, current_user)]})


@api.get("/posts/<id:post_id>")
def get_post(post_id: int):
    return jsonify({"post": out.post(posts.get_post(db.session, post_id))})


@api.post("/posts/<id:post_id>/close")
@login_required
def close_post(post_id: int):
    post = posts.close_post(db.session, current_user, post_id)
    return jsonify({"post": out.post(post)})


@api.get("/posts/<id:post_id>/matches")
@login_required
def matches(post_id: int):
    post = posts.get_post(db.session, post_id)
    found = posts.kept_suggestions(db.session, post, current_user)
    # "score" is deprecated: "reasons" says why a match fits, as the pages do.
    return jsonify({"matches": [{"post": out.post(s.post), "score": s.score, "reasons": reasons_data(s.reasons)}
                                for s in found]})


@api.post("/posts/<id:post_id>/responses")
@login_required
def respond(post_id: int):
    exchange = exchanges.respond(db.session, current_user, post_id, text(optional_body(), "message") or "")
    return created({"exchange": out.exchange(exchange)})
