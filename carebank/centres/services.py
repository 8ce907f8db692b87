"""Local centres, and the rule that coordinators act only within their own centre.

A coordinator manages the members of their centre; an admin manages everyone. Anything a
console view loads on a coordinator's behalf goes through `managed_member` or
`managed_exchange`, so a coordinator of another centre gets "not found", exactly as if the
member did not exist.
"""
from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.centres.models import Centre, Neighbourhood, neighbourhood_key
from carebank.core.converters import by_id
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.exchanges.models import Exchange
from carebank.members.models import Member, Role
from carebank.posts.models import Post

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


def save_centre(session: Session, centre: Centre | None, *, name, address="", phone="",
                neighbourhoods="") -> Centre:
    """Create a centre (`centre` None) or change one; `neighbourhoods`, one per line, are
    added to its list (those already on it are kept)."""
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
    session.add(centre)
    session.flush()
    for line in (neighbourhoods or "").splitlines():
        if line.strip() and not centre.serves(line):
            add_neighbourhood(session, centre, line, field="neighbourhoods")
    return centre


# The list of neighbourhoods (행정동). Members and posts store an entry's name; the entry
# gives the centre. A name may exist in two districts (강남구 and 관악구 both have 신사동),
# so a typed value is resolved within the member's centre first.

NEIGHBOURHOOD_MAX_LENGTH = 80
DISTRICT_MAX_LENGTH = 40
DISTRICT_ENDINGS = ("구", "군", "시")


def split_district(line: str) -> tuple[str, str]:
    """(district, name) of a typed line: "종로구 효자동" names its district, "효자동" does not."""
    words = (line or "").split()
    if len(words) >= 2 and words[0].endswith(DISTRICT_ENDINGS):
        return words[0], " ".join(words[1:])
    return "", " ".join(words)


def neighbourhood_list(session: Session, centre_id: int | None = None) -> list[Neighbourhood]:
    """Every entry (or one centre's), by district then name."""
    query = sa.select(Neighbourhood).order_by(Neighbourhood.district, Neighbourhood.name)
    if centre_id is not None:
        query = query.where(Neighbourhood.centre_id == centre_id)
    return list(session.scalars(query))


def has_neighbourhood_list(session: Session) -> bool:
    return session.scalar(sa.select(Neighbourhood.id).limit(1)) is not None


def find_neighbourhoods(session: Session, typed) -> list[Neighbourhood]:
    """The entries a typed value may mean (several only for namesakes in two districts)."""
    key = neighbourhood_key(typed if isinstance(typed, str) else "")
    if not key:
        return []
    name = split_district(key)[1]
    query = sa.select(Neighbourhood).where(sa.func.lower(Neighbourhood.name).in_({key, name}))
    return [entry for entry in session.scalars(query) if entry.matches(typed)]


def listed_neighbourhood(session: Session, typed, *, centre_id: int | None = None,
                         field: str = "neighbourhood") -> Neighbourhood | None:
    """The list entry a value names (None for an empty value), or ValidationFailed naming
    `field`. Between namesakes the one of `centre_id` wins; otherwise the district must be said."""
    if typed is None or (isinstance(typed, str) and not typed.strip()):
        return None
    found = find_neighbourhoods(session, typed)
    if len(found) > 1:
        found = [entry for entry in found if entry.centre_id == centre_id] or found
    if len(found) == 1:
        return found[0]
    if not found and not has_neighbourhood_list(session):
        return None  # a bank without a list yet (no centre has one): free text, no centre
    if found:
        message = _l("Several districts have a neighbourhood called %(name)s: please choose one from the list.",
                     name=found[0].name)
    else:
        message = _l("Please choose your neighbourhood from the list.")
    raise ValidationFailed(message, code="neighbourhood_not_listed", fields={field: message})


def centre_for_neighbourhood(session: Session, neighbourhood: str) -> Centre | None:
    """The centre serving a neighbourhood, so a member who signs up lands in the right one."""
    found = find_neighbourhoods(session, neighbourhood)
    return found[0].centre if len(found) == 1 else None


def get_neighbourhood(session: Session, neighbourhood_id) -> Neighbourhood:
    entry = by_id(session, Neighbourhood, neighbourhood_id)
    if entry is None:
        raise NotFound(_l("That neighbourhood is not on the list."), code="neighbourhood_not_found")
    return entry


def _clean_entry(name, district, field: str) -> tuple[str, str]:
    name = " ".join(unicodedata.normalize("NFC", name if isinstance(name, str) else "").split())
    district = " ".join(unicodedata.normalize("NFC", district if isinstance(district, str) else "").split())
    if not name or len(name) > NEIGHBOURHOOD_MAX_LENGTH or len(district) > DISTRICT_MAX_LENGTH:
        message = _l("A neighbourhood needs a name of at most %(max)s characters (and a district of at most "
                     "%(district)s).", max=NEIGHBOURHOOD_MAX_LENGTH, district=DISTRICT_MAX_LENGTH)
        raise ValidationFailed(message, fields={field: message})
    return name, district


