"""The server-rendered web pages: one blueprint per feature, all sharing these helpers."""
from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC
from urllib.parse import urlsplit

from babel import dates
from flask import Flask, abort, current_app, flash, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.core.commit import Outcome, committing
from carebank.core.errors import DomainError
from carebank.core.extensions import db, login_manager
from carebank.core.i18n import TIME_PATTERNS, format_minutes, format_signed_minutes
from carebank.members import services as members
from carebank.members.models import Member
from carebank.posts.categories import CATEGORIES, category_name


def register_blueprints(app: Flask) -> None:
    """The shell's blueprints, then every feature's pages (`<feature>/views.py`); the console
    blueprint gathers the features' `console.py` routes itself."""
    from carebank.features import feature_modules
    from carebank.web import console, main, pwa

    for module in (main, pwa, console, *feature_modules("views")):
        app.register_blueprint(module.bp)
    app.context_processor(_template_globals)
    app.add_template_filter(format_minutes, "minutes")
    app.add_template_filter(format_signed_minutes, "signed_minutes")
    app.add_template_filter(format_when, "datetime")
    app.add_template_filter(category_name, "category")
    app.after_request(_no_store_for_members)
    app.before_request(_refuse_nul_characters)


@login_manager.user_loader
def load_member(login_token: str) -> Member | None:
    # The cookies carry a login's token: an ended login (logout, password change or reset)
    # and a member the centre deactivated are logged out at their next request, copies of
    # the cookies included.
    return members.member_of_login(db.session, login_token)


login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"


def format_when(value) -> str:
    """A date spelled out and a time without seconds, in the member's zone and language
    ("Nov 23, 2026 10:00 AM", "2026. 11. 23. 오전 10:00"): easier to read than 11/23/26."""
    if not value:
        return ""
    locale, local = get_locale(), _in_members_zone(value)
    time_pattern = TIME_PATTERNS.get(str(locale), "short")
    return f"{dates.format_date(local, 'medium', locale=locale)} {dates.format_time(local, time_pattern, locale=locale)}"


def format_day(value) -> str:
    """The day of a moment in the member's zone and language ("2026. 12. 2.", "Dec 2, 2026")."""
    return dates.format_date(_in_members_zone(value), "medium", locale=get_locale()) if value else ""


def _in_members_zone(value):
    # What Flask-Babel's format_date and format_time do (a naive time is UTC), done once for
    # both halves of a moment with Babel's own formatters: they are on every card.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(get_timezone())


def _template_globals() -> dict:
    return {"categories": CATEGORIES, "current_locale": str(get_locale())}


def _refuse_nul_characters():
    """PostgreSQL cannot store or compare text holding NUL; no person types one, so a form or
    query value carrying it is refused up front (the API checks its JSON fields itself)."""
    values = [*request.args.values(), *(request.form.values() if request.form else [])]
    if any("\x00" in value for value in values):
        abort(400)


def _no_store_for_members(response):
    # Balances and ledgers are personal and phones are shared: a member's pages stay out of
    # every cache, the service worker's too (it never keeps a no-store response). A visitor's
    # page holds nothing personal: the worker may keep it to show offline, and no-cache still
    # has the browser ask us each time it is online.
    if request.endpoint != "static" and response.mimetype == "text/html":
        personal = current_user.is_authenticated
        response.headers.setdefault("Cache-Control", "no-store" if personal else "no-cache, private")
    return response


def safe_next_url(target: str | None, fallback: str = "main.home") -> str:
    """`target` if it is a path on this site, else the fallback (never an open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for(fallback)


def saving(form=None) -> AbstractContextManager[Outcome]:
    """The pages' commit point: `with saving(form) as saved: service(...)`, then `saved.ok`.
    The work is committed; a refusal is rolled back and its reason shown on `form`."""
    return committing(lambda error: show_refusal(error, form))


def show_refusal(error: DomainError, form=None) -> None:
    """Show a refused request on the form: field messages under fields, the rest flashed.
    A form may name where a service's field is shown (`SERVICE_FIELDS`)."""
    shown = False
    aliases = getattr(form, "SERVICE_FIELDS", {})
    for name, message in error.fields.items():
        field = getattr(form, aliases.get(name, name), None) if form is not None else None
        if field is not None:
            field.errors = [*field.errors, str(message)] if isinstance(field.errors, list) else [str(message)]
            shown = True
    if not shown:
        flash(str(error.message), "error")


def base_url() -> str:
    """The absolute origin for QR codes: configured, else the one this request came to."""
    return current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
