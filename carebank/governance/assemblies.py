"""The general assembly (총회), in person: the notice to every member in the register, the
register at the door (in person, by proxy with written proof, by card and PIN), the quorum,
the motions and the two tellers' count, and the minutes the chair and the elected members sign.

Korean law has the general assembly meet in person; online ballots (governance proposals)
never replace it. Two phones at the door may record at once: each write first locks the
assembly's row (PostgreSQL; SQLite runs one writer at a time anyway) and the unique indexes
on attendances turn a double arrival that slips past into the same 409.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from carebank.audit import services as audit
from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.centres.services import require_coordinator
from carebank.checkins.services import check_pin
from carebank.core.converters import by_id, is_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotFound, ValidationFailed
from carebank.governance import bylaws, minutes, register
from carebank.governance.models import Assembly, Attendance, AttendanceMethod, MinutesSigner, Motion, Proposal
from carebank.members.models import Member
from carebank.notifications.preferences import member_zone
from carebank.notifications.services import notify

TITLE_MAX_LENGTH = 200
PLACE_MAX_LENGTH = 200
AGENDA_MAX_LENGTH = 5000
PROOF_MAX_LENGTH = 300
TELLERS = 2
# A vote count a hall could hold; more is a typing slip, refused before it is compared.
MAX_VOTES = 1_000_000


def assembly_page(assembly_id: int) -> str:
    return f"/governance/assemblies/{assembly_id}"


@dataclass(frozen=True)
class Quorum:
    """Who counts towards the quorum now: members present in person and the proxies they hold."""

    eligible: int
    present: int
    proxies: int
    needed: int

    @property
    def total(self) -> int:
        return self.present + self.proxies

    @property
    def met(self) -> bool:
        return self.total >= self.needed


# ---- calling the assembly ---------------------------------------------------------------------


def call_assembly(session: Session, coordinator: Member, *, title, held_at, place="", agenda="",
                  record_date=None) -> Assembly:
    """Call a general assembly and send its notice, with the agenda, to every member in the
    register on the record date (the notice day unless another is given)."""
    require_coordinator(coordinator)
    title = _text(title, "title", TITLE_MAX_LENGTH, required=_l("Please give the assembly a title."))
    place = _text(place, "place", PLACE_MAX_LENGTH)
    agenda = _text(agenda, "agenda", AGENDA_MAX_LENGTH)
    held_at = _future(held_at)
    record_date = _record_date(record_date, held_at, _today(coordinator))
    assembly = Assembly(title=title, held_at=held_at, place=place, agenda=agenda,
                        record_date=record_date, called_by_id=coordinator.id, notice_sent_at=utcnow())
    session.add(assembly)
    session.flush()
    _send_notice(session, assembly)
    audit.record(session, coordinator, "assembly.create",
                 reason=f"{title}; {held_at.isoformat()}; record date {record_date.isoformat()}")
    return assembly


def _today(member: Member) -> date:
    return utcnow().astimezone(member_zone(member)).date()


def _text(value, field: str, max_length: int, *, required=None) -> str:
    text = value.strip() if isinstance(value, str) else ("" if value is None else None)
    if text is None:
        raise _invalid(field, _l("Enter this as text."))
    if required is not None and not text:
        raise ValidationFailed(required, code=f"{field}_required", fields={field: required})
    if len(text) > max_length:
        raise _invalid(field, _l("This can be at most %(max)s characters.", max=max_length))
    return text


def _invalid(field: str, message, code: str = "invalid_input") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: message})


def _future(held_at) -> datetime:
    if not isinstance(held_at, datetime) or held_at.tzinfo is None:
        raise _invalid("held_at", _l("Give the day and time of the assembly."))
    if held_at <= utcnow():
        raise _invalid("held_at", _l("The assembly must be in the future."), "held_at_past")
    return held_at


def _record_date(record_date, held_at: datetime, today: date) -> date:
    if record_date is None:
        return today
    if not isinstance(record_date, date) or isinstance(record_date, datetime):
        raise _invalid("record_date", _l("Give the record date as a day."))
    if record_date > held_at.date():
        raise _invalid("record_date", _l("The record date cannot be after the assembly."),
                       "record_date_after_assembly")
    return record_date


def _send_notice(session: Session, assembly: Assembly) -> None:
    """The notice to each member in the register on the record date; card-only residents
    reach the centre's call list through their deliveries."""
    ids = register.eligible_ids(session, assembly.record_date)
    members = session.scalars(sa.select(Member).where(Member.id.in_(ids)).order_by(Member.id)) if ids else []
    for member in members:
        notify(session, member.id, "assembly_called", url=assembly_page(assembly.id),
               title=assembly.title, when=assembly.held_at.isoformat(), tz=str(member_zone(member)),
               place=assembly.place)


