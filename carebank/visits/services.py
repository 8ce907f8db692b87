"""The visit life cycle: scheduled → checked in → checked out → credited, or cancelled, missed
(no-show) or disputed.

Every change of state is one conditional UPDATE from the states that allow it, so of two
requests racing (two phones, a replay, a party and the centre) exactly one moves the visit and
the other is told why not, changing nothing. Confirming claims the visit (credited, with no
transaction yet) before the ledger moves, in the same database transaction, so a visit is
credited by exactly one transaction, linked to it.

Functions for the pages and the API (each takes the session, flushes and never commits):
  visit_for(session, member, visit_id)                       a visit its parties or centre may see
  my_visits(session, member, start, end)                     the member's visits, in start order
  check_in(session, carer, visit_id, *, method, card, pin, now)
  check_out(session, carer, visit_id, now)
  confirm(session, actor, visit_id, minutes, *, card, pin, policy)
  cancel(session, actor, visit_id, reason, now)
  mark_no_show(session, actor, visit_id, party, now)
  dispute(session, member, visit_id, reason, now)
  schedule_one_off(session, actor, exchange_id, starts_at, minutes, *, now, policy)
  attach_code(session, exchange, transaction, now)           a code or PIN check-in's credit
  default_minutes(visit, policy)                             what confirm credits if not told
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.careplans.models import CarePlan, PlanStatus
from carebank.centres.services import manages, manages_exchange
from carebank.checkins import services as checkins
from carebank.confirmations.services import require_active_parties
from carebank.core.converters import by_id
from carebank.core.database import UTCDateTime, utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.core.policy import Policy, current_policy
from carebank.disputes import services as disputes
from carebank.exchanges.models import Exchange
from carebank.exchanges.services import get_exchange
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction
from carebank.members.models import Member
from carebank.notifications.preferences import member_zone
from carebank.visits import events
from carebank.visits.models import Visit, VisitStatus

S = VisitStatus
# Not yet credited, and still going ahead: what a confirmation (or a code) may credit.
PENDING = (S.SCHEDULED, S.CHECKED_IN, S.CHECKED_OUT)
# A carer who arrives after being marked missing may still check in (the flag stays).
CHECK_IN_FROM = (S.SCHEDULED, S.NO_SHOW)
DISPUTABLE = (S.SCHEDULED, S.CHECKED_IN, S.CHECKED_OUT, S.CREDITED, S.NO_SHOW)
PARTIES = ("provider", "receiver")
APP_METHODS = ("app", "qr")  # without the resident's card: the app, or the QR on their phone

LATE_AFTER = timedelta(minutes=20)
# Earlier than this a tap is more likely the wrong visit than an early arrival.
EARLY_CHECK_IN = timedelta(hours=1)
URGENT_NOTICE = timedelta(hours=24)
ROUND_TO = 5
REASON_MAX_LENGTH = 500
ONE_OFF_AHEAD = timedelta(days=366)
# A local day lasts at most 25 hours (a daylight-saving change): its visits are this near any instant of it.
DAY_REACH = timedelta(hours=25)


# ---- finding visits --------------------------------------------------------------------------


def visit_for(session: Session, member: Member, visit_id) -> Visit:
    """A visit of the member's exchanges, or of their centre's (coordinators)."""
    visit = by_id(session, Visit, visit_id)
    if visit is None:
        raise NotFound(_l("That visit does not exist."), code="visit_not_found")
    if not visit.exchange.is_party(member) and not manages_exchange(member, visit.exchange):
        raise NotAllowed(_l("Only the two people of this visit and their centre can see it."),
                         code="not_party")
    return visit


def my_visits(session: Session, member: Member, start: datetime, end: datetime) -> list[Visit]:
    """The member's visits (as carer or as the person helped) starting in [start, end)."""
    return list(session.scalars(
        sa.select(Visit).join(Exchange, Visit.exchange_id == Exchange.id)
        .where(sa.or_(Exchange.provider_id == member.id, Exchange.receiver_id == member.id),
               Visit.starts_at >= start, Visit.starts_at < end)
        .order_by(Visit.starts_at, Visit.id)
    ))


