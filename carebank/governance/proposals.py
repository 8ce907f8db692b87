"""Proposals and their ballots between meetings: any member puts a question to the members (or,
a coordinator, to the board), members discuss it and vote until it closes, and only then are
the results shown. Online ballots guide the co-op between meetings; the general assembly meets
in person and an online ballot never replaces it.

One member, one vote: shares never weigh it. An open ballot keeps who chose what (one Vote per
member, replaced when they change it). A secret ballot keeps two things that nothing ties
together: a receipt that the member voted (the day only, for turnout and to stop a second
vote) and the choice under a random key with the hash of a receipt code only the member holds.
"""
from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.audit import services as audit
from carebank.centres.services import manages, require_coordinator
from carebank.core.converters import by_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.governance import register
from carebank.governance.models import (
    BOARD,
    BallotReceipt,
    BoardSeat,
    MemberClass,
    Proposal,
    ProposalKind,
    ProposalMessage,
    ProposalOption,
    SecretBallot,
    Tally,
    Vote,
)
from carebank.members.models import Member
from carebank.messages.services import message_body
from carebank.notifications.preferences import member_zone
from carebank.notifications.services import notify

TITLE_MAX_LENGTH = 200
BODY_TEXT_MAX_LENGTH = 10_000
OPTION_MAX_LENGTH = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MIN_OPEN, MAX_OPEN = timedelta(hours=1), timedelta(days=90)
REMIND_BEFORE = timedelta(hours=24)
OUTCOME_MAX_LENGTH = 2000
RECENT_CLOSED = 20
# A secret per-class poll shows no counts for a class with fewer voters (as the voice report).
SMALL_CLASS = 5
# The kinds whose opening and closing are announced to every voter. Advisory polls are not:
# any member may start one at any time, and a phone buzzing for every straw poll would teach
# members to ignore the ballots that decide something.
ANNOUNCED = (ProposalKind.MEMBER, ProposalKind.BOARD)
KINDS = (ProposalKind.MEMBER, ProposalKind.ADVISORY, ProposalKind.BOARD)
# Receipt codes: 16 letters and digits a person can read out and type (no 0/O, 1/I).
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECEIPT_LENGTH = 16

# The default ballot's labels are stored in English and shown in the reader's language.
YES, NO, ABSTAIN = "Yes", "No", "Abstain"
DEFAULT_LABELS = {YES: _l("Yes"), NO: _l("No"), ABSTAIN: _l("Abstain")}
KIND_LABELS = {
    ProposalKind.MEMBER: _l("Ballot of all members"),
    ProposalKind.ADVISORY: _l("Advisory poll"),
    ProposalKind.BOARD: _l("Board ballot"),
    ProposalKind.BUDGET: _l("Budget ballot"),
}
WEIGHTED_LABEL = _l("Advisory poll — counted by member class, it decides nothing")


def option_label(option: ProposalOption) -> str:
    """An option's label in the reader's language (the default yes / no / abstain)."""
    return str(DEFAULT_LABELS.get(option.label, option.label))


# --- creating ------------------------------------------------------------------------------


def create_proposal(session: Session, author: Member, *, title, body, options, closes_at, secret,
                    kind, tally=Tally.ONE_MEMBER_ONE_VOTE, now: datetime | None = None) -> Proposal:
    """Put a question to the members (or the board) until `closes_at`; who may vote is read
    off the register on today's date (UTC)."""
    now = now or utcnow()
    kind = _kind(author, kind)
    tally = _tally(tally, kind)
    proposal = Proposal(
        title=_text(title, "title", TITLE_MAX_LENGTH, required=_l("Please give the proposal a title.")),
        body=_text(body, "body", BODY_TEXT_MAX_LENGTH), kind=kind, tally=tally,
        secret=_flag(secret, "secret"), author_id=author.id, record_date=now.date(),
        closes_at=_closes_at(closes_at, now), created_at=now)
    if kind is not ProposalKind.BOARD and not register.is_eligible(session, author.id, proposal.record_date):
        raise NotAllowed(_l("Only members in the co-op's register can put a question to the members."),
                         code="not_in_register")
    if kind is ProposalKind.BOARD and not board_ids(session, proposal.record_date):
        raise Conflict(_l("No one holds a board seat today, so there is no board to vote. "
                          "Record the board's seats first."), code="no_board")
    # A ballot open for a day or less gets no separate reminder: its opening notice says when it closes.
    if proposal.closes_at - now <= REMIND_BEFORE:
        proposal.reminded_at = now
    session.add(proposal)
    session.flush()
    for position, (label, abstain) in enumerate(_options(options), start=1):
        session.add(ProposalOption(proposal_id=proposal.id, position=position, label=label, abstain=abstain))
    session.flush()
    _announce(session, proposal, "proposal_opened", voter_ids(session, proposal) - {author.id})
    return proposal