def _check_free(session: Session, centre_id: int, name: str, district: str, field: str,
                keep: Neighbourhood | None = None) -> None:
    """Refuse an entry another centre already serves, or a name twice in one centre."""
    query = sa.select(Neighbourhood).where(
        sa.func.lower(Neighbourhood.name) == name.casefold(),
        sa.or_(sa.func.lower(Neighbourhood.district) == district.casefold(), Neighbourhood.centre_id == centre_id))
    clash = next((entry for entry in session.scalars(query) if entry is not keep), None)
    if clash is not None:
        message = _l("%(neighbourhood)s is already on the list of %(centre)s.",
                     neighbourhood=clash.label, centre=clash.centre.name)
        raise ValidationFailed(message, code="neighbourhood_taken", fields={field: message})


def add_neighbourhood(session: Session, centre: Centre, name, district=None, *,
                      field: str = "name") -> Neighbourhood:
    """Add a neighbourhood to a centre's list; `district` None reads it from "종로구 효자동"."""
    if district is None:
        district, name = split_district(name if isinstance(name, str) else "")
    name, district = _clean_entry(name, district, field)
    _check_free(session, centre.id, name, district, field)
    entry = Neighbourhood(centre=centre, name=name, district=district)
    session.add(entry)
    session.flush()
    return entry


def _namesakes(session: Session, entry: Neighbourhood, name: str):
    """Members and posts that name `entry`: by name, and within its centre when another
    entry has the same name."""
    shared = session.scalar(sa.select(sa.func.count()).select_from(Neighbourhood).where(
        Neighbourhood.name == name, Neighbourhood.id != entry.id))
    in_centre = Member.centre_id == entry.centre_id if shared else sa.true()
    members = sa.and_(Member.neighbourhood == name, in_centre)
    authors = sa.select(Member.id).where(in_centre).correlate(None)
    posts = sa.and_(Post.neighbourhood == name, Post.member_id.in_(authors) if shared else sa.true())
    return members, posts


def rename_neighbourhood(session: Session, entry: Neighbourhood, name, district) -> Neighbourhood:
    """Correct an entry's spelling; the members and posts naming it follow."""
    name, district = _clean_entry(name, district, "name")
    _check_free(session, entry.centre_id, name, district, "name", keep=entry)
    old = entry.name
    members, posts = _namesakes(session, entry, old)
    entry.name, entry.district = name, district
    if name != old:
        session.execute(sa.update(Member).where(members).values(neighbourhood=name), execution_options={"synchronize_session": False})
        session.execute(sa.update(Post).where(posts).values(neighbourhood=name), execution_options={"synchronize_session": False})
    session.flush()
    session.expire_all()
    return entry


def neighbourhood_use(session: Session, entry: Neighbourhood) -> tuple[int, int]:
    """How many members and posts name an entry."""
    members, posts = _namesakes(session, entry, entry.name)
    return (session.scalar(sa.select(sa.func.count()).select_from(Member).where(members)),
            session.scalar(sa.select(sa.func.count()).select_from(Post).where(posts)))


def remove_neighbourhood(session: Session, entry: Neighbourhood) -> None:
    """Take an entry off the list, only while no member or post names it."""
    member_count, post_count = neighbourhood_use(session, entry)
    if member_count or post_count:
        message = _l("%(name)s cannot be removed: %(members)s members and %(posts)s posts name it. "
                     "Rename it instead, or move them to another neighbourhood first.",
                     name=entry.label, members=member_count, posts=post_count)
        raise Conflict(message, code="neighbourhood_in_use")
    session.delete(entry)
    session.flush()


def unmatched_neighbourhoods(session: Session) -> list[tuple[str, int, int]]:
    """Each value members or posts hold that is not on the list: (value, members, posts)."""
    listed = sa.select(Neighbourhood.name).correlate(None)
    counts: dict[str, list[int]] = {}
    for column, slot in ((Member.neighbourhood, 0), (Post.neighbourhood, 1)):
        query = sa.select(column, sa.func.count()).where(column != "", column.not_in(listed)).group_by(column)
        for value, count in session.execute(query):
            counts.setdefault(value, [0, 0])[slot] += count
    return sorted(((value, m, p) for value, (m, p) in counts.items()), key=lambda row: (-row[1] - row[2], row[0]))


def assign_unmatched(session: Session, value: str, entry: Neighbourhood) -> tuple[int, int]:
    """Give every member and post holding an unlisted `value` the entry's name; members
    without a centre, and plain members, join the entry's centre. Returns (members, posts)."""
    if not isinstance(value, str) or not value or session.scalar(
            sa.select(Neighbourhood.id).where(Neighbourhood.name == value).limit(1)) is not None:
        raise ValidationFailed(_l("That value is no longer waiting to be assigned."), code="not_unmatched")
    moved = sa.or_(Member.centre_id.is_(None), Member.role == Role.MEMBER)
    members = session.execute(sa.update(Member).where(Member.neighbourhood == value, moved)
                              .values(neighbourhood=entry.name, centre_id=entry.centre_id),
                              execution_options={"synchronize_session": False}).rowcount
    members += session.execute(sa.update(Member).where(Member.neighbourhood == value)
                               .values(neighbourhood=entry.name),
                               execution_options={"synchronize_session": False}).rowcount
    posts = session.execute(sa.update(Post).where(Post.neighbourhood == value).values(neighbourhood=entry.name),
                            execution_options={"synchronize_session": False}).rowcount
    session.flush()
    session.expire_all()
    return members, posts