def assemblies_list(session: Session, coordinator: Member) -> list[Assembly]:
    """Every assembly, the next or latest first."""
    require_coordinator(coordinator)
    return list(session.scalars(sa.select(Assembly).order_by(Assembly.held_at.desc(), Assembly.id.desc())))


def get_assembly(session: Session, coordinator: Member, assembly_id) -> Assembly:
    require_coordinator(coordinator)
    return find_assembly(session, assembly_id)


def find_assembly(session: Session, assembly_id) -> Assembly:
    """An assembly by id (every member may read its notice), or NotFound."""
    assembly = by_id(session, Assembly, assembly_id)
    if assembly is None:
        raise NotFound(_l("That assembly does not exist."), code="assembly_not_found")
    return assembly


def _open_assembly(session: Session, coordinator: Member, assembly_id) -> Assembly:
    """An assembly still open, its row locked until commit so two door phones take turns."""
    assembly = get_assembly(session, coordinator, assembly_id)
    session.execute(sa.select(Assembly.id).where(Assembly.id == assembly.id).with_for_update())
    session.refresh(assembly, ["closed_at"])
    if assembly.is_closed:
        raise Conflict(_l("This assembly is closed; its minutes are sealed."), code="assembly_closed")
    return assembly


# ---- the register at the door -------------------------------------------------------------------


def record_attendance(session: Session, coordinator: Member, assembly_id, member_id, *,
                      proxy_for_member_id=None, proof="", method=AttendanceMethod.LIST) -> Attendance:
    """Record a member present, or (with `proxy_for_member_id`) a proxy a present member holds
    for an absent one, with its written proof. The holder is recorded present too if not yet."""
    assembly = _open_assembly(session, coordinator, assembly_id)
    method = _method(method)
    member = _eligible_member(session, assembly, member_id, "member_id")
    if proxy_for_member_id is None:
        return _record_present(session, coordinator, assembly, member, method)
    return _record_proxy(session, coordinator, assembly, member, proxy_for_member_id, proof, method)


def _method(method) -> AttendanceMethod:
    try:
        return AttendanceMethod(method)
    except ValueError:
        raise _invalid("method", _l("Choose how the member was checked in.")) from None


def _eligible_member(session: Session, assembly: Assembly, member_id, field: str) -> Member:
    if member_id is None:
        message = _l("Please give the member number.")
        raise ValidationFailed(message, code="member_required", fields={field: message})
    member = by_id(session, Member, member_id)
    if member is None:
        raise NotFound(_l("That member does not exist."), code="member_not_found",
                       fields={field: _l("That member does not exist.")})
    if not register.is_eligible(session, member.id, assembly.record_date):
        message = _l("%(name)s was not in the register on the record date (%(day)s), so cannot "
                     "attend or vote.", name=member.name, day=assembly.record_date.isoformat())
        raise Conflict(message, code="not_eligible", fields={field: message})
    return member


def _present_row(session: Session, assembly: Assembly, member_id: int) -> Attendance | None:
    return session.scalar(sa.select(Attendance).where(
        Attendance.assembly_id == assembly.id, Attendance.member_id == member_id,
        Attendance.proxy_for_member_id.is_(None)))


def _represented_row(session: Session, assembly: Assembly, member_id: int) -> Attendance | None:
    return session.scalar(sa.select(Attendance).where(
        Attendance.assembly_id == assembly.id, Attendance.proxy_for_member_id == member_id))


def _record_present(session, coordinator, assembly, member, method) -> Attendance:
    if _present_row(session, assembly, member.id) is not None:
        raise _already_present(member)
    if _represented_row(session, assembly, member.id) is not None:
        raise Conflict(_l("%(name)s is already represented by a proxy, so cannot be counted again.",
                          name=member.name), code="already_represented")
    return _insert(session, Attendance(assembly_id=assembly.id, member_id=member.id, method=method,
                                       recorded_by_id=coordinator.id), _already_present(member))


def _already_present(member: Member) -> Conflict:
    return Conflict(_l("%(name)s is already recorded as present.", name=member.name), code="already_present")


