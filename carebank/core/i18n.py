"""Choosing the language and time zone of a request, and formatting minutes for people."""
from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_babel import gettext
from flask_login import current_user

LANGUAGE_COOKIE = "lang"
# Babel's short Korean time says "AM 10:00"; the wide day period gives the usual "오전 10:00".
TIME_PATTERNS = {"ko": "aaaa h:mm"}


def select_locale() -> str:
    """The member's profile language, else the language cookie, else Accept-Language."""
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI, or a test's app context: the bank's language
        return current_app.config["DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in supported:
        return cookie
    return request.accept_languages.best_match(supported) or current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def format_minutes(minutes: int) -> str:
    """Minutes for people: "2 h 30 min", "45 min", "−1 h" (signed when negative)."""
    sign = "−" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours and rest:
        text = gettext("%(hours)s h %(minutes)s min", hours=hours, minutes=rest)
    elif hours:
        text = gettext("%(hours)s h", hours=hours)
    else:
        text = gettext("%(minutes)s min", minutes=rest)
    return sign + text


def format_signed_minutes(minutes: int) -> str:
    """A ledger amount: "+1 h" credited, "−1 h" debited."""
    return ("+" if minutes > 0 else "") + format_minutes(minutes)
