"""The voice report: who takes part in the co-op's decisions, by member class — for a quarter
(`voice_report`) and for one assembly (`assembly_voice`). Published each quarter.

Classes are as the register stands on the period's last day. A class of fewer than
SUPPRESS_BELOW members shows no figures (it would point at people); members whose class is not
set are a row of their own. Secret ballots are counted from their receipts, which say who
voted, never what.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.audit import services as audit
from carebank.centres.services import managed_member
from carebank.core.converters import by_id
from carebank.core.errors import Conflict, NotFound, ValidationFailed
from carebank.governance import register
from carebank.governance.models import (
    BOARD,
    Assembly,
    Attendance,
    BallotReceipt,
    BoardSeat,
    GrantRequest,
    MemberClass,
    PoolGrantRecord,
    Proposal,
    ProposalKind,
    ProposalMessage,
    Vote,
)
from carebank.ledger.models import Posting
from carebank.members.models import Member
from carebank.notifications.models import Notification
from carebank.notifications.services import notify

SUPPRESS_BELOW = 5
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
# The row order: the classes, then the members whose class is not set.
ROWS: tuple[MemberClass | None, ...] = (*MemberClass, None)
FIGURES = ("members", "share", "turnout", "representation_ratio", "votes_cast", "proposals_authored",
           "thread_speakers", "board_seats", "through_coordinator", "by_proxy", "pool_minutes")
VOICE_PAGE = "/governance/voice"
BODY_MAX_LENGTH = 80


@dataclass(frozen=True)
class Period:
    start: date  # first day
    end: date  # the day after the last

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    def bounds(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time.min, tzinfo=UTC),
                datetime.combine(self.end, time.min, tzinfo=UTC))


def quarter(text) -> Period:
    """"2026-Q4" as its period; else ValidationFailed."""
    found = QUARTER.match(text) if isinstance(text, str) else None
    if found is None or not 2000 <= int(found.group(1)) <= 9998:
        message = _l("Choose a quarter like 2026-Q4.")
        raise ValidationFailed(message, code="invalid_quarter", fields={"quarter": message})
    return quarter_of(date(int(found.group(1)), 3 * int(found.group(2)) - 2, 1))


def quarter_of(day: date) -> Period:
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    end = date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)
    return Period(start, end)


def last_full_quarter(today: date) -> Period:
    return quarter_of(quarter_of(today).start - timedelta(days=1))


def recent_quarters(today: date, count: int = 8) -> list[Period]:
    """The current quarter and the ones before it, newest first."""
    found, period = [], quarter_of(today)
    for _ in range(count):
        found.append(period)
        period = quarter_of(period.start - timedelta(days=1))
    return found


@dataclass
class ClassRow:
    """One class's figures (None everywhere when suppressed)."""

    member_class: MemberClass | None
    members: int
    suppressed: bool
    figures: dict = field(default_factory=dict)

    @property
    def label(self):
        return register.class_label(self.member_class)

    def as_json(self) -> dict:
        shown = {name: (None if self.suppressed else self.figures.get(name)) for name in FIGURES}
        if self.suppressed:
            shown["members"] = None
        return {"member_class": self.member_class.value if self.member_class else None,
                "suppressed": self.suppressed, **shown}


@dataclass
class Report:
    period: dict
    total_members: int
    total_votes: int
    rows: list[ClassRow]

    def as_json(self) -> dict:
        return {"period": self.period, "total_members": self.total_members,
                "votes_cast": self.total_votes, "classes": [row.as_json() for row in self.rows]}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _build(classes: dict[int, MemberClass | None], counts: dict[str, Counter],
           participants: set[int], votes: Counter) -> tuple[list[ClassRow], int]:
    """Rows from the register (member → class), per-class counts, the members who took part
    and the votes (participations) per class."""
    size = Counter(classes.values())
    total, total_votes = len(classes), sum(votes.values())
    took_part = Counter(classes[m] for m in participants if m in classes)
    rows = []
    for member_class in ROWS:
        members = size.get(member_class, 0)
        if not members:
            continue
        share = _ratio(members, total)
        # From the raw counts: rounding the two shares first would shift the ratio.
        ratio = (votes.get(member_class, 0) * total) / (total_votes * members) if total_votes else None
        figures = {
            "members": members, "share": share, "turnout": _ratio(took_part.get(member_class, 0), members),
            "votes_cast": votes.get(member_class, 0),
            "representation_ratio": round(ratio, 3) if ratio is not None else None,
            **{name: counter.get(member_class, 0) for name, counter in counts.items()},
        }
        rows.append(ClassRow(member_class, members, members < SUPPRESS_BELOW, figures))
    return rows, total_votes


