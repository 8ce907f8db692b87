"""Reminders and lone-visit safety, and the centre's "today" board.

The worker's minute task (carebank/visits/delivery.py) runs each rule with the time it runs
at. A rule finds the visits due for it, claims them with one conditional UPDATE (marker still
NULL → now) and tells whoever it tells in the same transaction: of two workers running at once
one claims a visit and the other finds it taken; a run that rolls back has claimed nothing.

How far back a run looks, so that a worker that missed runs still sends each notice once:
- the day-before reminder while the visit is 24 h to 20 h away, and only for a visit planned
  more than 24 h ahead (one arranged later gets only the 2 h one);
- the 2 h reminder while it is 2 h to 30 min away (closer, the carer is already on the way);
- "no check-in" from start + 30 min for 12 h (older news helps no one; the board still shows
  the visit as a no-show by its time);
- "please confirm" from check-out + 2 h, and the lone-visit alert from the end + 30 min, for
  as long as it takes: they stay true until someone acts.

A visit with no check-in is flagged (`late_flagged_at`), not moved to `no_show`: a carer who is
late can still check in (check-in takes a scheduled visit), and only a party or the centre
says who did not come (`no_show_party`).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from carebank.centres.services import exchange_scope, manages_exchange, require_coordinator
from carebank.core.converters import by_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotFound, ValidationFailed
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.members.models import Member
from carebank.visits import events
from carebank.visits.models import Visit, VisitStatus

DAY_BEFORE, DAY_BEFORE_LAST = timedelta(hours=24), timedelta(hours=20)
SOON, SOON_LAST = timedelta(hours=2), timedelta(minutes=30)
GRACE = timedelta(minutes=30)  # after the start for a check-in, after the end for a check-out
LATE_CATCH_UP = timedelta(hours=12)
CONFIRM_AFTER = timedelta(hours=2)
NOTE_MAX_LENGTH = 500

SCHEDULED, CHECKED_IN, CHECKED_OUT = VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN, VisitStatus.CHECKED_OUT


# The rules -------------------------------------------------------------------------------------

def remind_day_before(session: Session, now: datetime) -> list[int]:
    """Both parties, 24 h before; the ids of the visits told."""
    found = _unmarked(session, Visit.reminded_day_before_at, *_planned(),
                      Visit.starts_at > now + DAY_BEFORE_LAST, Visit.starts_at <= now + DAY_BEFORE)
    arranged_early = [v for v in found if v.created_at <= v.starts_at - DAY_BEFORE]
    return _tell(session, arranged_early, Visit.reminded_day_before_at, now,
                 lambda visit: events.reminder(session, visit, "visit_tomorrow"), Visit.status == SCHEDULED)


def remind_soon(session: Session, now: datetime) -> list[int]:
    """Both parties, 2 h before."""
    found = _unmarked(session, Visit.reminded_soon_at, *_planned(),
                      Visit.starts_at > now + SOON_LAST, Visit.starts_at <= now + SOON)
    return _tell(session, found, Visit.reminded_soon_at, now,
                 lambda visit: events.reminder(session, visit, "visit_soon"), Visit.status == SCHEDULED)


def flag_not_started(session: Session, now: datetime) -> list[int]:
    """No check-in by the start + 30 min: flagged, both parties and the centre told."""
    found = _unmarked(session, Visit.late_flagged_at, *_planned(), Visit.checked_in_at.is_(None),
                      Visit.starts_at <= now - GRACE, Visit.starts_at > now - LATE_CATCH_UP)
    return _tell(session, found, Visit.late_flagged_at, now, lambda visit: events.not_started(session, visit),
                 Visit.status == SCHEDULED, Visit.checked_in_at.is_(None))


def alert_not_ended(session: Session, now: datetime) -> list[int]:
    """Checked in, no check-out by the end + 30 min: the centre, urgently."""
    found = _unmarked(session, Visit.overdue_alerted_at, Visit.status == CHECKED_IN,
                      Visit.overdue_resolved_at.is_(None), Visit.starts_at <= now - GRACE)
    overdue = [v for v in found if overdue_at(v) <= now]
    return _tell(session, overdue, Visit.overdue_alerted_at, now, lambda visit: events.not_ended(session, visit),
                 Visit.status == CHECKED_IN, Visit.overdue_resolved_at.is_(None))


def nudge_to_confirm(session: Session, now: datetime) -> list[int]:
    """Checked out 2 h ago and not confirmed yet: the receiver is asked again."""
    found = _unmarked(session, Visit.confirm_nudged_at, Visit.status == CHECKED_OUT,
                      Visit.checked_out_at <= now - CONFIRM_AFTER)
    return _tell(session, found, Visit.confirm_nudged_at, now, lambda visit: events.to_confirm(session, visit),
                 Visit.status == CHECKED_OUT)


# Safety first: a failing reminder must not hold back the alert (delivery.py runs each apart).
RULES: tuple[Callable[[Session, datetime], list[int]], ...] = (
    alert_not_ended, flag_not_started, remind_soon, remind_day_before, nudge_to_confirm,
)


def overdue_at(visit: Visit) -> datetime:
    """When a checked-in visit with no check-out becomes a worry: 30 min past its planned end,
    counted from the check-in when the carer came late (they still stay the planned time)."""
    began = max(visit.starts_at, visit.checked_in_at or visit.starts_at)
    return began + timedelta(minutes=visit.minutes) + GRACE


def _planned() -> tuple:
    """A visit still to happen, of an exchange still on."""
    return Visit.status == SCHEDULED, Exchange.status == ExchangeStatus.ACCEPTED


def _unmarked(session: Session, marker, *conditions) -> list[Visit]:
    return list(session.scalars(sa.select(Visit).join(Exchange, Exchange.id == Visit.exchange_id)
                                .where(marker.is_(None), *conditions).order_by(Visit.starts_at, Visit.id)))


def _tell(session: Session, visits: list[Visit], marker, now: datetime, tell: Callable[[Visit], None],
          *still) -> list[int]:
    """Claim each visit (its marker still NULL and `still` still true), then tell of those
    claimed here; their ids."""
    if not visits:
        return []
    taken = set(session.scalars(
        sa.update(Visit).where(Visit.id.in_([v.id for v in visits]), marker.is_(None), *still)
        .values({marker: now}).returning(Visit.id).execution_options(synchronize_session=False)))
    told = [v for v in visits if v.id in taken]
    for visit in told:
        session.expire(visit, [marker.key])
        tell(visit)
    session.flush()
    return [v.id for v in told]


# The centre's board ----------------------------------------------------------------------------

# In the order the board shows them: what needs the centre now comes first.
STATES = ("overdue", "late", "no_show", "due", "in_progress", "to_confirm", "disputed", "done", "cancelled")
_BY_STATUS = {
    VisitStatus.CHECKED_IN: "in_progress", VisitStatus.CHECKED_OUT: "to_confirm",
    VisitStatus.CREDITED: "done", VisitStatus.CANCELLED: "cancelled",
    VisitStatus.NO_SHOW: "no_show", VisitStatus.DISPUTED: "disputed",
}
DAY_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def is_overdue(visit: Visit, now: datetime) -> bool:
    """Alerted and not resolved, or checked in past its time (the alert may still be on its
    way): the centre must look."""
    if visit.overdue_resolved_at is not None:
        return False
    return visit.overdue_alerted_at is not None or (visit.status is CHECKED_IN and now >= overdue_at(visit))


def board_state(visit: Visit, now: datetime) -> str:
    """Where the visit shows on the board (one of STATES)."""
    if is_overdue(visit, now):
        return "overdue"
    if visit.status is not SCHEDULED:
        return _BY_STATUS[visit.status]
    if visit.late_flagged_at is not None or now >= visit.starts_at + GRACE:
        return "no_show"
    return "late" if now >= visit.starts_at else "due"


def parse_day(text: str, tz: tzinfo, now: datetime) -> date:
    """The day asked for as YYYY-MM-DD; today (in `tz`) when none is."""
    if not text:
        return now.astimezone(tz).date()
    try:
        day = date.fromisoformat(text) if DAY_FORMAT.match(text) else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        message = _l("Give the day as year-month-day, like 2027-09-07.")
        raise ValidationFailed(message, code="bad_day", fields={"day": message})
    return day


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in UTC."""
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)


