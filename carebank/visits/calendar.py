"""A member's private calendar feed: their visits, as carer and as the person helped, in
iCalendar (RFC 5545) for phone calendars to subscribe to, and the secret address it lives at.

One VEVENT per visit, with the UID of the visit, and no recurring master. The visits are the
truth: holidays skip or move some of them, "only this one" changes others, and only the
generated window exists. A master RRULE would show occurrences that are not visits (beyond
the window, on skipped holidays) unless every difference were patched with EXDATEs, and a
RECURRENCE-ID only means something beside such a master: a lone one is an orphan override
that some calendars (Outlook) drop. So a moved visit keeps its UID, takes its new DTSTART and
a higher SEQUENCE, and subscribed calendars replace it in place; no RECURRENCE-ID is written.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from babel.dates import format_datetime, format_skeleton
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from icalendar import Alarm, Calendar, Event, vDuration
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from carebank.careplans.models import VisitPlace
from carebank.core.errors import NotFound
from carebank.core.i18n import TIME_PATTERNS, format_minutes
from carebank.exchanges.models import Exchange
from carebank.members.models import Member
from carebank.visits.models import CalendarFeed, Visit, VisitStatus

FEED_PAST = timedelta(weeks=4)  # how far back the feed reaches
MAX_EVENTS = 2000  # a bound on one response, far above 4 weeks back and 8 ahead
REFRESH = timedelta(hours=1)  # what the feed asks calendars to poll at
TOKEN = re.compile("[a-z2-7]{52}")  # base32 of an HMAC-SHA256, lower case, unpadded
UID_DOMAIN = "carebank"


# The secret address -----------------------------------------------------------------------------

def _token(nonce: str) -> str:
    """The address's secret: an HMAC of the nonce, so the database alone cannot rebuild it."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"calendar:{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _address(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/calendar/{token}.ics"


def feed_url(session: Session, member: Member, base_url: str) -> str:
    """The member's calendar address, made on first use."""
    feed = session.get(CalendarFeed, member.id) or _add_feed(session, member)
    token = _token(feed.nonce)
    if feed.token_hash != _token_hash(token):
        # The app's secret key changed, so the old address no longer works: the same nonce
        # gives the new one.
        feed.token_hash = _token_hash(token)
        session.flush()
    return _address(base_url, token)


def new_feed_url(session: Session, member: Member, base_url: str) -> str:
    """A new calendar address for the member; the old one stops working at once."""
    feed = session.get(CalendarFeed, member.id)
    if feed is None:
        return feed_url(session, member, base_url)
    feed.nonce = secrets.token_hex(16)
    feed.token_hash = _token_hash(_token(feed.nonce))
    session.flush()
    return _address(base_url, _token(feed.nonce))


def _add_feed(session: Session, member: Member) -> CalendarFeed:
    nonce = secrets.token_hex(16)
    feed = CalendarFeed(member_id=member.id, nonce=nonce, token_hash=_token_hash(_token(nonce)))
    try:
        with session.begin_nested():
            session.add(feed)
            session.flush()
    except IntegrityError:
        # The member's other phone asked at the same instant and made it first.
        return session.get(CalendarFeed, member.id, populate_existing=True)
    return feed


def feed_member(session: Session, token) -> Member:
    """Whose calendar the address is, or NotFound for an unknown, old or malformed one.
    The row is found by the token's hash, so the lookup reveals nothing about near misses."""
    token = token.lower() if isinstance(token, str) else ""
    feed = None
    if TOKEN.fullmatch(token):
        feed = session.scalar(sa.select(CalendarFeed).where(CalendarFeed.token_hash == _token_hash(token)))
    # The HMAC check: a row made under an earlier secret key no longer opens.
    if feed is None or not hmac.compare_digest(_token(feed.nonce), token):
        raise _no_feed()
    member = session.get(Member, feed.member_id)
    if member is None or not member.is_active:
        raise _no_feed()
    return member


def _no_feed() -> NotFound:
    return NotFound(_l("This calendar address does not work (any more). Find the current one in "
                       "the app, under your calendar."), code="calendar_not_found")


# The visits ------------------------------------------------------------------------------------

def visits_of(session: Session, member_id: int, since: datetime, until: datetime | None = None,
              limit: int | None = None) -> list[Visit]:
    """The member's visits (as carer or as the person helped) starting in [since, until), in
    start order, with what a calendar shows of them loaded."""
    query = (
        sa.select(Visit).join(Visit.exchange)
        .where(sa.or_(Exchange.provider_id == member_id, Exchange.receiver_id == member_id),
               Visit.starts_at >= since)
        .options(selectinload(Visit.care_plan),
                 selectinload(Visit.exchange).options(
                     selectinload(Exchange.post),
                     selectinload(Exchange.provider).selectinload(Member.centre),
                     selectinload(Exchange.receiver).selectinload(Member.centre)))
        .order_by(Visit.starts_at, Visit.id)
    )
    if until is not None:
        query = query.where(Visit.starts_at < until)
    return list(session.scalars(query.limit(limit)))


def member_locale(member: Member) -> str:
    """The member's language if the bank speaks it, else the bank's."""
    supported = current_app.config["LANGUAGES"]
    return member.locale if member.locale in supported else current_app.config["DEFAULT_LOCALE"]