def _kind(author: Member, value) -> ProposalKind:
    try:
        kind = ProposalKind(value) if isinstance(value, str) else None
    except ValueError:
        kind = None
    if kind is ProposalKind.BUDGET:
        raise ValidationFailed(_l("A budget ballot is made from the pool's grant requests, not here."),
                               code="budget_not_here", fields={"kind": _l("Choose another kind of proposal.")})
    if kind is None:
        raise _invalid("kind", _l("Choose what kind of proposal this is."), "invalid_kind")
    if kind is ProposalKind.BOARD and not author.is_coordinator:
        raise NotAllowed(_l("Only a coordinator can put a question to the board."), code="board_by_coordinator")
    return kind


def _tally(value, kind: ProposalKind) -> Tally:
    try:
        if value is not None and not isinstance(value, str):
            raise ValueError(value)
        tally = Tally(value or Tally.ONE_MEMBER_ONE_VOTE)
    except ValueError:
        raise _invalid("tally", _l("Choose how the votes are counted."), "invalid_tally") from None
    if tally is not Tally.ONE_MEMBER_ONE_VOTE and kind is not ProposalKind.ADVISORY:
        raise _invalid("tally", _l("Only an advisory poll may be counted by member class. "
                                   "Every decision is one member, one vote."), "weighted_not_advisory")
    return tally


