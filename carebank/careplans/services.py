"""Care plans: proposing, agreeing, ending and editing an exchange's recurring visits, making
those visits for a rolling window, and the centre's closure days.

Functions for the pages and the API (each takes the session, flushes and never commits; `now`
defaults to the clock, `policy` to the app's):
  get_plan(session, actor, plan_id)                  a plan its parties or their centre may see
  plan_visits(session, actor, plan_id)               its visits, in start order
  exchange_plans(session, actor, exchange_id)        an exchange's plans, the newest first
  propose_plan(session, actor, exchange_id, *, rrule, starts_at, minutes, until, place,
               holiday_policy, timezone=None, policy=None, now=None)
  accept_plan(session, actor, plan_id, now=None)     active, with its first 8 weeks of visits
  end_plan(session, actor, plan_id, now=None)        future visits cancelled ("plan ended")
  edit_from(session, actor, plan_id, visit_id, *, now=None, policy=None, **changes)
                                                     "this and following": a new version
  override_visit(session, actor, visit_id, starts_at=None, minutes=None, *, now=None, policy=None)
                                                     "only this one"
  generate_visits(session, plan, now)                the missing visits of the window
  extend_all(session, now)                           the worker's task: every active plan
  add_closure(session, coordinator, day, reason, now=None) / remove_closure(session, coordinator, day)
  closures(session, coordinator)                     the centre's closure days from today
  plan_summary(plan, member)                         the plan in the member's language
"""
from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from carebank.careplans import recurrence
from carebank.careplans.models import CarePlan, CentreClosure, HolidayPolicy, PlanStatus, VisitPlace
from carebank.centres.services import manages, manages_exchange
from carebank.core.converters import by_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.core.policy import Policy, current_policy
from carebank.exchanges.models import Exchange
from carebank.ledger.services import validate_minutes
from carebank.members.models import Member
from carebank.visits import events
from carebank.visits.models import Visit, VisitStatus

WINDOW = timedelta(weeks=8)
# The worker extends a plan once fewer than 7 of its 8 weeks are left, so each run touches a
# plan about once a week instead of every plan every time.
EXTEND_WHEN_LEFT = timedelta(weeks=7)
START_GRACE = timedelta(days=1)  # a plan may start this far back (agreed a little late)
STARTS_WITHIN = timedelta(days=366)
LONGEST_PLAN = timedelta(days=2 * 366)  # from the start day to `until`
LIVE = (PlanStatus.PROPOSED, PlanStatus.ACTIVE)
EDITABLE = ("rrule", "starts_at", "minutes", "until", "place", "holiday_policy", "timezone")
# Stored on the visits a plan change cancels (the visit pages translate them when shown).
PLAN_ENDED, PLAN_CHANGED, CENTRE_CLOSED = "plan ended", "plan changed", "centre closed"
URGENT_NOTICE = timedelta(hours=24)
CLOSURE_REASON_MAX_LENGTH = 200
# Every zone's day lies within this of a UTC instant on it.
DAY_REACH = timedelta(hours=38)
# How far before a window its visits and closures are read: where a holiday visit moves can
# depend on the holidays of the weeks before (recurrence._settled_day).
LOOK_BACK = timedelta(days=60)
log = logging.getLogger(__name__)


# ---- finding plans ---------------------------------------------------------------------------

def get_plan(session: Session, actor: Member, plan_id) -> CarePlan:
    """A plan of the actor's exchange, or of their centre's (coordinators)."""
    plan = by_id(session, CarePlan, plan_id)
    if plan is None:
        raise NotFound(_l("That care plan does not exist."), code="care_plan_not_found")
    if not plan.exchange.is_party(actor) and not manages_exchange(actor, plan.exchange):
        raise NotAllowed(_l("Only the two people of this exchange and their centre can see its plan."),
                         code="not_party")
    return plan


def plan_visits(session: Session, actor: Member, plan_id) -> list[Visit]:
    plan = get_plan(session, actor, plan_id)
    return list(session.scalars(sa.select(Visit).where(Visit.care_plan_id == plan.id)
                                .order_by(Visit.starts_at, Visit.id)))