def _by_class(classes: dict[int, MemberClass | None], member_ids) -> Counter:
    return Counter(classes[m] for m in member_ids if m in classes)


def voice_report(session: Session, start: date, end: date) -> Report:
    """The report for the days from `start` up to (not including) `end`."""
    period = Period(start, end)
    classes = register.classes_on(session, period.last_day)
    begin, finish = period.bounds()
    closing = sa.select(Proposal.id).where(Proposal.closes_at >= begin, Proposal.closes_at < finish)
    # One participation per member per proposal (a budget ballot has a row per pick).
    ballot_votes = set(session.execute(sa.select(Vote.proposal_id, Vote.member_id)
                                       .where(Vote.proposal_id.in_(closing)).distinct()).all())
    ballot_votes |= set(session.execute(sa.select(BallotReceipt.proposal_id, BallotReceipt.member_id)
                                        .where(BallotReceipt.proposal_id.in_(closing))).all())
    held = sa.select(Assembly.id).where(Assembly.held_at >= begin, Assembly.held_at < finish)
    present, represented = _attendance(session, held)
    voices = [m for _p, m in ballot_votes] + [m for _a, m in present | represented]
    participants = set(voices)
    counts = {
        "proposals_authored": _by_class(classes, session.scalars(
            sa.select(Proposal.author_id).where(
                Proposal.created_at >= begin, Proposal.created_at < finish,
                Proposal.kind != ProposalKind.BUDGET,
                Proposal.id.not_in(sa.select(GrantRequest.proposal_id).where(GrantRequest.proposal_id.is_not(None))),
            ))),
        "thread_speakers": _by_class(classes, session.scalars(
            sa.select(ProposalMessage.author_id).where(
                ProposalMessage.created_at >= begin, ProposalMessage.created_at < finish).distinct())),
        "board_seats": _seats(session, classes, period.last_day),
        "through_coordinator": _by_class(classes, _recorded(session, closing)),
        "by_proxy": _by_class(classes, {m for _a, m in represented}),
        "pool_minutes": _pool_minutes(session, begin, finish),
    }
    rows, total_votes = _build(classes, counts, participants, _by_class(classes, voices))
    return Report({"quarter": period.label, "start": start.isoformat(), "end": period.last_day.isoformat()},
                  len(classes), total_votes, rows)


def _attendance(session: Session, assembly_ids) -> tuple[set, set]:
    """(assembly, member) present in person, and (assembly, member) represented by a proxy."""
    rows = session.execute(sa.select(Attendance.assembly_id, Attendance.member_id, Attendance.proxy_for_member_id)
                           .where(Attendance.assembly_id.in_(assembly_ids))).all()
    present = {(a, m) for a, m, proxy in rows if proxy is None}
    represented = {(a, proxy) for a, _m, proxy in rows if proxy is not None}
    return present, represented


def _recorded(session: Session, proposal_ids) -> set[int]:
    """Members whose vote a coordinator recorded for them."""
    found = set(session.scalars(sa.select(Vote.member_id).where(
        Vote.proposal_id.in_(proposal_ids), Vote.recorded_by_id.is_not(None))))
    return found | set(session.scalars(sa.select(BallotReceipt.member_id).where(
        BallotReceipt.proposal_id.in_(proposal_ids), BallotReceipt.recorded_by_id.is_not(None))))


def _seats(session: Session, classes: dict, day: date) -> Counter:
    holders = session.scalars(sa.select(BoardSeat.member_id).where(
        BoardSeat.starts_on <= day, sa.or_(BoardSeat.ends_on.is_(None), BoardSeat.ends_on > day)))
    return _by_class(classes, holders)  # one per seat: a member on two bodies counts twice


def _pool_minutes(session: Session, begin: datetime, finish: datetime) -> Counter:
    """Minutes granted from the pool, by the class the beneficiary had when granted."""
    received = (sa.select(Posting.transaction_id, sa.func.max(Posting.minutes).label("minutes"))
                .group_by(Posting.transaction_id).subquery())
    rows = session.execute(
        sa.select(PoolGrantRecord.beneficiary_class, sa.func.sum(received.c.minutes))
        .join(received, received.c.transaction_id == PoolGrantRecord.transaction_id)
        .where(PoolGrantRecord.granted_at >= begin, PoolGrantRecord.granted_at < finish)
        .group_by(PoolGrantRecord.beneficiary_class))
    return Counter({member_class: int(minutes or 0) for member_class, minutes in rows})