def _closes_at(value, now: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _invalid("closes_at", _l("Give the day and time the vote closes."), "closes_at_required")
    value = value.astimezone(UTC)
    if value < now + MIN_OPEN:
        raise _invalid("closes_at", _l("The vote must stay open for at least an hour."), "closes_at_too_soon")
    if value > now + MAX_OPEN:
        raise _invalid("closes_at", _l("A vote can stay open for at most 90 days."), "closes_at_too_late")
    return value


def _options(values) -> list[tuple[str, bool]]:
    """The ballot's (label, abstain) pairs: the labels given, or yes / no / abstain."""
    if values in (None, "", []):
        return [(YES, False), (NO, False), (ABSTAIN, True)]
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise _invalid("options", _l("Give the answers as a list of text."), "invalid_options")
    labels = [v.strip() for v in values if v.strip()]
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise _invalid("options", _l("Give from %(min)s to %(max)s answers.", min=MIN_OPTIONS, max=MAX_OPTIONS),
                       "option_count")
    if any(len(label) > OPTION_MAX_LENGTH or "\x00" in label for label in labels):
        raise _invalid("options", _l("Each answer can be at most %(max)s characters.", max=OPTION_MAX_LENGTH),
                       "option_too_long")
    if len({label.casefold() for label in labels}) != len(labels):
        raise _invalid("options", _l("Each answer must be different."), "duplicate_option")
    return [(label, False) for label in labels]


def _text(value, name: str, max_length: int, *, required=None) -> str:
    text = value.strip() if isinstance(value, str) else ("" if value is None else None)
    if text is None or "\x00" in text:
        raise _invalid(name, _l("Enter this as text."))
    if required is not None and not text:
        raise ValidationFailed(required, code=f"{name}_required", fields={name: required})
    if len(text) > max_length:
        raise _invalid(name, _l("This can be at most %(max)s characters.", max=max_length))
    return text


def _flag(value, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid(name, _l("Choose yes or no."))
    return value


def _invalid(name: str, message, code: str = "invalid_input") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={name: message})


# --- who may vote --------------------------------------------------------------------------


def board_ids(session: Session, day: date) -> set[int]:
    """Members holding a board seat on `day` who are in the register that day."""
    seats = session.scalars(sa.select(BoardSeat).where(BoardSeat.body == BOARD))
    held = {seat.member_id for seat in seats if seat.is_held_on(day)}
    return held & register.eligible_ids(session, day) if held else set()


def voter_ids(session: Session, proposal: Proposal) -> set[int]:
    """Everyone who may vote on the proposal: the register on its record date, or the board."""
    if proposal.kind is ProposalKind.BOARD:
        return board_ids(session, proposal.record_date)
    return register.eligible_ids(session, proposal.record_date)


def may_vote(session: Session, proposal: Proposal, member_id: int) -> bool:
    if proposal.kind is ProposalKind.BOARD:
        return member_id in board_ids(session, proposal.record_date)
    return register.is_eligible(session, member_id, proposal.record_date)


def _require_voter(session: Session, proposal: Proposal, member: Member) -> None:
    if may_vote(session, proposal, member.id):
        return
    if proposal.kind is ProposalKind.BOARD:
        raise NotAllowed(_l("Only members of the board can vote on a board ballot."), code="not_eligible")
    raise NotAllowed(_l("Only members who were in the register on %(day)s can vote on this.",
                        day=proposal.record_date.isoformat()), code="not_eligible")


# --- finding -------------------------------------------------------------------------------


def find_proposal(session: Session, proposal_id) -> Proposal:
    """A proposal of this module's kinds (budget ballots live in carebank.governance.pool)."""
    proposal = by_id(session, Proposal, proposal_id)
    if proposal is None or proposal.kind is ProposalKind.BUDGET:
        raise NotFound(_l("That proposal does not exist."), code="proposal_not_found")
    return proposal


def open_proposals(session: Session, now: datetime) -> list[Proposal]:
    return list(session.scalars(sa.select(Proposal).where(
        Proposal.kind.in_(KINDS), Proposal.closes_at > now).order_by(Proposal.closes_at, Proposal.id)))


def closed_proposals(session: Session, now: datetime, limit: int = RECENT_CLOSED) -> list[Proposal]:
    return list(session.scalars(sa.select(Proposal).where(
        Proposal.kind.in_(KINDS), Proposal.closes_at <= now)
        .order_by(Proposal.closes_at.desc(), Proposal.id.desc()).limit(limit)))


def awaiting_outcome(session: Session, coordinator: Member, now: datetime) -> list[Proposal]:
    """Closed proposals no coordinator has yet written the outcome of, oldest first."""
    require_coordinator(coordinator)
    return list(session.scalars(sa.select(Proposal).where(
        Proposal.kind.in_(KINDS), Proposal.closes_at <= now, Proposal.outcome == "")
        .order_by(Proposal.closes_at, Proposal.id)))


# --- voting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """What became of a vote: whether it replaced an earlier one, and (a secret ballot's first
    vote) the receipt code, shown to the member once."""

    replaced: bool
    receipt: str | None = None


def cast_vote(session: Session, member: Member, proposal_id, option_id, *, receipt=None,
              recorded_by: Member | None = None, now: datetime | None = None) -> Cast:
    """The member's vote (or one a coordinator records for a member they manage, who has no
    phone); voting again replaces the choice — on a secret ballot only with the receipt."""
    now = now or utcnow()
    proposal = find_proposal(session, proposal_id)
    if recorded_by is not None and not manages(recorded_by, member):
        raise NotFound(_l("That member does not exist."), code="member_not_found")
    if proposal.is_closed(now):
        raise Conflict(_l("This vote has closed."), code="proposal_closed")
    option = _option_of(session, proposal, option_id)
    _require_voter(session, proposal, member)
    # One vote at a time per member: two phones voting at once must not both count (PostgreSQL;
    # SQLite's writes are already one at a time).
    session.execute(sa.select(Member.id).where(Member.id == member.id).with_for_update())
    member_class = register.class_of(session, member.id)
    recorder_id = recorded_by.id if recorded_by is not None else None
    if proposal.secret:
        return _cast_secret(session, proposal, member, option, member_class, recorder_id, receipt, now)
    return _cast_open(session, proposal, member, option, member_class, recorder_id, now)


def _option_of(session: Session, proposal: Proposal, option_id) -> ProposalOption:
    option = by_id(session, ProposalOption, option_id)
    if option is None or option.proposal_id != proposal.id:
        raise _invalid("option", _l("Please choose one of the answers."), "unknown_option")
    return option


def _cast_open(session, proposal, member, option, member_class, recorder_id, now) -> Cast:
    vote = session.scalar(sa.select(Vote).where(Vote.proposal_id == proposal.id, Vote.member_id == member.id))
    replaced = vote is not None
    vote = vote or Vote(proposal_id=proposal.id, member_id=member.id)
    vote.option_id, vote.member_class, vote.recorded_by_id, vote.cast_at = option.id, member_class, recorder_id, now
    session.add(vote)
    session.flush()
    return Cast(replaced=replaced)


def _cast_secret(session, proposal, member, option, member_class, recorder_id, receipt, now) -> Cast:
    voted = session.scalar(sa.select(BallotReceipt.id).where(
        BallotReceipt.proposal_id == proposal.id, BallotReceipt.member_id == member.id))
    if voted is not None:
        ballot = _ballot_of(session, proposal.id, receipt)
        if ballot is None:
            raise Conflict(_l("You have already voted on this secret ballot. To change your vote, "
                              "give the receipt you were shown."), code="already_voted")
        ballot.option_id = option.id
        session.flush()
        return Cast(replaced=True)
    code = new_receipt_code()
    session.add(BallotReceipt(proposal_id=proposal.id, member_id=member.id, member_class=member_class,
                              recorded_by_id=recorder_id, cast_on=now.date()))
    session.add(SecretBallot(id=secrets.token_hex(16), proposal_id=proposal.id, option_id=option.id,
                             receipt_hash=receipt_hash(code),
                             member_class=member_class if proposal.is_weighted else None))
    session.flush()
    _shuffle_ballots(session, proposal.id)
    return Cast(replaced=False, receipt=code)


def _shuffle_ballots(session: Session, proposal_id: int) -> None:
    """Write the proposal's ballots again in a random order. PostgreSQL keeps rows in the order
    they were written, which would pair each ballot with its receipt (numbered in order);
    rewritten shuffled, the newest ballot could be any of them. (SQLite keeps them in the
    order of their random keys: the table has no rowid.)"""
    ballots = list(session.scalars(sa.select(SecretBallot).where(SecretBallot.proposal_id == proposal_id)))
    rows = [dict(id=b.id, proposal_id=b.proposal_id, option_id=b.option_id, receipt_hash=b.receipt_hash,
                 member_class=b.member_class) for b in ballots]
    secrets.SystemRandom().shuffle(rows)
    for ballot in ballots:
        session.expunge(ballot)
    session.execute(sa.delete(SecretBallot).where(SecretBallot.proposal_id == proposal_id),
                    execution_options={"synchronize_session": False})
    for row in rows:
        session.execute(sa.insert(SecretBallot).values(**row))


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalise_receipt(code) -> str:
    """A receipt as typed: any case, with or without spaces and dashes."""
    if not isinstance(code, str):
        return ""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def receipt_hash(code: str) -> str:
    return hashlib.sha256(normalise_receipt(code).encode()).hexdigest()


def format_receipt(code: str) -> str:
    """ABCD-EFGH-JKLM-NPQR: easier to copy and read out."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _ballot_of(session: Session, proposal_id: int, code) -> SecretBallot | None:
    if len(normalise_receipt(code)) != RECEIPT_LENGTH:
        return None
    return session.scalar(sa.select(SecretBallot).where(
        SecretBallot.proposal_id == proposal_id, SecretBallot.receipt_hash == receipt_hash(code)))