def exchange_plans(session: Session, actor: Member, exchange_id) -> list[CarePlan]:
    exchange = _exchange_for(session, actor, exchange_id, manages_exchange)
    return list(session.scalars(sa.select(CarePlan).where(CarePlan.exchange_id == exchange.id)
                                .order_by(CarePlan.id.desc())))


def _exchange_for(session: Session, actor: Member, exchange_id, may_manage) -> Exchange:
    exchange = by_id(session, Exchange, exchange_id)
    if exchange is None:
        raise NotFound(_l("That exchange does not exist."), code="exchange_not_found")
    if not exchange.is_party(actor) and not may_manage(actor, exchange):
        raise NotAllowed(_l("Only the two people of this exchange and their centre can plan its visits."),
                         code="not_party")
    return exchange


def _manages_receiver(actor: Member, exchange: Exchange) -> bool:
    return manages(actor, exchange.receiver)


def plan_summary(plan: CarePlan, member: Member | None = None, *, short: bool = False) -> str:
    """The plan in plain words, in the member's language (the bank's, for no member)."""
    return recurrence.summary(plan, _language(member), short=short)


def _language(member: Member | None) -> str:
    supported, default = ("ko", "en"), "ko"
    if has_app_context():
        supported, default = current_app.config["LANGUAGES"], current_app.config["DEFAULT_LOCALE"]
    locale = member.locale if member is not None else None
    return locale if locale in supported else default


def _reader(plan: CarePlan, by: Member) -> Member:
    """Whose language a notice about the plan is written in: the party who did not act."""
    exchange = plan.exchange
    return exchange.provider if by.id == exchange.receiver_id else exchange.receiver


# ---- proposing and agreeing ------------------------------------------------------------------

def propose_plan(session: Session, actor: Member, exchange_id, *, rrule, starts_at, minutes, until,
                 place=VisitPlace.HOME, holiday_policy=HolidayPolicy.SKIP, timezone=None,
                 policy: Policy | None = None, now: datetime | None = None) -> CarePlan:
    """A party, or a coordinator who manages the receiver, proposes visits for an accepted
    exchange: status proposed, until the other party (or the centre) agrees. While a plan is
    active, a new proposal replaces it when agreed; only one proposal waits at a time.
    `starts_at` is an aware datetime (its wall-clock time in `timezone` is every visit's),
    `until` a date or "YYYY-MM-DD", `timezone` defaults to the receiver's."""
    exchange = _exchange_for(session, actor, exchange_id, _manages_receiver)
    _require_accepted(exchange)
    now = now or utcnow()
    values = _clean(dict(rrule=rrule, starts_at=starts_at, minutes=minutes, until=until, place=place,
                         holiday_policy=holiday_policy, timezone=timezone or exchange.receiver.timezone),
                    now=now, policy=policy or current_policy())
    plan = CarePlan(exchange_id=exchange.id, status=PlanStatus.PROPOSED, proposed_by_id=actor.id,
                    replaces_id=_replaced_id(session, exchange.id), **values)
    session.add(plan)
    session.flush()
    events.plan_proposed(session, plan, actor, plan_summary(plan, _reader(plan, actor)))
    return plan


def _require_accepted(exchange: Exchange) -> None:
    if not exchange.is_accepted:
        raise Conflict(_l("Visits can be planned only for an accepted exchange."), code="exchange_not_accepted")


def _replaced_id(session: Session, exchange_id: int) -> int | None:
    """The active plan a new proposal would replace; a waiting proposal blocks a second."""
    live = session.execute(sa.select(CarePlan.id, CarePlan.status).where(
        CarePlan.exchange_id == exchange_id, CarePlan.status.in_(LIVE))).all()
    if any(status is PlanStatus.PROPOSED for _, status in live):
        raise Conflict(_l("A plan for this exchange is waiting to be agreed. Agree or withdraw it first."),
                       code="plan_pending")
    return next((plan_id for plan_id, _ in live), None)