def _record_proxy(session, coordinator, assembly, holder, absent_id, proof, method) -> Attendance:
    absent = _eligible_member(session, assembly, absent_id, "proxy_for_member_id")
    proof = _text(proof, "proof", PROOF_MAX_LENGTH,
                  required=_l("A proxy needs written proof: write what it is, e.g. signed proxy form no. 12."))
    if absent.id == holder.id:
        raise _invalid("proxy_for_member_id", _l("A member cannot hold their own proxy."), "own_proxy")
    if _present_row(session, assembly, absent.id) is not None:
        raise Conflict(_l("%(name)s is here in person, so needs no proxy.", name=absent.name),
                       code="present_in_person", fields={})
    if _represented_row(session, assembly, absent.id) is not None:
        raise _already_represented(absent)
    if _represented_row(session, assembly, holder.id) is not None:
        raise Conflict(_l("%(name)s gave a proxy to someone else, so cannot hold one.", name=holder.name),
                       code="holder_represented")
    _require_proxy_room(session, assembly, holder)
    if _present_row(session, assembly, holder.id) is None:
        _insert(session, Attendance(assembly_id=assembly.id, member_id=holder.id, method=method,
                                    recorded_by_id=coordinator.id), _already_present(holder))
    return _insert(session, Attendance(assembly_id=assembly.id, member_id=holder.id,
                                       proxy_for_member_id=absent.id, proxy_proof=proof, method=method,
                                       recorded_by_id=coordinator.id), _already_represented(absent))


def _require_proxy_room(session: Session, assembly: Assembly, holder: Member) -> None:
    limit = bylaws.count(session, "proxies_per_holder")
    held = session.scalar(sa.select(sa.func.count()).where(
        Attendance.assembly_id == assembly.id, Attendance.member_id == holder.id,
        Attendance.proxy_for_member_id.is_not(None)))
    if held >= limit:
        raise Conflict(_l("%(name)s already holds as many proxies as the bylaws allow (%(limit)s).",
                          name=holder.name, limit=limit), code="proxy_limit")


def _already_represented(member: Member) -> Conflict:
    return Conflict(_l("%(name)s is already represented by a proxy.", name=member.name),
                    code="already_represented")