def visit_zone(visit: Visit) -> ZoneInfo:
    """The zone the visit's day is counted in: its plan's, else the receiver's."""
    if visit.care_plan is not None:
        try:
            return ZoneInfo(visit.care_plan.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return member_zone(visit.exchange.receiver)


# ---- check-in and check-out ------------------------------------------------------------------


def check_in(session: Session, carer: Member, visit_id, *, method: str = "app", card=None, pin=None,
             now: datetime | None = None) -> Visit:
    """The carer arrives. A card-only resident's card must be scanned (`card`: the QR's text),
    and a PIN typed with it is checked, counting a wrong one towards the card's lock. Checking
    in 20 minutes or more after the start flags the visit late."""
    visit = _carers_visit(session, carer, visit_id)
    now = now or utcnow()
    _require_state(visit, CHECK_IN_FROM)
    _require_agreed(visit.exchange)
    if now < visit.starts_at - EARLY_CHECK_IN:
        raise Conflict(_l("It is too early to check in: you can check in from an hour before the visit."),
                       code="too_early")
    method = _check_in_method(session, visit, method, card, pin)  # last: a wrong PIN is kept
    values = {"status": S.CHECKED_IN, "checked_in_at": now, "checked_in_by_id": carer.id,
              "check_in_method": method}
    if now - visit.starts_at >= LATE_AFTER:
        # Kept if the no-show task (or an earlier check-in) flagged it first.
        values["late_flagged_at"] = sa.func.coalesce(Visit.late_flagged_at, sa.literal(now, UTCDateTime()))
    _move(session, visit, CHECK_IN_FROM, **values)
    return visit


def check_out(session: Session, carer: Member, visit_id, now: datetime | None = None) -> Visit:
    """The carer leaves; the visit lasted from check-in to now. Allowed even if the exchange
    ended meanwhile: the centre must know the carer is out."""
    visit = _carers_visit(session, carer, visit_id)
    _require_state(visit, (S.CHECKED_IN,))
    now = max(now or utcnow(), visit.checked_in_at)
    _move(session, visit, (S.CHECKED_IN,), status=S.CHECKED_OUT, checked_out_at=now,
          checked_out_by_id=carer.id)
    return visit


def _carers_visit(session: Session, carer: Member, visit_id) -> Visit:
    visit = visit_for(session, carer, visit_id)
    if carer.id != visit.exchange.provider_id:
        raise NotAllowed(_l("Only the carer of this visit can check in and out."), code="not_carer")
    return visit


def _check_in_method(session: Session, visit: Visit, method, card, pin) -> str:
    """How the carer showed they are there: the app alone, or the resident's card (and PIN)."""
    receiver = visit.exchange.receiver
    if card is None:
        if not receiver.has_login:
            message = _l("Scan %(name)s's member card to check in.", name=receiver.name)
            raise ValidationFailed(message, code="card_required", fields={"card": message})
        if method not in APP_METHODS:
            raise ValidationFailed(_l("Choose how you check in."), code="invalid_method")
        return method
    resident_card = _receivers_card(session, visit, card)
    if not pin:
        return "card"
    if resident_card.member.pin_hash is None:
        message = _l("%(name)s has no PIN. Check in with the card alone.", name=receiver.name)
        raise ValidationFailed(message, code="no_pin", fields={"pin": message})
    checkins.check_pin(session, resident_card, pin)
    return "pin"


def _receivers_card(session: Session, visit: Visit, text) -> MemberCard:
    """The scanned card, which must be the receiver's working card."""
    card = cards.find_card(session, text)
    receiver = visit.exchange.receiver
    if card.member_id != receiver.id:
        message = _l("This is not %(name)s's card.", name=receiver.name)
        raise ValidationFailed(message, code="wrong_card", fields={"card": message})
    cards.require_usable(card)
    return card


# ---- confirming: the visit's one transaction ---------------------------------------------------


def default_minutes(visit: Visit, policy: Policy) -> int | None:
    """The checked-in time rounded to 5 minutes (at least 5), at most one transfer's limit;
    None before check-out."""
    if visit.checked_in_at is None or visit.checked_out_at is None:
        return None
    minutes = (visit.checked_out_at - visit.checked_in_at).total_seconds() / 60
    rounded = max(ROUND_TO, int(minutes / ROUND_TO + 0.5) * ROUND_TO)
    return min(rounded, policy.max_minutes)


def confirm(session: Session, actor: Member, visit_id, minutes=None, *, card=None, pin=None,
            policy: Policy) -> Visit:
    """Confirm the minutes (default: the checked-in time) and credit them: the receiver
    after check-out; the carer with the resident's card and PIN; or a coordinator of the
    receiver's centre, who may also confirm a visit not checked out (minutes then required).
    A visit is credited once: a second confirmation is a Conflict and moves nothing."""
    visit = visit_for(session, actor, visit_id)
    states, by_card = _confirm_rule(visit, actor, card)
    _require_state(visit, states)
    now = utcnow()
    if visit.status is S.SCHEDULED and now < visit.starts_at:
        raise _state_conflict(visit)  # the centre confirms a visit that was due, not one to come
    minutes = _confirmed_minutes(visit, minutes, policy)
    _require_agreed(visit.exchange)
    require_active_parties(visit.exchange)
    confirmed_by = actor
    if by_card:
        confirmed_by = _resident_consents(session, visit, card, pin)  # last: a wrong PIN is kept
    _credit(session, visit, states, minutes, actor=actor, confirmed_by=confirmed_by, now=now, policy=policy)
    return visit


def _credit(session: Session, visit: Visit, states, minutes: int, *, actor: Member, confirmed_by: Member,
            now: datetime, policy: Policy) -> None:
    """Claim the visit, then write its transaction and link it: all or nothing."""
    exchange = visit.exchange
    with session.begin_nested():
        _claim(session, visit, states, minutes=minutes, by=confirmed_by, now=now)
        transaction = ledger.credit_visit(
            session, exchange.provider_id, exchange.receiver_id, minutes, exchange_id=exchange.id,
            created_by_id=actor.id, policy=policy, memo=exchange.post.title[:ledger.MEMO_MAX_LENGTH],
        )
        _link(session, visit, transaction)


def _confirm_rule(visit: Visit, actor: Member, card) -> tuple[tuple[VisitStatus, ...], bool]:
    """From which states the actor may confirm, and whether with the resident's card."""
    exchange = visit.exchange
    if actor.id == exchange.receiver_id:
        return (S.CHECKED_OUT,), False
    if actor.id == exchange.provider_id:
        if card is None:
            raise NotAllowed(_l("%(name)s confirms the time of your visit, or types their PIN on your "
                                "phone after you scan their card.", name=exchange.receiver.name),
                             code="not_receiver")
        return (S.CHECKED_OUT,), True
    if manages(actor, exchange.receiver):
        return PENDING, False
    raise NotAllowed(_l("Only the person visited, or their centre, can confirm this visit."),
                     code="not_receiver")


def _confirmed_minutes(visit: Visit, minutes, policy: Policy) -> int:
    if minutes is not None:
        return ledger.validate_minutes(minutes, policy)
    default = default_minutes(visit, policy)
    if default is None:
        message = _l("Enter the time of the visit.")
        raise ValidationFailed(message, code="minutes_required", fields={"minutes": message})
    return default


def _resident_consents(session: Session, visit: Visit, card, pin) -> Member:
    """The resident confirms on the carer's phone: their working card and their PIN."""
    resident_card = _receivers_card(session, visit, card)
    resident = resident_card.member
    if resident.pin_hash is None:
        raise Conflict(_l("%(name)s has no PIN. Ask the centre to confirm this visit.", name=resident.name),
                       code="no_pin")
    if not pin:
        message = _l("Ask %(name)s to type their PIN.", name=resident.name)
        raise ValidationFailed(message, code="pin_required", fields={"pin": message})
    checkins.check_pin(session, resident_card, pin)
    return resident


def _claim(session: Session, visit: Visit, states, *, minutes: int, by: Member | int | None,
           now: datetime, **values) -> None:
    """Mark the visit credited unless it already is (or left `states`): one UPDATE, so of
    two confirmations only one goes on to the ledger. Raises Conflict for the other."""
    claimed = session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id, Visit.status.in_(states), Visit.transaction_id.is_(None))
        .values(status=S.CREDITED, confirmed_minutes=minutes, confirmed_at=now,
                confirmed_by_id=getattr(by, "id", by), **values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    session.expire(visit)
    if not claimed:
        raise _state_conflict(visit)


def _link(session: Session, visit: Visit, transaction: Transaction) -> None:
    session.execute(
        sa.update(Visit).where(Visit.id == visit.id).values(transaction_id=transaction.id)
        .execution_options(synchronize_session=False)
    )
    session.expire(visit)


def attach_code(session: Session, exchange: Exchange, transaction: Transaction, now: datetime) -> Visit | None:
    """A confirmation code (or a card PIN check-in) credited this exchange: the visit of that
    local day it confirms — not yet credited, nearest to `now` — is credited by it, with the
    code's minutes. None when the day has no such visit (nothing changes)."""
    minutes = max(posting.minutes for posting in transaction.postings)
    for visit in _same_day_pending(session, exchange.id, now):
        try:
            with session.begin_nested():
                _claim(session, visit, PENDING, minutes=minutes, by=transaction.created_by_id, now=now,
                       transaction_id=transaction.id)
        except Conflict:
            continue  # confirmed (or cancelled) by another request meanwhile: the next one
        return visit
    return None


def _same_day_pending(session: Session, exchange_id: int, now: datetime) -> list[Visit]:
    """The exchange's uncredited visits on now's local day, nearest first."""
    near = session.scalars(sa.select(Visit).where(
        Visit.exchange_id == exchange_id, Visit.status.in_(PENDING), Visit.transaction_id.is_(None),
        Visit.starts_at > now - DAY_REACH, Visit.starts_at < now + DAY_REACH,
    ))

    def same_day(visit: Visit) -> bool:
        zone = visit_zone(visit)
        return visit.starts_at.astimezone(zone).date() == now.astimezone(zone).date()

    return sorted((v for v in near if same_day(v)), key=lambda v: (abs(v.starts_at - now), v.id))


# ---- when a visit does not go ahead ----------------------------------------------------------


def cancel(session: Session, actor: Member, visit_id, reason, now: datetime | None = None) -> Visit:
    """A party or their centre calls off a visit that has not started, saying why. Less than
    24 hours ahead the other party is told urgently (quiet hours or not)."""
    visit = visit_for(session, actor, visit_id)
    reason = _reason(reason)
    if visit.status in (S.CHECKED_IN, S.CHECKED_OUT):
        raise Conflict(_l("A visit that has started cannot be cancelled. Check out, or report a problem."),
                       code="visit_started")
    _require_state(visit, (S.SCHEDULED,))
    now = now or utcnow()
    _move(session, visit, (S.SCHEDULED,), status=S.CANCELLED, cancelled_at=now, cancelled_by_id=actor.id,
          cancel_reason=reason)
    events.cancelled(session, visit, actor, reason, urgent=visit.starts_at - now < URGENT_NOTICE)
    return visit


def mark_no_show(session: Session, actor: Member, visit_id, party, now: datetime | None = None) -> Visit:
    """After the start, the centre (or the other party) records who did not come:
    "provider" or "receiver"."""
    visit = visit_for(session, actor, visit_id)
    if party not in PARTIES:
        message = _l("Choose who did not come.")
        raise ValidationFailed(message, code="invalid_party", fields={"party": message})
    _require_may_flag(visit, actor, party)
    _require_state(visit, (S.SCHEDULED,))
    if (now or utcnow()) < visit.starts_at:
        raise Conflict(_l("A visit can be marked as missed only after it was due to start."),
                       code="not_started")
    _move(session, visit, (S.SCHEDULED,), status=S.NO_SHOW, no_show_party=party)
    return visit


def _require_may_flag(visit: Visit, actor: Member, party: str) -> None:
    exchange = visit.exchange
    absent_id = exchange.provider_id if party == "provider" else exchange.receiver_id
    if actor.id == absent_id:
        raise NotAllowed(_l("The other person or the centre records a missed visit."), code="own_no_show")
    if not exchange.is_party(actor) and not manages_exchange(actor, exchange):
        raise NotAllowed(_l("Only the two people of this visit and their centre can see it."),
                         code="not_party")


def dispute(session: Session, member: Member, visit_id, reason, now: datetime | None = None) -> Visit:
    """A party reports a problem with a visit that was due (or happened): the visit is
    disputed and the centre gets the exchange's dispute (carebank.disputes), with the visit's
    transaction if it was credited."""
    visit = visit_for(session, member, visit_id)
    _require_state(visit, DISPUTABLE)
    if visit.status is S.SCHEDULED and (now or utcnow()) < visit.starts_at:
        raise Conflict(_l("This visit has not started yet. Cancel it instead, or write to the other person."),
                       code="not_started")
    disputes.raise_dispute(session, member, visit.exchange_id, reason, transaction_id=visit.transaction_id)
    _move(session, visit, DISPUTABLE, status=S.DISPUTED)
    return visit


# ---- one-off visits --------------------------------------------------------------------------


def schedule_one_off(session: Session, actor: Member, exchange_id, starts_at, minutes, *,
                     now: datetime | None = None, policy: Policy | None = None) -> Visit:
    """The single visit of an exchange without a care plan, once the parties agreed a time
    (a party or their centre enters it). One live one-off visit per exchange."""
    exchange = get_exchange(session, actor, exchange_id)
    _require_agreed(exchange)
    minutes = ledger.validate_minutes(minutes, policy or current_policy())
    starts_at = _future_start(starts_at, now or utcnow())
    if _has_plan(session, exchange.id):
        raise Conflict(_l("This exchange has a care plan: its visits come from the plan."), code="has_care_plan")
    # Two requests at once on PostgreSQL: the second waits here, then sees the first's visit
    # (SQLite's write transactions already run one at a time).
    session.execute(sa.select(Exchange.id).where(Exchange.id == exchange.id).with_for_update())
    if _live_one_off(session, exchange.id):
        raise Conflict(_l("This exchange already has a visit planned. Change or cancel that one."),
                       code="one_off_exists")
    visit = Visit(exchange_id=exchange.id, starts_at=starts_at, minutes=minutes, status=S.SCHEDULED)
    session.add(visit)
    session.flush()
    return visit


def _future_start(starts_at, now: datetime) -> datetime:
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        message = _l("Choose the date and time of the visit.")
        raise ValidationFailed(message, code="invalid_start", fields={"starts_at": message})
    starts_at = starts_at.astimezone(UTC)
    if not now < starts_at <= now + ONE_OFF_AHEAD:
        message = _l("Choose a time in the coming year.")
        raise ValidationFailed(message, code="invalid_start", fields={"starts_at": message})
    return starts_at


def _has_plan(session: Session, exchange_id: int) -> bool:
    return session.scalar(sa.select(CarePlan.id).where(
        CarePlan.exchange_id == exchange_id, CarePlan.status.in_((PlanStatus.PROPOSED, PlanStatus.ACTIVE))
    ).limit(1)) is not None


def _live_one_off(session: Session, exchange_id: int) -> bool:
    return session.scalar(sa.select(Visit.id).where(
        Visit.exchange_id == exchange_id, Visit.care_plan_id.is_(None), Visit.status.in_(PENDING)
    ).limit(1)) is not None


# ---- shared checks -----------------------------------------------------------------------------


def _move(session: Session, visit: Visit, states, **values) -> None:
    """Change the visit only if it is still in one of `states`: of two racing requests only one
    moves it; the other gets the Conflict saying what became of it."""
    moved = session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.status.in_(states)).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    session.expire(visit)
    if not moved:
        raise _state_conflict(visit)


