"""The password reset mail, in the member's language, and the rate limit on asking for one.

The mail is made with the reset and goes out after the reset was committed. A failure to send
is logged and changes nothing in the answer: the person asking must not learn whether the
address exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from carebank.core import rate_limits
from carebank.core.extensions import limiter
from carebank.core.i18n import TIME_PATTERNS
from carebank.core.mail import send_mail
from carebank.members.models import PasswordReset
from carebank.web import base_url

# Per address asked for (no one is sent a pile of mails) and per client address, the page and
# the API counting together.
_per_email = limiter.shared_limit(
    rate_limits.configured("RESET_RATE_LIMIT"), scope="reset-account", key_func=rate_limits.per_account,
    methods=["POST"])
_per_address = limiter.shared_limit(
    rate_limits.configured("RESET_RATE_LIMIT"), scope="reset", key_func=rate_limits.per_address,
    methods=["POST"])


def limited(view):
    """Reset requests limited per email and per client address (RESET_RATE_LIMIT)."""
    return _per_address(_per_email(view))


@dataclass(frozen=True)
class Mail:
    """A message ready to send: made before the commit (it reads the member), sent after it."""

    to: str
    subject: str
    text: str
    html: str
    language: str


def reset_mail(reset: PasswordReset, token: str) -> Mail:
    """The mail with the link, in the member's language."""
    member, language = reset.member, _language(reset.member)
    with force_locale(language):
        subject, text, html = _render(reset, token)
    return Mail(member.email, subject, text, html, language)


def send(mail: Mail) -> bool:
    """Send it (no database work, so no lock is held meanwhile); False, and logged, when it
    could not be sent."""
    try:
        send_mail(current_app._get_current_object(), mail.to, mail.subject, mail.text, mail.html,
                  language=mail.language)
    except (OSError, ValueError, UnicodeError) as error:  # smtplib's errors are OSErrors
        current_app.logger.error("password reset mail not sent: %r", error)
        return False
    return True


def _language(member) -> str:
    supported = current_app.config["LANGUAGES"]
    return member.locale if member.locale in supported else current_app.config["DEFAULT_LOCALE"]


def _render(reset: PasswordReset, token: str) -> tuple[str, str, str]:
    member = reset.member
    zone = ZoneInfo(member.timezone or current_app.config["DEFAULT_TIMEZONE"])
    values = {
        "member": member,
        "link": base_url() + url_for("auth.reset_password", token=token),
        "until": _when(reset.expires_at, zone, _language(member)),
        "by_centre": reset.requested_by_id is not None,
    }
    return (_("Set a new password for the care time bank"),
            render_template("mail/reset.txt", **values), render_template("mail/reset.html", **values))


def _when(value, zone: ZoneInfo, language: str) -> str:
    """As the pages write a time ("2026. 12. 1. 오후 3:00"), in the member's zone and language:
    the mail may be read outside any request the member made."""
    local = value.astimezone(zone)
    return f"{format_date(local, 'medium', locale=language)} " \
           f"{format_time(local, TIME_PATTERNS.get(language, 'short'), locale=language)}"
