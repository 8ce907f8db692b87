"""What the visit pages show, read-only: a visit as one member sees it (its time and state in
words, and the actions they may take now, each with its form), the visits section of an
exchange page, and the days of "My visits". The routes in views.py and careplans/views.py
change things."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from carebank.careplans import recurrence
from carebank.careplans import services as careplans
from carebank.careplans.forms import change_form, hours_and_minutes, local_wall_clock, new_plan_form
from carebank.careplans.models import CarePlan, PlanStatus
from carebank.centres.services import manages
from carebank.core.i18n import TIME_PATTERNS, format_minutes
from carebank.core.policy import Policy
from carebank.exchanges.models import Exchange
from carebank.members.models import Member
from carebank.notifications.preferences import member_zone
from carebank.visits import services as visits
from carebank.visits.forms import CancelForm, ConfirmForm, ReportForm, VisitTimeForm
from carebank.visits.models import Visit, VisitStatus

S = VisitStatus
NEXT_VISITS = 6  # on an exchange page
MY_VISITS_DAYS = 15  # today and the coming two weeks
# Shown in an exchange's next visits even from before today: they still wait for someone.
UNFINISHED = (S.CHECKED_IN, S.CHECKED_OUT)
# What a plan change or a closure wrote on the visits it cancelled (careplans.services), in words.
SYSTEM_REASONS = {
    careplans.PLAN_ENDED: _l("The visits of this plan were ended."),
    careplans.PLAN_CHANGED: _l("The plan was changed."),
    careplans.CENTRE_CLOSED: _l("The centre is closed that day."),
}


@dataclass
class VisitCard:
    """One visit as `role` sees it: "carer", "receiver", or "centre" (their coordinator)."""

    visit: Visit
    role: str
    day: str  # "Tuesday, September 7, 2027"
    times: str  # "10:00 AM–12:00 PM"
    state: str
    notes: list[str]
    buttons: set[str]  # check_in, check_out: one tap
    forms: dict[str, FlaskForm]  # confirm, cancel, report, move, change
    scan_card: bool = False  # the carer of a card-only resident checks in with their card
    confirm_minutes: int | None = None
    failed: str | None = None  # the action whose form is shown again with its errors

    @property
    def exchange(self) -> Exchange:
        return self.visit.exchange


def role_of(exchange: Exchange, member: Member) -> str:
    if member.id == exchange.provider_id:
        return "carer"
    return "receiver" if member.id == exchange.receiver_id else "centre"


def visit_card(visit: Visit, member: Member, now: datetime, policy: Policy,
               failed: tuple[str, FlaskForm] | None = None) -> VisitCard:
    role = role_of(visit.exchange, member)
    card = VisitCard(visit=visit, role=role, day=format_date(local_wall_clock(visit.starts_at).date(), "full"),
                     times=f"{clock(visit.starts_at)}–{clock(visit.ends_at)}", state=state_words(visit, role, now),
                     notes=notes(visit), buttons=buttons(visit, role, now), forms={})
    card.scan_card = _scans_card(visit, role)
    allowed = _forms_allowed(visit, role, now)
    if "confirm" in allowed:
        card.confirm_minutes = visits.default_minutes(visit, policy)
    card.forms = {name: FORMS[name](visit, card) for name in allowed}
    if failed is not None:
        action, form = failed
        card.failed, card.forms[action] = action, form
    return card


def clock(moment: datetime) -> str:
    """A time of day in the member's zone and language ("10:00 AM", "오전 10:00")."""
    return format_time(moment, TIME_PATTERNS.get(str(get_locale()), "short"))


# ---- what a member may do now ------------------------------------------------------------------


def buttons(visit: Visit, role: str, now: datetime) -> set[str]:
    found = set()
    if role == "carer" and visit.exchange.receiver.has_login and visit.exchange.is_accepted \
            and visit.status in visits.CHECK_IN_FROM and now >= visit.starts_at - visits.EARLY_CHECK_IN:
        found.add("check_in")
    if role == "carer" and visit.status is S.CHECKED_IN:
        found.add("check_out")
    return found


def _scans_card(visit: Visit, role: str) -> bool:
    return role == "carer" and not visit.exchange.receiver.has_login and visit.status in visits.CHECK_IN_FROM