def today_board(session: Session, coordinator: Member, day: date, tz: tzinfo,
                now: datetime) -> dict[str, list[Visit]]:
    """The visits of the coordinator's members on `day` (every centre's for an admin), by
    state in STATES order. Today's board also keeps what is still open from earlier days: a
    visit in progress since yesterday, and an overdue one until it is marked resolved."""
    require_coordinator(coordinator)
    start, end = day_bounds(day, tz)
    shown = sa.and_(Visit.starts_at >= start, Visit.starts_at < end)
    if start <= now < end:
        still_open = sa.and_(Visit.starts_at < start, Visit.overdue_resolved_at.is_(None), sa.or_(
            Visit.overdue_alerted_at.is_not(None), Visit.status == CHECKED_IN))
        shown = sa.or_(shown, still_open)
    visits = session.scalars(
        sa.select(Visit).join(Exchange, Exchange.id == Visit.exchange_id)
        .where(exchange_scope(coordinator), shown)
        .options(joinedload(Visit.care_plan), joinedload(Visit.exchange).options(
            joinedload(Exchange.provider), joinedload(Exchange.receiver), joinedload(Exchange.post)))
        .order_by(Visit.starts_at, Visit.id))
    groups: dict[str, list[Visit]] = {state: [] for state in STATES}
    for visit in visits:
        groups[board_state(visit, now)].append(visit)
    return groups


# Resolving a lone-visit alert ------------------------------------------------------------------

def managed_visit(session: Session, coordinator: Member, visit_id) -> Visit:
    """A visit of the coordinator's centre (either party a member of it), or NotFound."""
    require_coordinator(coordinator)
    visit = by_id(session, Visit, visit_id)
    if visit is None or not manages_exchange(coordinator, visit.exchange):
        raise NotFound(_l("That visit does not exist."), code="visit_not_found")
    return visit


def resolve_overdue(session: Session, coordinator: Member, visit_id, note,
                    now: datetime | None = None) -> Visit:
    """The centre checked on a visit that was not checked out (called the carer, say) and
    writes down what it found; the visit leaves the board's overdue group."""
    visit = managed_visit(session, coordinator, visit_id)
    note = note.strip() if isinstance(note, str) else ""
    if not note or len(note) > NOTE_MAX_LENGTH:
        message = _l("Write what you found, in at most %(max)s characters.", max=NOTE_MAX_LENGTH)
        raise ValidationFailed(message, code="note_required", fields={"note": message})
    now = now or utcnow()
    if visit.overdue_resolved_at is None and not is_overdue(visit, now):
        raise Conflict(_l("This visit is not overdue, so there is nothing to resolve."), code="visit_not_overdue")
    done = session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.overdue_resolved_at.is_(None))
        .values(overdue_resolved_at=now, overdue_resolved_by_id=coordinator.id, overdue_note=note)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # a colleague was first
        raise Conflict(_l("Someone at the centre has already marked this visit resolved."),
                       code="overdue_already_resolved")
    session.expire(visit)
    return visit
