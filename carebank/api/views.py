"""API v1 endpoints: parse JSON, call a service, commit, answer with finished JSON."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import wraps

from flask import abort, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import confirmations, exchanges, idempotency, ledger, members, posts, rate_limits
from ..categories import CATEGORIES
from ..errors import ValidationFailed
from ..errors_web import error_body
from ..extensions import db
from ..policy import current_policy
from ..security import end_session, start_session
from ..web import base_url
from ..web.pwa import CLEAR_SITE_DATA
from . import api
from . import serialize as out


def login_required(view):
    """Like flask-login's, but answers 401 JSON instead of redirecting to a login page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    return wrapper


# Ids are 32-bit integer columns: a larger number in a URL is simply unknown (404), and one
# in a body is refused (400) before it can overflow the database driver.
MAX_ID = 2**31 - 1
ID = f"int(max={MAX_ID})"


def body() -> dict:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly nested JSON is not a ValueError, so silent= misses it
        data = None
    if not isinstance(data, dict):
        raise ValidationFailed(_l("Send a JSON object."), code="invalid_json")
    return data


def optional_body() -> dict:
    """The body of an action that needs none: empty is fine, anything sent must be an object."""
    return body() if request.content_length else {}


def _invalid_field(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, fields={field: message})


# NUL, which PostgreSQL cannot store or compare, and lone surrogates (JSON's "\ud800" escape):
# half of a character, which no database driver can encode.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text(data: dict, field: str) -> str | None:
    """A text field as sent (None if absent): another JSON type is refused, not ignored, and so
    is text holding a character no database can store."""
    value = data.get(field)
    if value is not None and (not isinstance(value, str) or UNSTORABLE.search(value)):
        raise _invalid_field(field, _l("Enter this as text."))
    return value


def query_text(name: str) -> str | None:
    value = request.args.get(name) or None
    if value is not None and "\x00" in value:
        raise _invalid_field(name, _l("Enter this as text."))
    return value


def created(payload: dict):
    return jsonify(payload), 201


@api.get("/session")
def get_session():
    member = out.member(current_user) if current_user.is_authenticated else None
    return jsonify({"member": member, "csrf_token": generate_csrf()})


@api.post("/session")
@rate_limits.login
def log_in():
    data = body()
    member = members.authenticate(db.session, text(data, "email"), text(data, "password"))
    if member is None:
        return jsonify(error_body("invalid_credentials", _l("The email or password is not right."))), 401
    db.session.commit()  # a password hash made the old way was just replaced
    start_session(member)
    return jsonify({"member": out.member(member)})


@api.delete("/session")
def log_out():
    end_session()
    # A shared phone keeps nothing of the member: cached pages, the worker and the outbox go.
    return "", 204, {"Clear-Site-Data": CLEAR_SITE_DATA}


@api.post("/members")
@rate_limits.signup
def sign_up():
    data = body()
    member = members.create_member(
        db.session, name=text(data, "name"), email=text(data, "email"), password=text(data, "password"),
        neighbourhood=text(data, "neighbourhood") or "", locale=text(data, "locale"),
    )
    db.session.commit()
    start_session(member)
    return created({"member": out.member(member)})


@api.get("/me")
@login_required
def me():
    return jsonify({"member": out.member(current_user), "profile": out.profile(current_user)})


@api.patch("/me")
@login_required
def update_me():
    data = body()
    fields = {k: text(data, k) for k in data
              if k in {"name", "neighbourhood", "languages", "offers_text", "phone", "locale"}}
    members.update_profile(db.session, current_user, **fields)
    db.session.commit()
    return jsonify({"member": out.member(current_user), "profile": out.profile(current_user)})


@api.get(f"/members/<{ID}:member_id>")
@login_required
def get_member(member_id: int):
    return jsonify({"member": out.member(members.get_member(db.session, member_id))})


@api.get("/categories")
def categories():
    return jsonify({"categories": [{"slug": slug, "name": str(name)} for slug, name in CATEGORIES.items()]})


def parse_datetime(data: dict, field: str) -> datetime | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        # Converting now: an offset that pushes the time past year 1 or 9999 is bad input.
        parsed = parsed.astimezone(UTC) if parsed and parsed.tzinfo else None
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        message = _l("Use a date and time with a time zone, like 2026-05-01T10:00:00+09:00.")
        raise ValidationFailed(message, fields={field: message})
    return parsed