def _forms_allowed(visit: Visit, role: str, now: datetime) -> list[str]:
    allowed = []
    if role == "receiver" and visit.status is S.CHECKED_OUT:
        allowed.append("confirm")
    if visit.status is S.SCHEDULED:
        allowed.append("cancel")
    if role != "centre" and visit.status in visits.DISPUTABLE and (visit.status is not S.SCHEDULED
                                                                   or now >= visit.starts_at):
        allowed.append("report")
    plan = visit.care_plan
    if plan is not None and plan.is_active and visit.status is S.SCHEDULED and visit.starts_at > now:
        allowed += ["move", "change"]
    return allowed


def _confirm_form(visit: Visit, card: VisitCard) -> ConfirmForm:
    return ConfirmForm(formdata=None, prefix=f"confirm-{visit.id}",
                       **hours_and_minutes(card.confirm_minutes or visit.minutes))


def _move_form(visit: Visit, card: VisitCard) -> VisitTimeForm:
    return VisitTimeForm(formdata=None, prefix=f"move-{visit.id}", starts_at=local_wall_clock(visit.starts_at),
                         **hours_and_minutes(visit.minutes))


FORMS = {
    "confirm": _confirm_form,
    "cancel": lambda visit, card: CancelForm(formdata=None, prefix=f"cancel-{visit.id}"),
    "report": lambda visit, card: ReportForm(formdata=None, prefix=f"report-{visit.id}"),
    "move": _move_form,
    "change": lambda visit, card: change_form(visit.care_plan, visit.original_start or visit.starts_at,
                                              prefix=f"change-{visit.id}"),
}


# ---- in words ------------------------------------------------------------------------------------


def state_words(visit: Visit, role: str, now: datetime) -> str:
    """Where the visit stands, said to this member."""
    exchange, status = visit.exchange, visit.status
    if status is S.SCHEDULED:
        return _("Due: not checked in yet") if now >= visit.starts_at else _("Planned")
    if status is S.CHECKED_IN:
        return _("In progress: checked in at %(time)s", time=clock(visit.checked_in_at))
    if status is S.CHECKED_OUT:
        if role == "receiver":
            return _("Ended at %(time)s: please confirm the time", time=clock(visit.checked_out_at))
        return _("Ended at %(time)s: waiting for %(name)s to confirm", time=clock(visit.checked_out_at),
                 name=exchange.receiver.name)
    if status is S.CREDITED:
        return _("Confirmed: %(minutes)s counted", minutes=format_minutes(visit.confirmed_minutes or 0))
    if status is S.CANCELLED:
        return _("Cancelled")
    if status is S.NO_SHOW:
        return _("Marked as missed")
    return _("Problem reported to the centre")


def notes(visit: Visit) -> list[str]:
    found = []
    if visit.status is S.CANCELLED:
        found.append(cancel_reason(visit.cancel_reason))
    if visit.late_flagged_at is not None:
        found.append(_("The check-in was late."))
    if visit.moved_for_holiday:
        found.append(_("Moved because of a holiday or a centre closure."))
    elif visit.overridden:
        found.append(_("Only this visit was changed."))
    return found


def cancel_reason(reason: str) -> str:
    """A member's own words as written; what a plan change or a closure wrote ("centre closed:
    typhoon"), in the reader's language."""
    head, _sep, detail = reason.partition(": ")
    said = SYSTEM_REASONS.get(head)
    if said is None:
        return reason
    return _("%(what)s Reason: %(reason)s", what=said, reason=detail) if detail else str(said)


def plan_words(plan: CarePlan) -> str:
    """The plan in the request's language (the member's profile may not say one)."""
    return recurrence.summary(plan, str(get_locale()))


# ---- an exchange page's visits -------------------------------------------------------------------


@dataclass
class Proposal:
    plan: CarePlan
    summary: str
    who: str  # who proposed it
    waiting: str | None  # for the proposer: who has still to agree
    may_answer: bool


