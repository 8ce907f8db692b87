"""Local centres, and the rule that coordinators act only within their own centre.

A coordinator manages the members of their centre; an admin manages everyone. Anything a
console view loads on a coordinator's behalf goes through `managed_member` or
`managed_exchange`, so a coordinator of another centre gets "not found", exactly as if the
member did not exist.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.centres.models import Centre
from carebank.core.converters import by_id
from carebank.core.errors import NotAllowed, NotFound, ValidationFailed
from carebank.exchanges.models import Exchange
from carebank.members.models import Member, Role

NAME_MAX_LENGTH = 120


def manages(coordinator: Member, member: Member) -> bool:
    """Whether `coordinator` may see and act for `member`."""
    if not coordinator.is_coordinator:
        return False
    if coordinator.is_admin:
        return True
    return coordinator.centre_id is not None and member.centre_id == coordinator.centre_id


def manages_exchange(coordinator: Member, exchange: Exchange) -> bool:
    """An exchange is the centre's business when either party belongs to it."""
    return manages(coordinator, exchange.provider) or manages(coordinator, exchange.receiver)


def require_coordinator(member: Member) -> None:
    if not member.is_coordinator:
        raise NotAllowed(_l("Only centre coordinators can do this."), code="not_coordinator")


def managed_member(session: Session, coordinator: Member, member_id) -> Member:
    """A member the coordinator manages, or NotFound (never revealing other centres' members)."""
    require_coordinator(coordinator)
    member = by_id(session, Member, member_id)
    if member is None or not manages(coordinator, member):
        raise NotFound(_l("That member does not exist."), code="member_not_found")
    return member


def managed_exchange(session: Session, coordinator: Member, exchange_id) -> Exchange:
    require_coordinator(coordinator)
    exchange = by_id(session, Exchange, exchange_id)
    if exchange is None or not manages_exchange(coordinator, exchange):
        raise NotFound(_l("That exchange does not exist."), code="exchange_not_found")
    return exchange


def scope_filter(coordinator: Member, member_column=Member.centre_id):
    """A WHERE clause limiting a query on members (or a member's centre column) to the
    coordinator's centre; admins see every centre."""
    if coordinator.is_admin:
        return sa.true()
    if coordinator.centre_id is None:
        return sa.false()
    return member_column == coordinator.centre_id


def exchange_scope(coordinator: Member):
    """A WHERE clause on Exchange: either party belongs to the coordinator's centre."""
    if coordinator.is_admin:
        return sa.true()
    # Not correlated: the member list is the same whatever the outer query selects.
    in_centre = sa.select(Member.id).where(scope_filter(coordinator)).correlate(None)
    return sa.or_(Exchange.provider_id.in_(in_centre), Exchange.receiver_id.in_(in_centre))


def all_centres(session: Session) -> list[Centre]:
    return list(session.scalars(sa.select(Centre).order_by(Centre.name)))


def member_counts(session: Session) -> dict[int | None, int]:
    """How many members each centre has (None: those in no centre)."""
    rows = session.execute(sa.select(Member.centre_id, sa.func.count()).group_by(Member.centre_id))
    return dict(rows.all())


def staff_by_centre(session: Session) -> dict[int | None, list[Member]]:
    """Each centre's coordinators and admins, by name."""
    staff: dict[int | None, list[Member]] = {}
    query = sa.select(Member).where(Member.role != Role.MEMBER).order_by(Member.name)
    for member in session.scalars(query):
        staff.setdefault(member.centre_id, []).append(member)
    return staff


def get_centre(session: Session, centre_id) -> Centre:
    centre = by_id(session, Centre, centre_id)
    if centre is None:
        raise NotFound(_l("That centre does not exist."), code="centre_not_found")
    return centre


def centre_for_neighbourhood(session: Session, neighbourhood: str) -> Centre | None:
    """The centre serving a neighbourhood, so a member who signs up lands in the right one."""
    return next((c for c in all_centres(session) if c.serves(neighbourhood)), None)


def save_centre(session: Session, centre: Centre | None, *, name, address="", phone="",
                neighbourhoods="") -> Centre:
    """Create a centre (`centre` None) or change one."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > NAME_MAX_LENGTH:
        message = _l("A centre needs a name of at most %(max)s characters.", max=NAME_MAX_LENGTH)
        raise ValidationFailed(message, fields={"name": message})
    clash = session.scalar(sa.select(Centre.id).where(Centre.name == name))
    if clash is not None and (centre is None or clash != centre.id):
        message = _l("There is already a centre with this name.")
        raise ValidationFailed(message, code="centre_name_taken", fields={"name": message})
    centre = centre or Centre()
    centre.name = name
    centre.address = (address or "").strip()[:200]
    centre.phone = (phone or "").strip()[:40]
    centre.neighbourhoods = "\n".join(
        line.strip() for line in (neighbourhoods or "").splitlines() if line.strip()
    )
    session.add(centre)
    session.flush()
    return centre