@dataclass(frozen=True)
class ReceiptCheck:
    """Whether a receipt's ballot is counted, and (after close) the answer it counted for."""

    counted: bool
    option: ProposalOption | None = None


def check_receipt(session: Session, proposal_id, code, now: datetime | None = None) -> ReceiptCheck:
    proposal = find_proposal(session, proposal_id)
    if not proposal.secret:
        raise Conflict(_l("This is not a secret ballot: your vote shows on the page."), code="not_secret")
    ballot = _ballot_of(session, proposal.id, code)
    if ballot is None:
        return ReceiptCheck(counted=False)
    shown = proposal.is_closed(now or utcnow())
    return ReceiptCheck(counted=True, option=session.get(ProposalOption, ballot.option_id) if shown else None)


def my_vote(session: Session, proposal: Proposal, member: Member) -> ProposalOption | None:
    """The member's current choice on an open ballot (a secret ballot keeps none)."""
    if proposal.secret:
        return None
    option_id = session.scalar(sa.select(Vote.option_id).where(
        Vote.proposal_id == proposal.id, Vote.member_id == member.id))
    return session.get(ProposalOption, option_id) if option_id else None


def has_voted(session: Session, proposal: Proposal, member_id: int) -> bool:
    table = BallotReceipt if proposal.secret else Vote
    return session.scalar(sa.select(table.id).where(
        table.proposal_id == proposal.id, table.member_id == member_id).limit(1)) is not None


