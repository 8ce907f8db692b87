"""Choosing the language and time zone of a request, and formatting minutes for people."""
from __future__ import annotations

from babel.dates import get_timezone, get_timezone_location, get_timezone_name
from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import Babel, Domain, get_locale, gettext
from flask_login import current_user

LANGUAGE_COOKIE = "lang"
# Babel's short Korean time says "AM 10:00"; the wide day period gives the usual "오전 10:00".
TIME_PATTERNS = {"ko": "aaaa h:mm"}


class RequestDomain(Domain):
    """Flask-Babel's message domain, remembering the catalogue of the request's locale:
    Flask-Babel finds it afresh for every string (12 µs each, milliseconds on a page of cards).
    Keyed by the locale object itself, so `force_locale` (a notice in its reader's language)
    gets its own catalogue and the request's again after."""

    def get_translations(self):
        babel_ctx = g.get("_flask_babel") if has_app_context() else None
        remembered = getattr(babel_ctx, "carebank_translations", None)
        if remembered is not None and remembered[0] is getattr(babel_ctx, "babel_locale", None):
            return remembered[1]
        translations = super().get_translations()
        babel_ctx = g.get("_flask_babel") if has_app_context() else None
        locale = getattr(babel_ctx, "babel_locale", None)
        if locale is not None:
            babel_ctx.carebank_translations = (locale, translations)
        return translations


class RequestBabel(Babel):
    """Flask-Babel with the request-remembering domain."""

    @property
    def domain_instance(self) -> Domain:
        domain = self.__dict__.get("_request_domain")
        if domain is None:
            domain = self.__dict__["_request_domain"] = RequestDomain(domain=self.domain)
        return domain


def install_template_gettext(app) -> None:
    """Templates' _() and ngettext() straight to the request's catalogue: Flask-Babel's own
    go through its context lookups twice for each string, and a page of cards has hundreds."""
    babel = app.extensions["babel"].instance

    def catalogue():
        return babel.domain_instance.get_translations()

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalogue().ugettext(s),
        ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )


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


def timezone_label(zone: str) -> str:
    """A time zone as a member reads it, in the current language: "서울 (대한민국 시간)",
    "New York (Eastern Time)"; an unknown name is shown as it is."""
    locale = get_locale() or current_app.config["DEFAULT_LOCALE"]
    try:
        tzinfo = get_timezone(zone)
    except LookupError:
        return zone
    if zone in ("UTC", "Etc/UTC"):
        return gettext("Coordinated Universal Time (UTC)")
    city = get_timezone_location(tzinfo, locale=locale, return_city=True)
    name = get_timezone_name(tzinfo, "long", locale=locale, zone_variant="generic")
    return f"{city} ({name})"
