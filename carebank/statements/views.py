"""Monthly statements: a member's balance and every entry of a month, printable, always in
the member's own language (a coordinator may print one for a resident who reads Korean)."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton
from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import force_locale, format_date, get_locale
from flask_login import current_user, login_required

from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.ledger.labels import KIND_WORDS
from carebank.members.models import Member
from carebank.reports.services import month_of, parse_month
from carebank.statements import services as statements

bp = Blueprint("statements", __name__)


@bp.route("/statement")
@login_required
def mine():
    # The member's own page is already in their language (profile, else their browser's).
    return render_statement(current_user, lambda month: url_for(".mine", month=month), locale=None)


def render_statement(member: Member, link: Callable[[str], str], *, locale: str | None,
                     back_url: str | None = None):
    """The statement page of `member` for the month asked for (?month=YYYY-MM, default this
    month), in `locale` if given; `link(month_text)` is the address of another month's
    statement. A bad month is a 400 page saying how to write one, in the viewer's language."""
    tz = member_zone(member)
    month_text = request.args.get("month", "")
    month = parse_month(month_text) if month_text else month_of(utcnow(), tz)
    result = statements.statement(db.session, member.id, month.year, month.month, tz)
    with force_locale(locale) if locale else nullcontext():
        return render_template(
            "statements/statement.html", statement=result, member=member, centre=member.centre,
            link=link, back_url=back_url, kind_words=KIND_WORDS, month_label=month_label,
            month_text=lambda m: m.strftime("%Y-%m"), format_date=format_date,
        )


def member_locale(member: Member) -> str:
    """The member's language if the bank speaks it, else the bank's."""
    supported = current_app.config["LANGUAGES"]
    return member.locale if member.locale in supported else current_app.config["DEFAULT_LOCALE"]


def member_zone(member: Member) -> ZoneInfo:
    """The time zone the member's months are counted in."""
    try:
        return ZoneInfo(member.timezone or current_app.config["DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def month_label(month: date, long: bool = True) -> str:
    """"March 2025" / "2025년 3월" in the current language ("Mar 2025" when not long)."""
    return format_skeleton("yMMMM" if long else "yMMM", month, locale=str(get_locale()))
