"""Turning errors into responses: JSON under /api/, friendly pages elsewhere. Never a raw 500."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from carebank.core.errors import DomainError
from carebank.core.extensions import db, login_manager

HTTP_MESSAGES = {
    400: ("bad_request", lambda: _("The request could not be understood.")),
    401: ("unauthorized", lambda: _("Please log in first.")),
    403: ("forbidden", lambda: _("You are not allowed to do that.")),
    404: ("not_found", lambda: _("There is nothing here.")),
    405: ("method_not_allowed", lambda: _("That action is not possible here.")),
    410: ("gone", lambda: _("This is no longer available.")),
    413: ("too_large", lambda: _("That is too much data.")),
    429: ("too_many_requests", lambda: _("Too many tries. Please wait a moment.")),
    500: ("server_error", lambda: _("Something went wrong on our side. Please try again.")),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    error = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = {name: str(text) for name, text in fields.items()}
    return {"error": error}


def _http_error(error: HTTPException):
    code, message = HTTP_MESSAGES.get(error.code, (error.name.lower().replace(" ", "_"), None))
    text = message() if message else error.description
    if wants_json():
        return jsonify(error_body(code, text)), error.code
    if request_ctx.url_adapter is None:
        return _bare_page(error.code, text)
    return render_template("error.html", status=error.code, message=text), error.code


def _bare_page(status: int, text: str):
    """The error page without the layout: when the Host header could not be read (a label
    over 63 characters fails IDNA), no URL can be built, so the layout's links would fail."""
    page = f'<!doctype html><html lang="{get_locale()}"><meta charset="utf-8"><title>{status}</title>' \
           f"<p>{escape(text)}</p></html>"
    return page, status, {"Content-Type": "text/html; charset=utf-8"}


def _csrf_error(error: CSRFError):
    db.session.rollback()
    text = _("The form had expired or was sent from elsewhere. Please try again.")
    if wants_json():
        return jsonify(error_body("csrf_failed", text)), 400
    return render_template("error.html", status=400, message=text), 400


def _domain_error(error: DomainError):
    """A rule refused the request: nothing is saved and the reason is shown."""
    db.session.rollback()
    if wants_json():
        return jsonify(error_body(error.code, error.message, error.fields)), error.status
    # str(): a lazy string counts as safe HTML to Jinja, and this message may hold a member's name.
    return render_template("error.html", status=error.status, message=str(error.message)), error.status


def _constraint_error(error: IntegrityError):
    """A database constraint caught what the rules check first: two requests raced (the same
    email signed up twice at once, say). Nothing was saved; the person can simply retry."""
    db.session.rollback()
    current_app.logger.warning("constraint refused a write: %s", error.orig)
    text = _("Someone else changed this at the same moment. Please look again and retry.")
    if wants_json():
        return jsonify(error_body("conflict", text)), 409
    return render_template("error.html", status=409, message=text), 409


# Seconds a client is asked to wait before retrying after a 503 (a lock is usually held for
# milliseconds; a full disk needs a person, but an automatic retry every few seconds is cheap).
RETRY_AFTER_SECONDS = 5
# SQLite reports bugs (no such table, syntax) as OperationalError too; only these are the
# database being busy or out of room, which a retry later can get past.
SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database or disk is full",
                    "disk i/o error", "unable to open database")


def _is_transient(error: OperationalError) -> bool:
    """On PostgreSQL every OperationalError is: lost connection, lock or statement timeout,
    deadlock, disk full, shutdown (errors in the SQL itself are ProgrammingError)."""
    if db.engine.dialect.name != "sqlite":
        return True
    return any(text in str(error.orig).lower() for text in SQLITE_TRANSIENT)


def _database_unavailable(error: OperationalError):
    """The database is locked, full or unreachable: nothing was saved, so say "try again"
    (503 with Retry-After) rather than "something broke"."""
    if not _is_transient(error):
        raise error
    try:
        db.session.rollback()
    except Exception:  # a dead connection may refuse even that; the session is discarded anyway
        current_app.logger.exception("rollback after a database error failed")
    current_app.logger.error("database unavailable, answered 503: %s", error.orig)
    # The rest of this request must not touch the database again (it would wait and fail
    # once more): the page's header and the cache rule see a visitor. The member stays
    # logged in; only this answer is rendered without their balance.
    login_manager._update_request_context_with_user()  # anonymous, for this request only
    text = _("The bank is busy or its storage is full right now. Nothing was saved; "
             "please try again in a moment.")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if wants_json():
        return jsonify(error_body("try_again", text)), 503, headers
    return render_template("error.html", status=503, message=text), 503, headers


def _unexpected_error(error: Exception):
    db.session.rollback()
    current_app.logger.exception("unhandled error")
    return _http_error(InternalServerError())


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(IntegrityError, _constraint_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    if not app.testing:
        app.register_error_handler(Exception, _unexpected_error)