def _voted_ids(session: Session, proposal: Proposal) -> set[int]:
    table = BallotReceipt if proposal.secret else Vote
    return set(session.scalars(sa.select(table.member_id).where(table.proposal_id == proposal.id)))


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassCount:
    """One member class's votes in a per-class advisory poll; on a secret ballot, a class with
    fewer than SMALL_CLASS voters shows no counts (they would point at people)."""

    member_class: MemberClass | None
    voters: int
    counts: dict[int, int]
    withheld: bool = False


@dataclass(frozen=True)
class Results:
    """A closed proposal's count: votes per option, turnout, votes the centre recorded for
    members without a phone, and (per-class advisory polls) each class's counts and the
    shares when every class weighs the same."""

    counts: dict[int, int]
    voters: int
    eligible: int
    through_centre: int
    by_class: list[ClassCount] = field(default_factory=list)
    weighted: dict[int, float] = field(default_factory=dict)

    @property
    def turnout(self) -> float:
        return self.voters / self.eligible if self.eligible else 0.0


def results(session: Session, proposal: Proposal, now: datetime | None = None) -> Results | None:
    """The count — None until the proposal closes, for everyone: author, coordinator, admin."""
    if not proposal.is_closed(now or utcnow()):
        return None
    table = SecretBallot if proposal.secret else Vote
    choices = list(session.execute(sa.select(table.option_id, table.member_class)
                                   .where(table.proposal_id == proposal.id)))
    receipts = BallotReceipt if proposal.secret else Vote
    through_centre = session.scalar(sa.select(sa.func.count()).select_from(receipts).where(
        receipts.proposal_id == proposal.id, receipts.recorded_by_id.is_not(None)))
    counts = {option.id: 0 for option in proposal.options}
    counts.update(Counter(option_id for option_id, _ in choices))
    by_class, weighted = _by_class(proposal, choices) if proposal.is_weighted else ([], {})
    return Results(counts=counts, voters=len(choices), eligible=len(voter_ids(session, proposal)),
                   through_centre=through_centre, by_class=by_class, weighted=weighted)


def _by_class(proposal: Proposal, choices) -> tuple[list[ClassCount], dict[int, float]]:
    """Each class's counts, and each option's share with every class weighing the same (members
    whose class is not set count as a class of their own). A secret ballot's small classes are
    withheld, and left out of the shares, which would otherwise give their choice away."""
    grouped: dict[MemberClass | None, Counter] = {}
    for option_id, member_class in choices:
        grouped.setdefault(member_class, Counter())[option_id] += 1
    by_class = []
    for member_class in [*MemberClass, None]:
        if member_class in grouped:
            voters = sum(grouped[member_class].values())
            withheld = proposal.secret and voters < SMALL_CLASS
            counts = {} if withheld else {o.id: grouped[member_class][o.id] for o in proposal.options}
            by_class.append(ClassCount(member_class, voters, counts, withheld))
    shown = [g for g in by_class if not g.withheld]
    weighted = {o.id: sum(g.counts[o.id] / g.voters for g in shown) / len(shown)
                for o in proposal.options} if shown else {}
    return by_class, weighted


# --- discussion ----------------------------------------------------------------------------


def thread(session: Session, proposal: Proposal) -> list[ProposalMessage]:
    return list(session.scalars(sa.select(ProposalMessage).where(ProposalMessage.proposal_id == proposal.id)
                                .order_by(ProposalMessage.id)))