def accept_plan(session: Session, actor: Member, plan_id, now: datetime | None = None) -> CarePlan:
    """The other party, or a coordinator of their centre (for a card-only resident, or any
    resident they manage), agrees: the plan is active and its first 8 weeks of visits exist
    when this returns. The plan it replaces ends the day before it starts."""
    plan = get_plan(session, actor, plan_id)
    if actor.id == plan.proposed_by_id:
        raise NotAllowed(_l("You proposed this plan: the other person agrees it."), code="own_plan")
    _require_accepted(plan.exchange)
    now = now or utcnow()
    _claim(session, plan, PlanStatus.PROPOSED, PlanStatus.ACTIVE, accepted_by_id=actor.id, accepted_at=now)
    replaced = session.get(CarePlan, plan.replaces_id) if plan.replaces_id else None
    if replaced is not None and replaced.is_active:
        _end_from(session, replaced, _local_day(plan, plan.starts_at), actor, now, PLAN_CHANGED)
    generate_visits(session, plan, now)
    events.plan_accepted(session, plan, actor, plan_summary(plan, _reader(plan, actor)))
    return plan


def _claim(session: Session, plan: CarePlan, before: PlanStatus, after: PlanStatus, **values) -> None:
    """Move the plan's status with one conditional UPDATE, so of two phones answering at once
    one wins and the other is told it was answered."""
    moved = session.execute(
        sa.update(CarePlan).where(CarePlan.id == plan.id, CarePlan.status == before)
        .values(status=after, **values).execution_options(synchronize_session=False)
    ).rowcount == 1
    session.expire(plan)
    if not moved:
        raise _status_conflict(plan)


def _status_conflict(plan: CarePlan) -> Conflict:
    if plan.status is PlanStatus.ENDED:
        return Conflict(_l("This plan has ended."), code="plan_ended")
    if plan.status is PlanStatus.ACTIVE:
        return Conflict(_l("This plan has already been agreed."), code="plan_active")
    return Conflict(_l("This plan is still waiting to be agreed."), code="plan_proposed")


# ---- checking values -------------------------------------------------------------------------

def _clean(values: dict, *, now: datetime, policy: Policy) -> dict:
    """Every value of a plan checked and in its stored form, or ValidationFailed naming the field."""
    zone = _zone(values["timezone"])
    starts_at = _starts_at(values["starts_at"], now)
    clean = dict(
        rrule=recurrence.validate_rrule(values["rrule"]), timezone=zone, starts_at=starts_at,
        minutes=validate_minutes(values["minutes"], policy),
        until=_until(values["until"], starts_at.astimezone(ZoneInfo(zone)).date()),
        place=_choice(VisitPlace, values["place"], "place", _l("Choose the receiver's home or the centre.")),
        holiday_policy=_choice(HolidayPolicy, values["holiday_policy"], "holiday_policy",
                               _l("Choose whether a visit on a holiday is skipped or moved.")),
    )
    if recurrence.first_start(CarePlan(**clean)) is None:
        raise _invalid("until", _l("No visit of this schedule falls before the end date."))
    return clean


def _invalid(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, fields={field: message})


def _zone(name) -> str:
    name = name or recurrence.DEFAULT_ZONE
    try:
        if isinstance(name, str) and len(name) <= 64:
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise _invalid("timezone", _l("Choose a time zone like Asia/Seoul."))


