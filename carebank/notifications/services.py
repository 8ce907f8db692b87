"""Writing notifications with the change they tell of (the outbox), and the member's inbox.

`notify` only adds a row: it is committed or rolled back with the change that called it, so
a refused or failed request leaves no notification and a committed one never loses its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.centres.services import manages, require_coordinator, scope_filter
from carebank.core.converters import MAX_ID, by_id
from carebank.core.database import utcnow
from carebank.core.errors import NotFound, ValidationFailed
from carebank.members.models import Member, Role
from carebank.notifications import preferences
from carebank.notifications.kinds import KINDS, words
from carebank.notifications.models import Delivery, Notification

INBOX_SIZE = 50
MAX_MARKED = 500  # ids in one "mark read" request


def notify(session: Session, member_id: int, kind: str, *, url: str = "", urgent: bool = False,
           **params) -> Notification:
    """Tell a member of something, in the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    notification = Notification(member_id=member_id, kind=kind, url=url, urgent=urgent, params=params)
    session.add(notification)
    member = session.get(Member, member_id)
    chosen = preferences.preferences_of(session, member)
    due = preferences.hold_until(session, member, utcnow(), urgent=urgent, chosen=chosen)
    for channel in preferences.wanted_channels(session, member, kind, chosen):
        session.add(Delivery(notification=notification, channel=channel, not_before=due))
    return notification


def notify_centre(session: Session, centre_id: int | None, kind: str, *, url: str = "",
                  except_id: int | None = None, urgent: bool = False, **params) -> None:
    """Tell every coordinator of a centre (none for a member without a centre)."""
    if centre_id is None:
        return
    for coordinator_id in session.scalars(sa.select(Member.id).where(
            Member.centre_id == centre_id, Member.role == Role.COORDINATOR,
            Member.deactivated_at.is_(None))):
        if coordinator_id != except_id:
            notify(session, coordinator_id, kind, url=url, urgent=urgent, **params)


@dataclass(frozen=True)
class InboxItem:
    """A notification with its words in the reader's language."""

    notification: Notification
    title: str
    body: str


def inbox(session: Session, member: Member, *, unread_only: bool = False,
          limit: int = INBOX_SIZE) -> list[InboxItem]:
    """The member's notifications, newest first."""
    query = sa.select(Notification).where(Notification.member_id == member.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    found = session.scalars(query.order_by(Notification.id.desc()).limit(limit))
    return [InboxItem(n, *words(n.kind, n.params)) for n in found]


def unread_count(session: Session, member: Member) -> int:
    return session.scalar(sa.select(sa.func.count()).where(
        Notification.member_id == member.id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, member: Member, ids=None, *, everything: bool = False,
              now: datetime | None = None) -> int:
    """Mark the member's own notifications read (others' ids change nothing); how many."""
    statement = sa.update(Notification).where(
        Notification.member_id == member.id, Notification.read_at.is_(None))
    if not everything:
        statement = statement.where(Notification.id.in_(_valid_ids(ids)))
    result = session.execute(statement.values(read_at=now or utcnow())
                             .execution_options(synchronize_session=False))
    for loaded in [o for o in session.identity_map.values() if isinstance(o, Notification)]:
        session.expire(loaded, ["read_at"])
    return result.rowcount


def open_notification(session: Session, member: Member, notification_id: int) -> Notification:
    """One of the member's notifications, now read (another member's is "not found")."""
    found = session.get(Notification, notification_id)
    if found is None or found.member_id != member.id:
        raise NotFound(_l("That notification does not exist."), code="notification_not_found")
    if found.read_at is None:
        found.read_at = utcnow()
        session.flush()
    return found


def _valid_ids(ids) -> list[int]:
    message = _l("Send the notifications as a list of their numbers.")
    if not isinstance(ids, list) or len(ids) > MAX_MARKED or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
        raise ValidationFailed(message, fields={"ids": message})
    return ids


@dataclass(frozen=True)
class Call:
    """A member the centre should phone or hand a printed sheet, with what to tell them."""

    member: Member
    items: list[tuple[Delivery, InboxItem]]


def call_list(session: Session, coordinator: Member) -> list[Call]:
    """What each member of the centre without e-mail (a resident who may have only a card)
    should be told and has not been yet, oldest first, one entry per member."""
    require_coordinator(coordinator)
    rows = session.execute(
        sa.select(Delivery, Notification, Member).select_from(Delivery)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(Member, Member.id == Notification.member_id)
        .where(Delivery.channel == "call", Delivery.status == "queued", scope_filter(coordinator))
        .order_by(Member.name, Member.id, Notification.id)
    )
    calls: dict[int, Call] = {}
    for delivery, notification, member in rows:
        call = calls.setdefault(member.id, Call(member, []))
        call.items.append((delivery, InboxItem(notification, *words(notification.kind, notification.params))))
    return list(calls.values())


def tick_off(session: Session, coordinator: Member, member_id, *, now: datetime | None = None) -> int:
    """The coordinator has told the member everything on their list: those deliveries are sent."""
    member = by_id(session, Member, member_id)
    if member is None or not manages(coordinator, member):
        raise NotFound(_l("That member does not exist."), code="member_not_found")
    due = sa.select(Delivery.id).join(Notification).where(
        Notification.member_id == member.id, Delivery.channel == "call", Delivery.status == "queued")
    result = session.execute(
        sa.update(Delivery).where(Delivery.id.in_(due))
        .values(status="sent", sent_at=now or utcnow(), attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount
