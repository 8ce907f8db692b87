"""What the two people of a visit, and their centre, hear about care plans and visits. Each
service calls one of these in its own transaction, so the notice stands or falls with the
change (the outbox of carebank.notifications)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from carebank.careplans.models import CarePlan
from carebank.members.models import Member
from carebank.notifications.services import notify, notify_centre
from carebank.visits.models import Visit

DAY = "/visits"


def exchange_page(exchange_id: int) -> str:
    return f"/exchanges/{exchange_id}"


def _moment(visit: Visit, member: Member) -> dict:
    """The visit's start as the notification keeps it: ISO text and the reader's zone, spelled
    out in their language when it is read."""
    return {"when": visit.starts_at.isoformat(), "tz": member.timezone or "Asia/Seoul"}


def _parties(visit: Visit) -> tuple[Member, Member]:
    return visit.exchange.provider, visit.exchange.receiver


def plan_proposed(session: Session, plan: CarePlan, by: Member, summary: str) -> None:
    """Tell the party who must agree (both, if a coordinator proposed it)."""
    _tell_parties(session, plan, by, "care_plan_proposed", summary)


def plan_accepted(session: Session, plan: CarePlan, by: Member, summary: str) -> None:
    _tell_parties(session, plan, by, "care_plan_accepted", summary)


def _tell_parties(session: Session, plan: CarePlan, by: Member, kind: str, summary: str) -> None:
    """Both parties of the plan's exchange but the one who acted."""
    exchange = plan.exchange
    for member_id in (exchange.provider_id, exchange.receiver_id):
        if member_id != by.id:
            notify(session, member_id, kind, url=exchange_page(exchange.id),
                   name=by.name, title=exchange.post.title, summary=summary)


def reminder(session: Session, visit: Visit, kind: str) -> None:
    """"visit_tomorrow" or "visit_soon", to both parties."""
    provider, receiver = _parties(visit)
    for member, other in ((provider, receiver), (receiver, provider)):
        notify(session, member.id, kind, url=exchange_page(visit.exchange_id),
               name=other.name, title=visit.exchange.post.title, **_moment(visit, member))


def cancelled(session: Session, visit: Visit, by: Member, reason: str, urgent: bool) -> None:
    """Tell the other party (both, if the centre cancelled); urgent when it is close."""
    provider, receiver = _parties(visit)
    for member in (provider, receiver):
        if member.id != by.id:
            notify(session, member.id, "visit_cancelled", url=exchange_page(visit.exchange_id),
                   urgent=urgent, name=by.name, title=visit.exchange.post.title, reason=reason,
                   **_moment(visit, member))


def to_confirm(session: Session, visit: Visit) -> None:
    """The receiver has not confirmed the minutes 2 h after check-out."""
    provider, receiver = _parties(visit)
    notify(session, receiver.id, "visit_to_confirm", url=exchange_page(visit.exchange_id),
           name=provider.name, title=visit.exchange.post.title, **_moment(visit, receiver))


def not_started(session: Session, visit: Visit) -> None:
    """No check-in by start + 30 min: both parties and the receiver's centre."""
    provider, receiver = _parties(visit)
    facts = {"carer": provider.name, "name": receiver.name, "title": visit.exchange.post.title}
    for member in (provider, receiver):
        notify(session, member.id, "visit_not_started", url=exchange_page(visit.exchange_id),
               **facts, **_moment(visit, member))
    notify_centre(session, receiver.centre_id, "visit_not_started", url="/console/visits/today",
                  **facts, **_moment(visit, receiver))


def not_ended(session: Session, visit: Visit) -> None:
    """Checked in, no check-out by the planned end + 30 min: the centre, urgently (quiet hours
    or not), since a carer alone in a home may need help."""
    provider, receiver = _parties(visit)
    facts = {"carer": provider.name, "name": receiver.name, **_moment(visit, receiver)}
    notify_centre(session, receiver.centre_id or provider.centre_id, "visit_not_ended",
                  url="/console/visits/today", urgent=True, **facts)
