"""What a request must be before any of the app looks at it: not too large, and with no
files where no form takes one.

These run first, before CSRF, the rate limiter's key functions (which read the login's
JSON) or a view: a 200 MB body is refused by its Content-Length without a byte of it read.
"""
from __future__ import annotations

from flask import Flask, abort, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge


def refuse_oversized_body() -> None:
    """413 for a body over MAX_CONTENT_LENGTH. A declared length is refused unread; a chunked
    body (no length) is read here up to the limit, so the refusal still comes before anything
    parses it, and a body cut at the limit is never taken for the whole."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.content_length is not None:
        if request.content_length > limit:
            raise RequestEntityTooLarge()
        return
    # Werkzeug's stream stops at the limit without saying so; a body that reached it is over.
    if len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def refuse_file_parts() -> None:
    """No form of the bank takes a file (a card's photo is decoded on the phone), so a field
    sent as a file part is a malformed request, not a value to validate."""
    if request.mimetype == "multipart/form-data" and request.files:
        abort(400)


def register(app: Flask) -> None:
    # Ahead of every other before_request function (CSRF, Flask-Limiter, Flask-Login).
    guards = [refuse_oversized_body, refuse_file_parts]
    app.before_request_funcs.setdefault(None, [])[0:0] = guards