def zone_of(name: str | None) -> ZoneInfo:
    """The named time zone, else the bank's."""
    try:
        return ZoneInfo(name or current_app.config["DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def visit_zone(visit: Visit, member: Member) -> ZoneInfo:
    """The zone the visit's time is agreed in: its plan's, else the member's."""
    return zone_of(visit.care_plan.timezone if visit.care_plan else member.timezone)


def other_party(visit: Visit, member: Member) -> Member:
    exchange = visit.exchange
    return exchange.receiver if member.id == exchange.provider_id else exchange.provider


def is_moved(visit: Visit) -> bool:
    """Not at the time its plan gave it (a holiday moved it, or "only this one" changed it)."""
    if visit.overridden or visit.moved_for_holiday:
        return True
    return visit.original_start is not None and visit.starts_at != visit.original_start


def place_text(visit: Visit, member: Member) -> str:
    """Where the visit happens, said to `member` ("" for a one-off visit with no plan)."""
    if visit.care_plan is None:
        return ""
    receiver = visit.exchange.receiver
    if visit.care_plan.place is VisitPlace.CENTRE:
        centre = receiver.centre or visit.exchange.provider.centre
        if centre is None:
            return _("At the centre")
        return ", ".join(part for part in (_("At %(centre)s", centre=centre.name), centre.address) if part)
    if receiver.id == member.id:
        return _("At your home")
    home = _("At the home of %(name)s", name=receiver.name)
    return f"{home}, {receiver.neighbourhood}" if receiver.neighbourhood else home


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """"오전 10:00" / "10:00 AM" in the current language."""
    locale = str(get_locale())
    return format_datetime(moment, TIME_PATTERNS.get(locale, "h:mm a"), tzinfo=tz, locale=locale)


def local_day(moment: datetime | date, tz: ZoneInfo | None = None, skeleton: str = "MMMEd") -> str:
    """"9월 7일 (화)" / "Tue, Sep 7" in the current language ("MMMd": "9월 7일" / "Sep 7")."""
    day = moment.astimezone(tz).date() if isinstance(moment, datetime) else moment
    return format_skeleton(skeleton, day, locale=str(get_locale()))


# The feed --------------------------------------------------------------------------------------

def feed_ics(session: Session, member: Member, now: datetime, site: str) -> bytes:
    """The member's calendar as iCalendar text: every visit from four weeks ago to the end of
    what is generated, in the member's language; `site` is the bank's address for links."""
    visits = visits_of(session, member.id, since=now - FEED_PAST, limit=MAX_EVENTS)
    with force_locale(member_locale(member)):
        calendar = Calendar.new(
            name=_("Carebank visits"), description=_("Your visits, from the care time bank."),
            prodid="-//Carebank//Visits//EN", uid=f"calendar-{member.id}@{UID_DOMAIN}",
            method="PUBLISH", calscale="GREGORIAN", refresh_interval=REFRESH)
        calendar.add("x-published-ttl", vDuration(REFRESH))  # what Outlook and older Apple calendars read
        for visit in visits:
            calendar.add_component(_event(visit, member, now, site))
    # Each zone's rules for the days the visits cover (a day either side for the offsets).
    first = (visits[0].starts_at if visits else now).date() - timedelta(days=1)
    last = (visits[-1].ends_at if visits else now).date() + timedelta(days=2)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()


def _event(visit: Visit, member: Member, now: datetime, site: str) -> Event:
    tz = visit_zone(visit, member)
    cancelled = visit.status is VisitStatus.CANCELLED
    summary = summary_text(visit, member)
    event = Event.new(
        uid=f"visit-{visit.id}@{UID_DOMAIN}", stamp=now, created=visit.created_at,
        # In the plan's zone with its VTIMEZONE: phones show the agreed wall-clock time.
        start=visit.starts_at.astimezone(tz), end=visit.ends_at.astimezone(tz),
        summary=_("Cancelled: %(summary)s", summary=summary) if cancelled else summary,
        description=_description(visit, member, tz, site), sequence=sequence(visit),
        status="CANCELLED" if cancelled else "CONFIRMED", url=_exchange_url(site, visit),
    )
    place = place_text(visit, member)
    if place:
        event.add("location", place)
    if not cancelled:  # no reminder for a visit that will not happen
        event.add_component(_day_before_alarm(summary))
    return event


def summary_text(visit: Visit, member: Member) -> str:
    exchange, other = visit.exchange, other_party(visit, member)
    if exchange.provider_id == member.id:
        return _("“%(title)s” — you help %(name)s", title=exchange.post.title, name=other.name)
    return _("“%(title)s” — %(name)s helps you", title=exchange.post.title, name=other.name)


def sequence(visit: Visit) -> int:
    """RFC 5545's revision number, which a calendar compares to know an event changed: up by
    one when the visit is moved from its planned time, and by one more when it is cancelled
    (the two changes a visit can have that a calendar must show)."""
    return int(is_moved(visit)) + int(visit.status is VisitStatus.CANCELLED)


def _description(visit: Visit, member: Member, tz: ZoneInfo, site: str) -> str:
    lines = [f"{_('Visit length')}: {format_minutes(visit.minutes)}",
             _("Visit with %(name)s", name=other_party(visit, member).name)]
    if visit.status is VisitStatus.CANCELLED:
        lines.append(_("This visit was cancelled."))
    elif is_moved(visit) and visit.original_start is not None:
        moment = f"{local_day(visit.original_start, tz)} {local_time(visit.original_start, tz)}"
        lines.append(_("Moved from %(when)s", when=moment))
    centre = member.centre
    if centre is not None:
        lines.append(" ".join(part for part in (_("Your centre:"), centre.name, centre.phone) if part))
    lines.append(_exchange_url(site, visit))
    return "\n".join(lines)


def _exchange_url(site: str, visit: Visit) -> str:
    return f"{site.rstrip('/')}/exchanges/{visit.exchange_id}"


def _day_before_alarm(summary: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", timedelta(days=-1))  # relative to the start: the day before, same hour
    alarm.add("description", _("Tomorrow: %(summary)s", summary=summary))
    return alarm
