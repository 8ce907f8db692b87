"""The co-op's register: every member is in it from the day they joined (the day they signed
up, unless the centre set another) until they left or were deactivated; the centre sets each
member's class and shares. Who may vote is read off it on a record date."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.audit import services as audit
from carebank.centres.services import managed_member
from carebank.core.errors import ValidationFailed
from carebank.governance.models import MemberClass, RegisterEntry
from carebank.members.models import Member

MAX_SHARES = 100_000

CLASS_LABELS = {
    MemberClass.CARE_RECEIVER: _l("Care receivers and families"),
    MemberClass.CARER: _l("Carers and providers"),
    MemberClass.VOLUNTEER: _l("Volunteers"),
    MemberClass.STAFF: _l("Staff"),
    MemberClass.SUPPORTER: _l("Supporters"),
    MemberClass.PARTNER: _l("Partner organisations"),
}
NOT_SET = _l("Class not set")


def class_label(member_class: MemberClass | None):
    return CLASS_LABELS.get(member_class, NOT_SET) if member_class else NOT_SET


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def eligible_condition(day: date):
    """SQL: the member (outer-joined to their register line) is in the register on `day`."""
    next_day = _day_start(day + timedelta(days=1))
    return sa.and_(
        sa.or_(RegisterEntry.joined_on <= day,
               sa.and_(RegisterEntry.joined_on.is_(None), Member.created_at < next_day)),
        sa.or_(RegisterEntry.left_on.is_(None), RegisterEntry.left_on > day),
        sa.or_(Member.deactivated_at.is_(None), Member.deactivated_at >= next_day),
    )


def register_query(day: date):
    """(member id, class) of everyone in the register on `day`."""
    return (sa.select(Member.id, RegisterEntry.member_class)
            .outerjoin(RegisterEntry, RegisterEntry.member_id == Member.id)
            .where(eligible_condition(day)))


def eligible_ids(session: Session, day: date) -> set[int]:
    return set(session.scalars(register_query(day).with_only_columns(Member.id)))


def eligible_count(session: Session, day: date) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(register_query(day).subquery()))


def is_eligible(session: Session, member_id: int, day: date) -> bool:
    return session.scalar(register_query(day).where(Member.id == member_id).limit(1)
                          .with_only_columns(Member.id)) is not None


def classes_on(session: Session, day: date) -> dict[int, MemberClass | None]:
    """Each member in the register on `day`, with their class."""
    return dict(session.execute(register_query(day)).all())


def class_of(session: Session, member_id: int) -> MemberClass | None:
    return session.scalar(sa.select(RegisterEntry.member_class).where(RegisterEntry.member_id == member_id))


def entry_of(session: Session, member: Member) -> RegisterEntry | None:
    return session.get(RegisterEntry, member.id)


def set_entry(session: Session, coordinator: Member, member_id, *, member_class, joined_on=None,
              left_on=None, shares=1) -> RegisterEntry:
    """The centre sets a member's class, dates and shares in the register."""
    member = managed_member(session, coordinator, member_id)
    chosen = _member_class(member_class)
    joined = joined_on or member.created_at.date()
    shares = _shares(shares)
    if left_on is not None and left_on <= joined:
        message = _l("The day they left must be after the day they joined.")
        raise ValidationFailed(message, code="left_before_joined", fields={"left_on": message})
    entry = session.get(RegisterEntry, member.id) or RegisterEntry(member_id=member.id)
    entry.member_class, entry.joined_on, entry.left_on, entry.shares = chosen, joined, left_on, shares
    entry.updated_by_id = coordinator.id
    session.add(entry)
    session.flush()
    audit.record(session, coordinator, "register.edit", member=member,
                 reason=f"{chosen.value if chosen else '-'}; {joined.isoformat()}; shares {shares}")
    return entry


def _member_class(value) -> MemberClass | None:
    if value in (None, ""):
        return None
    try:
        return MemberClass(value)
    except ValueError:
        message = _l("Please choose one of the member classes.")
        raise ValidationFailed(message, code="invalid_member_class", fields={"member_class": message}) from None


def _shares(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SHARES:
        message = _l("Shares are a whole number from 0 to %(max)s.", max=MAX_SHARES)
        raise ValidationFailed(message, code="invalid_shares", fields={"shares": message})
    return value