def _insert(session: Session, row: Attendance, conflict: Conflict) -> Attendance:
    """Add the row; a unique index refusing it (a second phone was quicker) is the 409."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise conflict from None
    return row


def check_in_by_card(session: Session, coordinator: Member, assembly_id, code, pin="") -> Attendance:
    """Record a member present from their card's QR (and their PIN, if they have one) or from
    their member number and PIN. A wrong PIN is counted on the card (five lock it)."""
    assembly = _open_assembly(session, coordinator, assembly_id)
    card, method = _door_card(session, code)
    member = _eligible_member(session, assembly, card.member_id, "code")
    if _present_row(session, assembly, member.id) is not None:
        raise _already_present(member)
    if method is AttendanceMethod.PIN or member.pin_hash is not None:
        _require_pin(member, pin)
        check_pin(session, card, pin)
    return _record_present(session, coordinator, assembly, member, method)


def _door_card(session: Session, code) -> tuple[MemberCard, AttendanceMethod]:
    """The working card named by a scanned QR, or by a member number (then the PIN is a must)."""
    text = code.strip() if isinstance(code, str) else ""
    if not text:
        raise _invalid("code", _l("Scan the member card, or type the member number."), "code_required")
    if text.isascii() and text.isdigit():
        member_id = int(text)
        card = cards.current_card(session, member_id) if is_id(member_id) else None
        if card is None:
            message = _l("No working member card has that number. Find the member on the list instead.")
            raise NotFound(message, code="card_not_found", fields={"code": message})
        method = AttendanceMethod.PIN
    else:
        try:
            card = cards.find_card(session, text)
        except (ValidationFailed, NotFound) as error:
            error.fields = {"code": error.message}
            raise
        method = AttendanceMethod.CARD
    cards.require_usable(card)
    return card, method


def _require_pin(member: Member, pin) -> None:
    if member.pin_hash is None:
        message = _l("%(name)s has no PIN. Find them on the list instead.", name=member.name)
        raise Conflict(message, code="no_pin", fields={"pin": message})
    if not isinstance(pin, str) or not pin.strip():
        message = _l("Ask %(name)s to type their PIN.", name=member.name)
        raise ValidationFailed(message, code="pin_required", fields={"pin": message})


def quorum(session: Session, assembly: Assembly) -> Quorum:
    """Eligible on the record date, present in person, proxies, and the total needed: more
    than the quorum share of the eligible."""
    eligible = register.eligible_count(session, assembly.record_date)
    present, proxies = session.execute(sa.select(
        sa.func.count().filter(Attendance.proxy_for_member_id.is_(None)),
        sa.func.count().filter(Attendance.proxy_for_member_id.is_not(None)),
    ).where(Attendance.assembly_id == assembly.id)).one()
    share = bylaws.fraction(session, "quorum")
    return Quorum(eligible=eligible, present=present, proxies=proxies,
                  needed=math.floor(eligible * share) + 1)


def attendance_list(session: Session, assembly: Assembly) -> list[Attendance]:
    """Everyone recorded at the door, in the order they came."""
    return list(session.scalars(
        sa.select(Attendance).options(selectinload(Attendance.member), selectinload(Attendance.proxy_for))
        .where(Attendance.assembly_id == assembly.id).order_by(Attendance.recorded_at, Attendance.id)))


def count_by_method(session: Session, assembly: Assembly) -> dict[AttendanceMethod, int]:
    """Members present in person by how they were checked in (proxies are counted apart)."""
    rows = session.execute(
        sa.select(Attendance.method, sa.func.count())
        .where(Attendance.assembly_id == assembly.id, Attendance.proxy_for_member_id.is_(None))
        .group_by(Attendance.method)).all()
    counts = {method: 0 for method in AttendanceMethod}
    counts.update(dict(rows))
    return counts


# ---- officers and motions -----------------------------------------------------------------------


def set_officers(session: Session, coordinator: Member, assembly_id, *, chair_id, teller_ids,
                 signer_ids) -> Assembly:
    """The chair, the two tellers and the members elected to sign the minutes, all present."""
    assembly = _open_assembly(session, coordinator, assembly_id)
    chair = _present_officer(session, assembly, chair_id, "chair_id")
    tellers = _officer_list(session, assembly, teller_ids, "teller_ids")
    if len(tellers) != TELLERS:
        raise _invalid("teller_ids", _l("Choose two different tellers."), "two_tellers")
    signers = _officer_list(session, assembly, signer_ids, "signer_ids")
    needed = bylaws.count(session, "minutes_signers")
    if len(signers) < needed or chair.id in {s.id for s in signers}:
        raise _invalid("signer_ids", _l("Choose at least %(num)s members, besides the chair, to sign "
                                        "the minutes.", num=needed), "too_few_signers")
    _keep_counting_tellers(session, assembly, tellers)
    assembly.chair_id = chair.id
    assembly.teller_one_id, assembly.teller_two_id = tellers[0].id, tellers[1].id
    session.execute(sa.delete(MinutesSigner).where(MinutesSigner.assembly_id == assembly.id))
    session.add_all([MinutesSigner(assembly_id=assembly.id, member_id=s.id) for s in signers])
    session.flush()
    return assembly


def _officer_list(session, assembly, ids, field: str) -> list[Member]:
    if not isinstance(ids, (list, tuple)) or len(ids) > 50:
        raise _invalid(field, _l("Choose the members from those present."))
    chosen = [_present_officer(session, assembly, member_id, field) for member_id in ids]
    return list({member.id: member for member in chosen}.values())


def _present_officer(session, assembly, member_id, field: str) -> Member:
    member = by_id(session, Member, member_id)
    if member is None or _present_row(session, assembly, member.id) is None:
        raise _invalid(field, _l("Choose the members from those present."), "not_present")
    return member


def _keep_counting_tellers(session, assembly, tellers) -> None:
    """Once a motion is counted, the tellers who counted it stay (the minutes name them)."""
    counted = session.scalar(sa.select(sa.func.count()).where(
        Motion.assembly_id == assembly.id, Motion.tallied_at.is_not(None)))
    now = {tellers[0].id, tellers[1].id}
    if counted and assembly.teller_one_id and now != {assembly.teller_one_id, assembly.teller_two_id}:
        raise Conflict(_l("The tellers have already counted a motion, so they cannot change."),
                       code="tellers_counted")


def signers_of(session: Session, assembly: Assembly) -> list[Member]:
    return list(session.scalars(
        sa.select(Member).join(MinutesSigner, MinutesSigner.member_id == Member.id)
        .where(MinutesSigner.assembly_id == assembly.id).order_by(MinutesSigner.id)))


def tellers_of(session: Session, assembly: Assembly) -> list[Member]:
    ids = [i for i in (assembly.teller_one_id, assembly.teller_two_id) if i]
    return [session.get(Member, i) for i in ids]


def add_motion(session: Session, coordinator: Member, assembly_id, *, title, special=False,
               proposal_id=None, bylaw_key=None, bylaw_value=None) -> Motion:
    """Put an item on the assembly's agenda. A bylaw change is a special resolution (articles)."""
    assembly = _open_assembly(session, coordinator, assembly_id)
    title = _text(title, "title", TITLE_MAX_LENGTH, required=_l("Please give the motion a title."))
    if not isinstance(special, bool):
        raise _invalid("special", _l("Say whether this is a special resolution."))
    if proposal_id is not None:
        _carried_proposal(session, proposal_id)
    if bylaw_key not in (None, "") or bylaw_value not in (None, ""):
        bylaw_key, bylaw_value = bylaws.validate_change(bylaw_key, bylaw_value)
        special = True
    else:
        bylaw_key = bylaw_value = None
    position = (session.scalar(sa.select(sa.func.max(Motion.position))
                               .where(Motion.assembly_id == assembly.id)) or 0) + 1
    motion = Motion(assembly_id=assembly.id, position=position, title=title, special=special,
                    proposal_id=proposal_id, bylaw_key=bylaw_key, bylaw_value=bylaw_value)
    session.add(motion)
    session.flush()
    return motion