@api.post("/posts")
@login_required
def create_post():
    data = body()
    post = posts.create_post(
        db.session, current_user, kind=text(data, "kind"), category=text(data, "category"),
        title=text(data, "title"), description=text(data, "description") or "", minutes=data.get("minutes"),
        neighbourhood=text(data, "neighbourhood"), starts_at=parse_datetime(data, "starts_at"),
        ends_at=parse_datetime(data, "ends_at"), policy=current_policy(),
    )
    db.session.commit()
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


@api.get(f"/posts/<{ID}:post_id>")
def get_post(post_id: int):
    return jsonify({"post": out.post(posts.get_post(db.session, post_id))})


@api.post(f"/posts/<{ID}:post_id>/close")
@login_required
def close_post(post_id: int):
    post = posts.close_post(db.session, current_user, post_id)
    db.session.commit()
    return jsonify({"post": out.post(post)})


@api.get(f"/posts/<{ID}:post_id>/matches")
@login_required
def matches(post_id: int):
    post = posts.get_post(db.session, post_id)
    ranked = posts.suggest_matches(db.session, post, current_user)
    return jsonify({"matches": [{"post": out.post(p), "score": score} for p, score in ranked]})


@api.post(f"/posts/<{ID}:post_id>/responses")
@login_required
def respond(post_id: int):
    exchange = exchanges.respond(db.session, current_user, post_id, text(optional_body(), "message") or "")
    db.session.commit()
    return created({"exchange": out.exchange(exchange)})


@api.get("/exchanges")
@login_required
def my_exchanges():
    return jsonify({"exchanges": [out.exchange(e) for e in exchanges.exchanges_of(db.session, current_user)]})


@api.get(f"/exchanges/<{ID}:exchange_id>")
@login_required
def get_exchange(exchange_id: int):
    return jsonify({"exchange": out.exchange(exchanges.get_exchange(db.session, current_user, exchange_id))})


def _exchange_action(action, exchange_id: int):
    exchange = action(db.session, current_user, exchange_id)
    db.session.commit()
    return jsonify({"exchange": out.exchange(exchange)})


@api.post(f"/exchanges/<{ID}:exchange_id>/accept")
@login_required
def accept(exchange_id: int):
    return _exchange_action(exchanges.accept, exchange_id)


@api.post(f"/exchanges/<{ID}:exchange_id>/decline")
@login_required
def decline(exchange_id: int):
    return _exchange_action(exchanges.decline, exchange_id)


@api.post(f"/exchanges/<{ID}:exchange_id>/cancel")
@login_required
def cancel(exchange_id: int):
    return _exchange_action(exchanges.cancel, exchange_id)


@api.post(f"/exchanges/<{ID}:exchange_id>/confirmation-codes")
@login_required
def make_code(exchange_id: int):
    code, token = confirmations.make_code(
        db.session, current_user, exchange_id, body().get("minutes"), current_policy()
    )
    db.session.commit()
    url = confirmations.confirm_url(base_url(), token)
    return created(out.confirmation_code(code, token, url, confirmations.display_code(token)))


@api.post("/confirmations")
@login_required
@rate_limits.redeem
def redeem():
    """Confirm a visit. With an Idempotency-Key (an offline queue retrying), a replay answers
    the first successful answer again, even if the code has expired since."""
    key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    token = confirmations.parse_code(body().get("code"))
    if key:
        fingerprint = idempotency.request_hash("POST /api/v1/confirmations", token)
        answer = idempotency.stored_answer(db.session, current_user.id, key, fingerprint)
        if answer:
            status, payload = answer
            return jsonify(payload), status
    transaction, is_new = confirmations.redeem(db.session, current_user, token, current_policy())
    status, payload = 201 if is_new else 200, {"transaction": out.transaction(transaction)}
    if key:
        status, payload = idempotency.remember(db.session, current_user.id, key, fingerprint, status, payload)
    db.session.commit()
    return jsonify(payload), status


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
    db.session.commit()
    return created({"transaction": out.transaction(transaction)})


@api.post("/donations")
@login_required
def donate():
    data = body()
    transaction = ledger.donate_to_pool(db.session, current_user, data.get("minutes"), text(data, "memo"),
                                        current_policy())
    db.session.commit()
    return created({"transaction": out.transaction(transaction)})


@api.post("/grants")
@login_required
def grant():
    data = body()
    transaction = ledger.grant_from_pool(db.session, current_user, _member_id(data), data.get("minutes"),
                                         text(data, "memo"), current_policy())
    db.session.commit()
    return created({"transaction": out.transaction(transaction)})


@api.get("/pool")
@login_required
def pool():
    return jsonify({"balance_minutes": ledger.pool_account(db.session).balance_minutes})