def _starts_at(value, now: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _invalid("starts_at", _l("Give the first visit's date and time, with a time zone."))
    if value < now - START_GRACE:
        raise _invalid("starts_at", _l("The first visit cannot be in the past."))
    if value > now + STARTS_WITHIN:
        raise _invalid("starts_at", _l("The first visit must be within a year from now."))
    return value.replace(second=0, microsecond=0)


def _until(value, first_day: date) -> date:
    day = _day(value)
    if day is None:
        raise _invalid("until", _l("Give the end date as a date, like 2027-10-14."))
    if day < first_day:
        raise _invalid("until", _l("The end date cannot be before the first visit."))
    if day > first_day + LONGEST_PLAN:
        raise _invalid("until", _l("A plan can run for at most two years. Agree a new one after that."))
    return day


def _day(value) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _choice(kind, value, field: str, message):
    try:
        return kind(value)
    except (ValueError, TypeError):
        raise _invalid(field, message) from None


# ---- generating visits -----------------------------------------------------------------------

def generate_visits(session: Session, plan: CarePlan, now: datetime) -> list[Visit]:
    """Add the visits of an active plan that are missing from its rolling window: the first 8
    weeks from its start (from now, for a plan that started earlier), then up to now + 8 weeks,
    never past `until`. Idempotent: an occurrence that has a visit (one per plan and original
    start) is never made again, and existing visits are never changed. The new visits."""
    if not plan.is_active:
        return []
    first = max(plan.starts_at, now)
    start = plan.generated_until or first
    end = min(max(first, now) + WINDOW, _day_start(plan, plan.until + timedelta(days=1)))
    if start >= end:
        return []
    existing, taken_days = _existing(session, plan, start)
    closed = closure_days(session, plan_centre_id(plan), start - LOOK_BACK,
                          end + timedelta(days=recurrence.MOVE_SEARCH_DAYS) + DAY_REACH)
    made = [Visit(care_plan_id=plan.id, exchange_id=plan.exchange_id, original_start=o.original_start,
                  starts_at=o.starts_at, minutes=plan.minutes, moved_for_holiday=o.moved)
            for o in recurrence.occurrences(plan, start, end, closed, existing=existing, taken_days=taken_days)]
    session.add_all(made)
    plan.generated_until = end
    session.flush()
    return made


def _existing(session: Session, plan: CarePlan, start: datetime) -> tuple[set[datetime], set[date]]:
    """The original starts the plan's visits near and after `start` were made for, and the
    days those still going ahead are on (a holiday visit is not moved onto them)."""
    near = start - LOOK_BACK
    rows = session.execute(sa.select(Visit.original_start, Visit.starts_at, Visit.status).where(
        Visit.care_plan_id == plan.id, sa.or_(Visit.original_start >= near, Visit.starts_at >= near))).all()
    days = {_local_day(plan, row.starts_at) for row in rows if row.status is not VisitStatus.CANCELLED}
    return {row.original_start for row in rows if row.original_start is not None}, days


def plan_centre_id(plan: CarePlan) -> int | None:
    """The centre whose closure days the plan keeps: the receiver's (else the carer's)."""
    exchange = plan.exchange
    return exchange.receiver.centre_id or exchange.provider.centre_id


def closure_days(session: Session, centre_id: int | None, start: datetime, end: datetime) -> set[date]:
    if centre_id is None:
        return set()
    return set(session.scalars(sa.select(CentreClosure.day).where(
        CentreClosure.centre_id == centre_id,
        CentreClosure.day.between(start.date() - timedelta(days=1), end.date() + timedelta(days=1)))))


def extend_all(session: Session, now: datetime) -> int:
    """The worker's task: end active plans past their end date, and extend the others' visits
    up to now + 8 weeks (those with fewer than 7 weeks left). How many visits it made. A plan
    whose visits another process made at the same moment is left for the next run."""
    _end_finished(session, now)
    due = session.scalars(sa.select(CarePlan).where(
        CarePlan.status == PlanStatus.ACTIVE,
        sa.or_(CarePlan.generated_until.is_(None), CarePlan.generated_until < now + EXTEND_WHEN_LEFT),
    ).order_by(CarePlan.id))
    made = 0
    for plan in due:
        try:
            with session.begin_nested():
                made += len(generate_visits(session, plan, now))
        except IntegrityError:
            log.info("visits of care plan %s were made meanwhile; the next run extends it", plan.id)
    return made


def _end_finished(session: Session, now: datetime) -> None:
    """Active plans whose last day has passed in their own time zone end."""
    candidates = session.scalars(sa.select(CarePlan).where(
        CarePlan.status == PlanStatus.ACTIVE, CarePlan.until < (now + DAY_REACH).date()))
    for plan in candidates:
        if plan.until < _local_day(plan, now):
            plan.status, plan.ended_at = PlanStatus.ENDED, now
    session.flush()


# ---- ending and editing ----------------------------------------------------------------------

def end_plan(session: Session, actor: Member, plan_id, now: datetime | None = None) -> CarePlan:
    """A party or their centre ends a plan (or withdraws or declines a proposal): its future
    scheduled visits are cancelled ("plan ended"); visits that have begun or passed stay."""
    plan = get_plan(session, actor, plan_id)
    now = now or utcnow()
    was = plan.status
    if was is PlanStatus.ENDED:
        raise _status_conflict(plan)
    _claim(session, plan, was, PlanStatus.ENDED, ended_at=now)
    _cancel_visits(session, plan, Visit.starts_at > now, actor, now, PLAN_ENDED)
    return plan


def _end_from(session: Session, plan: CarePlan, day: date, actor: Member, now: datetime, reason: str) -> None:
    """The plan ends the day before `day`: its scheduled visits from that day on are cancelled."""
    _claim(session, plan, PlanStatus.ACTIVE, PlanStatus.ENDED, ended_at=now,
           until=min(plan.until, day - timedelta(days=1)))
    boundary = _day_start(plan, day)
    _cancel_visits(session, plan, sa.and_(Visit.original_start >= boundary, Visit.starts_at > now),
                   actor, now, reason)


def _cancel_visits(session: Session, plan: CarePlan, condition, actor: Member, now: datetime, reason: str) -> None:
    """Cancel the plan's scheduled visits matching `condition`: a conditional UPDATE, so a
    visit checked in at the same moment stays checked in. Cancelled rather than deleted: the
    calendar feeds tell phones they are off, and nothing a visit may be linked to is lost."""
    session.execute(
        sa.update(Visit).where(Visit.care_plan_id == plan.id, Visit.status == VisitStatus.SCHEDULED, condition)
        .values(status=VisitStatus.CANCELLED, cancelled_at=now, cancelled_by_id=actor.id, cancel_reason=reason)
        .execution_options(synchronize_session="fetch"))
    session.flush()


def edit_from(session: Session, actor: Member, plan_id, visit_id, *, now: datetime | None = None,
              policy: Policy | None = None, **changes) -> CarePlan:
    """"This and following": the plan ends the day before this visit's day and a new active
    version (replaces_id → the old one) starts at this visit with `changes` (any of rrule,
    starts_at, minutes, until, place, holiday_policy, timezone), with its visits made. The old
    version's scheduled visits from that day on are cancelled ("plan changed"); visits before
    it, and any that have begun, never change. The new plan."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(_l("Only the schedule, time, length, end, place and holiday choice can change."),
                               code="not_editable")
    plan = get_plan(session, actor, plan_id)
    if not plan.is_active:
        raise _status_conflict(plan) if plan.status is PlanStatus.ENDED else Conflict(
            _l("Agree the plan before changing its visits."), code="plan_proposed")
    now = now or utcnow()
    visit = _future_visit(session, plan, visit_id, now)
    values = _clean({**_plan_values(plan), "starts_at": visit.original_start, **changes},
                    now=now, policy=policy or current_policy())
    day = _local_day(plan, visit.original_start)
    if values["starts_at"].astimezone(ZoneInfo(values["timezone"])).date() < day:
        raise _invalid("starts_at", _l("The new schedule starts on this visit's day or later."))
    _end_from(session, plan, day, actor, now, PLAN_CHANGED)
    new = CarePlan(exchange_id=plan.exchange_id, status=PlanStatus.ACTIVE, proposed_by_id=actor.id,
                   accepted_by_id=actor.id, accepted_at=now, replaces_id=plan.id, **values)
    session.add(new)
    session.flush()
    generate_visits(session, new, now)
    events.plan_accepted(session, new, actor, plan_summary(new, _reader(new, actor)))
    return new


def _plan_values(plan: CarePlan) -> dict:
    return {field: getattr(plan, field) for field in EDITABLE}


def _future_visit(session: Session, plan: CarePlan, visit_id, now: datetime) -> Visit:
    visit = by_id(session, Visit, visit_id)
    if visit is None or visit.care_plan_id != plan.id:
        raise NotFound(_l("That visit does not exist."), code="visit_not_found")
    if visit.status is not VisitStatus.SCHEDULED or visit.starts_at <= now:
        raise Conflict(_l("Only a visit still to come can be changed."), code="visit_not_changeable")
    return visit


def override_visit(session: Session, actor: Member, visit_id, starts_at=None, minutes=None, *,
                   now: datetime | None = None, policy: Policy | None = None) -> Visit:
    """"Only this one": a party or their centre moves one scheduled visit still to come, or
    changes its minutes. It is marked overridden, so making visits again never touches it."""
    visit = by_id(session, Visit, visit_id)
    if visit is None or visit.care_plan_id is None:
        raise NotFound(_l("That visit does not exist."), code="visit_not_found")
    plan = get_plan(session, actor, visit.care_plan_id)
    now = now or utcnow()
    visit = _future_visit(session, plan, visit.id, now)
    if starts_at is None and minutes is None:
        raise ValidationFailed(_l("Give the visit's new time or length."), code="nothing_to_change")
    if starts_at is not None:
        visit.starts_at = _moved_start(starts_at, now)
    if minutes is not None:
        visit.minutes = validate_minutes(minutes, policy or current_policy())
    visit.overridden = True
    session.flush()
    return visit


def _moved_start(value, now: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _invalid("starts_at", _l("Give the visit's date and time, with a time zone."))
    if value <= now or value > now + STARTS_WITHIN:
        raise _invalid("starts_at", _l("Move the visit to a time still to come, within a year."))
    return value.replace(second=0, microsecond=0)


# ---- the centre's closure days ---------------------------------------------------------------

def _coordinators_centre(coordinator: Member) -> int:
    if not coordinator.is_coordinator or coordinator.centre_id is None:
        raise NotAllowed(_l("Only a centre's coordinators can set its closure days."), code="not_coordinator")
    return coordinator.centre_id


def closures(session: Session, coordinator: Member, since: date | None = None) -> list[CentreClosure]:
    centre_id = _coordinators_centre(coordinator)
    since = since or utcnow().date()
    return list(session.scalars(sa.select(CentreClosure).where(
        CentreClosure.centre_id == centre_id, CentreClosure.day >= since).order_by(CentreClosure.day)))


def add_closure(session: Session, coordinator: Member, day, reason="", now: datetime | None = None) -> CentreClosure:
    """The coordinator's centre is closed on `day` (a date or "YYYY-MM-DD"; a typhoon, an
    ad-hoc holiday). Visits made from now on keep it like a public holiday, and so do the
    visits already scheduled on it: each plan's own policy cancels them ("skip") or moves them
    to its next free working day ("move"), and a cancellation is told to both parties. A
    closure is often announced a day or two ahead, well inside the 8 weeks already made, so
    leaving those visits alone would make it useless. The closure."""
    centre_id = _coordinators_centre(coordinator)
    now = now or utcnow()
    found = _day(day)
    if found is None or found < now.date() - timedelta(days=1):
        raise _invalid("day", _l("Give a closure day that is today or later."))
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) > CLOSURE_REASON_MAX_LENGTH:
        raise _invalid("reason", _l("A reason can be at most %(max)s characters.", max=CLOSURE_REASON_MAX_LENGTH))
    closure = CentreClosure(centre_id=centre_id, day=found, reason=reason, created_by_id=coordinator.id)
    try:
        with session.begin_nested():
            session.add(closure)
            session.flush()
    except IntegrityError:
        raise Conflict(_l("The centre is already closed on that day."), code="closure_exists") from None
    for visit in _scheduled_on(session, centre_id, found, now):
        _keep_closure(session, visit, coordinator, now, reason)
    return closure


def remove_closure(session: Session, coordinator: Member, day) -> None:
    """The centre opens on `day` after all. Visits the closure cancelled or moved stay as they
    are (people were told; undoing it silently would confuse them); visits made from now on
    fall on it as usual."""
    centre_id = _coordinators_centre(coordinator)
    closure = session.scalar(sa.select(CentreClosure).where(
        CentreClosure.centre_id == centre_id, CentreClosure.day == _day(day)))
    if closure is None:
        raise NotFound(_l("The centre is not closed on that day."), code="closure_not_found")
    session.delete(closure)
    session.flush()


def _scheduled_on(session: Session, centre_id: int, day: date, now: datetime) -> list[Visit]:
    """Scheduled plan visits still to come on `day` (in each plan's zone) of the centre's plans."""
    receiver, provider = aliased(Member), aliased(Member)
    noon = datetime.combine(day, time(12), tzinfo=UTC)
    visits = session.scalars(
        sa.select(Visit).join(CarePlan, CarePlan.id == Visit.care_plan_id)
        .join(Exchange, Exchange.id == Visit.exchange_id)
        .join(receiver, receiver.id == Exchange.receiver_id).join(provider, provider.id == Exchange.provider_id)
        .where(Visit.status == VisitStatus.SCHEDULED, Visit.starts_at > now,
               Visit.starts_at.between(noon - DAY_REACH, noon + DAY_REACH),
               sa.func.coalesce(receiver.centre_id, provider.centre_id) == centre_id)
        .order_by(Visit.starts_at))
    return [v for v in visits if _local_day(v.care_plan, v.starts_at) == day]


def _keep_closure(session: Session, visit: Visit, coordinator: Member, now: datetime, reason: str) -> None:
    plan = visit.care_plan
    day = _local_day(plan, visit.starts_at)
    target = None
    if plan.holiday_policy is HolidayPolicy.MOVE:
        closed = closure_days(session, plan_centre_id(plan), visit.starts_at, visit.starts_at + timedelta(
            days=recurrence.MOVE_SEARCH_DAYS))
        target = recurrence.next_free_day(day, closed, _plan_days(session, plan), plan.until)
    if target is not None:
        wall = visit.starts_at.astimezone(_zone_of(plan)).time()
        visit.starts_at = datetime.combine(target, wall, tzinfo=_zone_of(plan)).astimezone(UTC)
        visit.moved_for_holiday = True
        session.flush()
        return
    said = f"{CENTRE_CLOSED}: {reason}" if reason else CENTRE_CLOSED
    cancelled = session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.status == VisitStatus.SCHEDULED)
        .values(status=VisitStatus.CANCELLED, cancelled_at=now, cancelled_by_id=coordinator.id, cancel_reason=said)
        .execution_options(synchronize_session="fetch")).rowcount == 1
    if cancelled:  # not when it was checked in at this very moment
        events.cancelled(session, visit, coordinator, said, urgent=visit.starts_at - now < URGENT_NOTICE)


def _plan_days(session: Session, plan: CarePlan) -> set[date]:
    starts = session.scalars(sa.select(Visit.starts_at).where(
        Visit.care_plan_id == plan.id, Visit.status != VisitStatus.CANCELLED))
    return {_local_day(plan, s) for s in starts}


# ---- time ------------------------------------------------------------------------------------

def _zone_of(plan: CarePlan) -> ZoneInfo:
    return ZoneInfo(plan.timezone or recurrence.DEFAULT_ZONE)


def _local_day(plan: CarePlan, moment: datetime) -> date:
    return moment.astimezone(_zone_of(plan)).date()


def _day_start(plan: CarePlan, day: date) -> datetime:
    """Midnight at the start of `day` in the plan's zone, as UTC."""
    return datetime.combine(day, time.min, tzinfo=_zone_of(plan)).astimezone(UTC)