def exchange_section(session: Session, exchange: Exchange, member: Member, now: datetime,
                     policy: Policy) -> dict | None:
    """The plan, its proposal, the next visits and the forms to plan some; None when the
    exchange has nothing of the kind (not agreed yet, and no visits)."""
    plans = careplans.exchange_plans(session, member, exchange.id)
    active = next((p for p in plans if p.is_active), None)
    proposed = next((p for p in plans if p.status is PlanStatus.PROPOSED), None)
    since = day_start(now.astimezone(member_zone(member)).date(), member)
    cards = [visit_card(v, member, now, policy) for v in upcoming(session, exchange.id, since)]
    if not exchange.is_accepted and not plans and not cards:
        return None
    may_plan = exchange.is_accepted and active is None and proposed is None and (
        exchange.is_party(member) or manages(member, exchange.receiver))
    one_off = any(c.visit.care_plan_id is None and c.visit.status in visits.PENDING for c in cards)
    return {
        "active": active, "active_summary": plan_words(active) if active else None,
        "proposal": proposal(session, proposed, exchange, member) if proposed else None, "cards": cards,
        "plan_form": new_plan_form(exchange.post.minutes, "plan") if may_plan else None,
        "one_off_form": one_off_form(exchange.post.minutes) if may_plan and not one_off else None,
    }


def one_off_form(minutes: int) -> VisitTimeForm:
    return VisitTimeForm(formdata=None, prefix="one-off", **hours_and_minutes(minutes))


def upcoming(session: Session, exchange_id: int, since: datetime, limit: int = NEXT_VISITS) -> list[Visit]:
    """The exchange's next visits going ahead from `since`, and any still in progress or
    waiting for confirmation from before."""
    return list(session.scalars(
        sa.select(Visit).where(
            Visit.exchange_id == exchange_id, Visit.status != S.CANCELLED,
            sa.or_(Visit.starts_at >= since, Visit.status.in_(UNFINISHED)))
        .order_by(Visit.starts_at, Visit.id).limit(limit)))


def proposal(session: Session, plan: CarePlan, exchange: Exchange, member: Member) -> Proposal:
    mine = plan.proposed_by_id == member.id
    proposer = _member(session, exchange, plan.proposed_by_id)
    who = _("You proposed these visits.") if mine else _("%(name)s proposed these visits.", name=proposer.name)
    return Proposal(plan=plan, summary=plan_words(plan), who=who,
                    waiting=waiting_for(exchange, plan.proposed_by_id) if mine else None, may_answer=not mine)


def waiting_for(exchange: Exchange, proposer_id: int) -> str:
    provider, receiver = exchange.provider, exchange.receiver
    if proposer_id == receiver.id:
        return _("Waiting for %(name)s to agree.", name=provider.name)
    if proposer_id == provider.id:
        if receiver.has_login:
            return _("Waiting for %(name)s to agree.", name=receiver.name)
        return _("Waiting for the centre to agree for %(name)s.", name=receiver.name)
    return _("Waiting for %(first)s or %(second)s to agree.", first=provider.name, second=receiver.name)


def _member(session: Session, exchange: Exchange, member_id: int) -> Member:
    if member_id in (exchange.provider_id, exchange.receiver_id):
        return exchange.provider if member_id == exchange.provider_id else exchange.receiver
    return session.get(Member, member_id)


# ---- My visits -----------------------------------------------------------------------------------


@dataclass
class Day:
    day: date
    label: str  # "Tuesday, September 7, 2027"
    relative: str | None  # "Today", "Tomorrow"
    cards: list[VisitCard]


def my_days(session: Session, member: Member, now: datetime, policy: Policy) -> list[Day]:
    """The member's visits today and in the coming two weeks, by day in their zone."""
    today = now.astimezone(member_zone(member)).date()
    start, end = day_start(today, member), day_start(today + timedelta(days=MY_VISITS_DAYS), member)
    days: dict[date, list[VisitCard]] = {}
    for visit in visits.my_visits(session, member, start, end):
        card = visit_card(visit, member, now, policy)
        days.setdefault(local_wall_clock(visit.starts_at).date(), []).append(card)
    relative = {today: _("Today"), today + timedelta(days=1): _("Tomorrow")}
    return [Day(day, format_date(day, "full"), relative.get(day), cards) for day, cards in days.items()]


def day_start(day: date, member: Member) -> datetime:
    """Midnight at the start of `day` in the member's zone, as UTC."""
    return datetime.combine(day, time(), member_zone(member)).astimezone(UTC)
