"""What every API v1 route shares: the blueprint that commits each route's work once
(`ApiBlueprint`), login, and reading the JSON body and query."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import wraps

from flask import Blueprint, abort, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.core.commit import committed
from carebank.core.errors import ValidationFailed


class ApiBlueprint(Blueprint):
    """A blueprint whose every route is the API's commit point: the route parses JSON, calls a
    service and answers; its work is committed after it answered, and a refusal is rolled
    back and rendered as the error body (carebank.core.error_pages)."""

    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        if view_func is not None:
            view_func = committed(view_func)
        super().add_url_rule(rule, endpoint, view_func, **options)


def login_required(view):
    """Like flask-login's, but answers 401 JSON instead of redirecting to a login page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    return wrapper




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