def _carried_proposal(session: Session, proposal_id) -> Proposal:
    proposal = by_id(session, Proposal, proposal_id)
    if proposal is None:
        message = _l("That proposal does not exist.")
        raise NotFound(message, code="proposal_not_found", fields={"proposal_id": message})
    if proposal.is_weighted:
        message = _l("An advisory poll counted by class cannot decide an assembly item.")
        raise Conflict(message, code="weighted_poll", fields={"proposal_id": message})
    return proposal


def get_motion(session: Session, coordinator: Member, motion_id) -> Motion:
    require_coordinator(coordinator)
    motion = by_id(session, Motion, motion_id)
    if motion is None:
        raise NotFound(_l("That motion does not exist."), code="motion_not_found")
    return motion


def threshold_for(session: Session, motion: Motion, votes_for: int, votes_against: int,
                  present: int) -> int:
    """Votes for a motion needs: ordinary, more than the majority share of for and against;
    special, at least the special share of those present (with proxies)."""
    if motion.special:
        return special_threshold(session, present)
    return math.floor(bylaws.fraction(session, "ordinary_majority") * (votes_for + votes_against)) + 1


def special_threshold(session: Session, present: int) -> int:
    """Votes for a special resolution needs: at least the special share of those present."""
    return max(1, math.ceil(bylaws.fraction(session, "special_majority") * present))


def tally(session: Session, coordinator: Member, motion_id, votes_for, votes_against, abstain) -> Motion:
    """Record the two tellers' count of a motion: final (a recount is a new motion)."""
    motion = get_motion(session, coordinator, motion_id)
    assembly = _open_assembly(session, coordinator, motion.assembly_id)
    if not (assembly.teller_one_id and assembly.teller_two_id):
        raise Conflict(_l("Choose the two tellers before counting a vote."), code="tellers_not_set")
    counts = [_votes(votes_for, "for"), _votes(votes_against, "against"), _votes(abstain, "abstain")]
    now = quorum(session, assembly)
    if sum(counts) > now.total:
        message = _l("The votes add up to %(sum)s, but only %(present)s are present with proxies.",
                     sum=sum(counts), present=now.total)
        raise ValidationFailed(message, code="too_many_votes", fields={"for": message})
    threshold = threshold_for(session, motion, counts[0], counts[1], now.total)
    passed = now.met and counts[0] >= threshold
    _claim_tally(session, coordinator, motion, counts, now, threshold, passed)
    audit.record(session, coordinator, "assembly.tally",
                 reason=f"{assembly.title} #{motion.position} {motion.title}: for {counts[0]}, against "
                        f"{counts[1]}, abstain {counts[2]}; threshold {threshold}; "
                        f"{'passed' if passed else 'not passed'}")
    if passed and motion.bylaw_key:
        _apply_bylaw(session, coordinator, motion)
    return motion