def _require_state(visit: Visit, states) -> None:
    if visit.status not in states:
        raise _state_conflict(visit)


_STATE_MESSAGES = {
    S.SCHEDULED: _l("This visit has not started yet."),
    S.CHECKED_IN: _l("This visit is in progress: the carer has checked in."),
    S.CHECKED_OUT: _l("This visit has ended: the carer has checked out."),
    S.CREDITED: _l("This visit was already confirmed. Nothing more was counted."),
    S.CANCELLED: _l("This visit was cancelled."),
    S.NO_SHOW: _l("This visit was marked as missed."),
    S.DISPUTED: _l("A problem was reported with this visit. The centre will look at it."),
}


def _state_conflict(visit: Visit) -> Conflict:
    """Why the visit cannot do that now, from the state it is in."""
    code = "visit_confirmed" if visit.status is S.CREDITED else f"visit_{visit.status.value}"
    return Conflict(_STATE_MESSAGES[visit.status], code=code)


def _require_agreed(exchange: Exchange) -> None:
    if not exchange.is_accepted:
        raise Conflict(_l("This exchange has ended, so its visits can no longer go ahead."),
                       code="exchange_not_accepted")


def _reason(reason) -> str:
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > REASON_MAX_LENGTH:
        message = _l("Please say why the visit is cancelled (at most %(max)s characters).",
                     max=REASON_MAX_LENGTH)
        raise ValidationFailed(message, code="reason_required", fields={"reason": message})
    return reason