def may_discuss(session: Session, proposal: Proposal, member: Member, now: datetime) -> bool:
    return not proposal.is_closed(now) and (member.id == proposal.author_id or may_vote(session, proposal, member.id))


def post_message(session: Session, member: Member, proposal_id, body, now: datetime | None = None) -> ProposalMessage:
    """A word in the discussion, from a member who may vote (or the author), until the vote
    closes: after that the thread stays to read, and the talk moves to the outcome."""
    now = now or utcnow()
    proposal = find_proposal(session, proposal_id)
    if proposal.is_closed(now):
        raise Conflict(_l("This vote has closed, so its discussion has too."), code="proposal_closed")
    if member.id != proposal.author_id:
        _require_voter(session, proposal, member)
    message = ProposalMessage(proposal_id=proposal.id, author_id=member.id, body=message_body(body),
                              created_at=now)
    session.add(message)
    session.flush()
    return message


# --- outcome -------------------------------------------------------------------------------


def record_outcome(session: Session, coordinator: Member, proposal_id, outcome_text, review_on=None,
                   now: datetime | None = None) -> Proposal:
    """After the vote closed, a coordinator writes what the co-op does with it and when to look
    at it again (written again, the newer text stands; each is in the audit log)."""
    now = now or utcnow()
    require_coordinator(coordinator)
    proposal = find_proposal(session, proposal_id)
    if not proposal.is_closed(now):
        raise Conflict(_l("The outcome is written after the vote closes."), code="proposal_open")
    text = _text(outcome_text, "outcome", OUTCOME_MAX_LENGTH, required=_l("Please write what was decided."))
    if review_on is not None and (not isinstance(review_on, date) or isinstance(review_on, datetime)):
        raise _invalid("review_on", _l("Give the review date as a day."))
    if review_on is not None and review_on <= now.date():
        raise _invalid("review_on", _l("The review date must be in the future."), "review_on_past")
    proposal.outcome, proposal.review_on, proposal.outcome_by_id = text, review_on, coordinator.id
    session.flush()
    audit.record(session, coordinator, "proposal.outcome", reason=f"proposal {proposal.id}: {text}"[:500])
    return proposal


# --- notices -------------------------------------------------------------------------------


def proposal_url(proposal_id: int) -> str:
    return f"/governance/proposals/{proposal_id}"


def _announce(session: Session, proposal: Proposal, kind: str, member_ids: set[int]) -> None:
    if proposal.kind not in ANNOUNCED or not member_ids:
        return
    for member in session.scalars(sa.select(Member).where(Member.id.in_(member_ids)).order_by(Member.id)):
        notify(session, member.id, kind, url=proposal_url(proposal.id), title=proposal.title,
               when=proposal.closes_at.isoformat(), tz=str(member_zone(member)))


def remind_closing(session: Session, now: datetime | None = None) -> int:
    """The "closing soon" reminder, 24 hours before a ballot closes, to those who may vote and
    have not; once each. How many proposals were reminded."""
    now = now or utcnow()
    return sum(send_reminder(session, proposal_id, now) for proposal_id in due_reminders(session, now))


def due_reminders(session: Session, now: datetime) -> list[int]:
    """Announced ballots closing within a day that no one has reminded yet."""
    return list(session.scalars(sa.select(Proposal.id).where(
        Proposal.kind.in_(ANNOUNCED), Proposal.reminded_at.is_(None),
        Proposal.closes_at > now, Proposal.closes_at <= now + REMIND_BEFORE).order_by(Proposal.id)))


def send_reminder(session: Session, proposal_id: int, now: datetime) -> bool:
    """Claim the proposal's reminder with a conditional UPDATE, then remind: of two workers
    that both found it due, only the one whose UPDATE changed the row sends."""
    claimed = session.execute(sa.update(Proposal).where(
        Proposal.id == proposal_id, Proposal.reminded_at.is_(None)).values(reminded_at=now))
    if claimed.rowcount != 1:
        return False
    proposal = session.get(Proposal, proposal_id)
    session.refresh(proposal)
    _announce(session, proposal, "proposal_closing", voter_ids(session, proposal) - _voted_ids(session, proposal))
    session.flush()
    return True