def _votes(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VOTES:
        raise _invalid(field, _l("Enter the number of votes as a whole number, 0 or more."))
    return value


def _claim_tally(session, coordinator, motion, counts, now: Quorum, threshold: int, passed: bool) -> None:
    """Store the count only if none is stored yet: of two tellers' phones, the first wins."""
    claimed = session.execute(
        sa.update(Motion).where(Motion.id == motion.id, Motion.tallied_at.is_(None))
        .values(votes_for=counts[0], votes_against=counts[1], votes_abstain=counts[2],
                present=now.total, threshold=threshold, quorum_met=now.met, passed=passed,
                tallied_at=utcnow(), tallied_by_id=coordinator.id)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise Conflict(_l("This motion has been counted; the count is final. For a recount, add a new motion."),
                       code="already_tallied")
    session.expire(motion)


def _apply_bylaw(session: Session, coordinator: Member, motion: Motion) -> None:
    """Apply an adopted bylaw change, once (a conditional UPDATE marks it applied)."""
    applied = session.execute(
        sa.update(Motion).where(Motion.id == motion.id, Motion.bylaw_applied_at.is_(None))
        .values(bylaw_applied_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if applied != 1:
        return
    old = bylaws.value(session, motion.bylaw_key)
    bylaws.apply_change(session, motion.bylaw_key, motion.bylaw_value, motion.id)
    session.expire(motion)
    audit.record(session, coordinator, "bylaw.change",
                 reason=f"{motion.bylaw_key}: {old} -> {motion.bylaw_value} (motion {motion.id})")


# ---- closing and the minutes ----------------------------------------------------------------------


def close_assembly(session: Session, coordinator: Member, assembly_id) -> Assembly:
    """Close the assembly after the meeting and seal its minutes: the PDF and its SHA-256,
    which also goes into the audit log."""
    assembly = _open_assembly(session, coordinator, assembly_id)
    if utcnow() < assembly.held_at:
        raise Conflict(_l("The assembly has not started yet, so it cannot be closed."), code="not_yet_held")
    if assembly.chair_id is None or len(signers_of(session, assembly)) < bylaws.count(session, "minutes_signers"):
        raise Conflict(_l("Choose the chair and the members who sign the minutes first."),
                       code="officers_not_set")
    if any(not motion.is_tallied for motion in assembly.motions):
        raise Conflict(_l("Every motion must be counted before the assembly closes."), code="motions_not_tallied")
    closed_at = utcnow()
    pdf = minutes_pdf(session, assembly, closed_at=closed_at)
    digest = hashlib.sha256(pdf).hexdigest()
    assembly.closed_at, assembly.minutes_pdf, assembly.minutes_sha256 = closed_at, pdf, digest
    session.flush()
    audit.record(session, coordinator, "assembly.minutes", reason=f"{assembly.title}: sha256 {digest}")
    return assembly


def minutes_pdf(session: Session, assembly: Assembly, *, closed_at: datetime | None = None) -> bytes:
    """The minutes as a PDF in the current language: a DRAFT until `closed_at` is given."""
    now = quorum(session, assembly)
    chair = session.get(Member, assembly.chair_id) if assembly.chair_id else None
    facts = minutes.MinutesFacts(
        title=assembly.title, held_at=assembly.held_at, place=assembly.place,
        record_date=assembly.record_date, eligible=now.eligible, present=now.present,
        proxies=now.proxies, needed=now.needed, quorum_met=now.met,
        motions=[_motion_line(session, m, now) for m in assembly.motions],
        by_method=count_by_method(session, assembly),
        chair=chair.name if chair else "", tellers=[t.name for t in tellers_of(session, assembly)],
        signers=[s.name for s in signers_of(session, assembly)], closed_at=closed_at,
    )
    return minutes.render_minutes(facts)


def minutes_download(session: Session, assembly: Assembly) -> tuple[bytes, str]:
    """The sealed minutes once closed (the very bytes hashed), else a fresh DRAFT; and a file name."""
    if assembly.is_closed:
        return assembly.minutes_pdf, f"minutes-{assembly.id}.pdf"
    return minutes_pdf(session, assembly), f"minutes-{assembly.id}-draft.pdf"


def _motion_line(session: Session, motion: Motion, now: Quorum) -> minutes.MotionLine:
    return minutes.MotionLine(
        position=motion.position, title=motion.title, special=motion.special,
        bylaw=f"{motion.bylaw_key} = {motion.bylaw_value}" if motion.bylaw_key else "",
        threshold=motion.threshold, votes_for=motion.votes_for, votes_against=motion.votes_against,
        abstain=motion.votes_abstain, passed=motion.passed)


def upcoming_for_member(session: Session, member: Member, now: datetime | None = None) -> list[Assembly]:
    """Assemblies still to come or closed in the last 90 days, for a member's page."""
    since = (now or utcnow()) - timedelta(days=90)
    return list(session.scalars(sa.select(Assembly).where(Assembly.held_at >= since)
                                .order_by(Assembly.held_at.desc())))