def assembly_voice(session: Session, assembly_id) -> Report:
    """One assembly: per class, members in the register on its record date, who attended or
    was represented, and its board seats."""
    assembly = by_id(session, Assembly, assembly_id)
    if assembly is None:
        raise NotFound(_l("That assembly does not exist."), code="assembly_not_found")
    classes = register.classes_on(session, assembly.record_date)
    present, represented = _attendance(session, [assembly.id])
    voices = [m for _a, m in present | represented]
    counts = {"by_proxy": _by_class(classes, {m for _a, m in represented}),
              "board_seats": _seats(session, classes, assembly.record_date)}
    rows, total_votes = _build(classes, counts, set(voices), _by_class(classes, voices))
    return Report({"assembly_id": assembly.id, "title": assembly.title,
                   "record_date": assembly.record_date.isoformat()}, len(classes), total_votes, rows)


def publish_quarter(session: Session, now: datetime) -> int:
    """Tell every active member with a login that last quarter's report is out, once per
    quarter (a periodic task calls it; card-only members are not put on the call list for it).
    How many were told."""
    period = last_full_quarter(now.date())
    told = session.scalar(sa.select(Notification.id).where(
        Notification.kind == "voice_report_published",
        Notification.created_at >= datetime.combine(period.end, time.min, tzinfo=UTC)).limit(1))
    if told is not None:
        return 0
    members = session.scalars(sa.select(Member).where(Member.deactivated_at.is_(None)))
    count = 0
    for member in members:
        if member.has_login:
            notify(session, member.id, "voice_report_published", url=f"{VOICE_PAGE}?quarter={period.label}",
                   quarter=period.label)
            count += 1
    session.flush()
    return count


# --- board and committee seats (what the report counts) ----------------------------------------

def seat_name(body: str) -> str:
    """What a seat is called on the pages: the board in the reader's language, else the
    committee's name as the centre wrote it."""
    return str(_l("The board")) if body == BOARD else body


def add_seat(session: Session, coordinator: Member, member_id, body, starts_on: date) -> BoardSeat:
    """A member takes a seat on the board (`body` empty or "board") or a committee."""
    member = managed_member(session, coordinator, member_id)
    body = (body.strip() if isinstance(body, str) else "") or BOARD
    if len(body) > BODY_MAX_LENGTH:
        message = _l("Name the committee in at most %(max)s characters.", max=BODY_MAX_LENGTH)
        raise ValidationFailed(message, code="invalid_body", fields={"body": message})
    if not isinstance(starts_on, date):
        message = _l("Choose the day the seat starts.")
        raise ValidationFailed(message, code="invalid_date", fields={"starts_on": message})
    seat = BoardSeat(member_id=member.id, body=body, starts_on=starts_on)
    session.add(seat)
    session.flush()
    audit.record(session, coordinator, "board.seat", member=member, reason=f"{body}: from {starts_on.isoformat()}")
    return seat


def end_seat(session: Session, coordinator: Member, seat_id, ends_on: date) -> BoardSeat:
    """A seat ends on `ends_on` (the first day without it); once."""
    seat = by_id(session, BoardSeat, seat_id)
    if seat is None:
        raise NotFound(_l("That seat does not exist."), code="seat_not_found")
    member = managed_member(session, coordinator, seat.member_id)
    if seat.ends_on is not None:
        raise Conflict(_l("This seat has already ended."), code="seat_already_ended")
    if not isinstance(ends_on, date) or ends_on <= seat.starts_on:
        message = _l("The seat must end after the day it started.")
        raise ValidationFailed(message, code="invalid_date", fields={"ends_on": message})
    seat.ends_on = ends_on
    session.flush()
    audit.record(session, coordinator, "board.seat", member=member, reason=f"{seat.body}: until {ends_on.isoformat()}")
    return seat


def seats_of(session: Session, member_id: int) -> list[BoardSeat]:
    return list(session.scalars(sa.select(BoardSeat).where(BoardSeat.member_id == member_id)
                                .order_by(BoardSeat.starts_on.desc())))
