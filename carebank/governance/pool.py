"""Grants from the community pool, decided by the members: a coordinator grants alone up to the
bylaw's limit; a larger grant is a request put to a ballot of the board or of all members, and
a month's budget ballot lets the members split pool minutes among open requests.

Every pool-grant interface (console, API, the ledger's pool page) calls `grant` here. The
ledger's services know nothing of governance; governance builds on them
(`ledger.grant_from_pool` moves the time). Services flush and never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from carebank.audit import services as audit
from carebank.centres.services import manages, require_coordinator
from carebank.core.converters import by_id, is_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.core.i18n import format_minutes
from carebank.core.policy import Policy
from carebank.governance import bylaws, register
from carebank.governance.models import (
    GrantRequest,
    GrantRequestStatus,
    PoolGrantRecord,
    Proposal,
    ProposalKind,
    ProposalOption,
    SecretBallot,
    Vote,
)
from carebank.ledger import services as ledger
from carebank.ledger.models import Posting, Transaction, TransactionKind
from carebank.members.models import Member
from carebank.posts.categories import CATEGORIES, category_name

MAX_BUDGET_MINUTES = 100_000 * 60
MAX_BUDGET_DAYS = 60
YES, NO, ABSTAIN = 0, 1, 2  # positions of a grant ballot's options, in order
HOW_DECIDED = {
    "coordinator": _l("By a coordinator"),
    "board": _l("Board ballot"),
    "members": _l("Member ballot"),
    "budget": _l("Budget ballot"),
}


class NeedsBallot(Conflict):
    """A grant above what a coordinator may grant alone: it goes to a ballot."""

    code = "grant_needs_ballot"


# --- granting, and asking for a ballot ---------------------------------------------------

def grant(session: Session, coordinator: Member, recipient_id, minutes, memo, need, policy: Policy) -> Transaction:
    """A coordinator's grant: at or under the bylaw's limit it is made and recorded for the
    members' pool page; above it, NeedsBallot (nothing changes)."""
    require_coordinator(coordinator)  # before the form's complaints: they are for coordinators
    need = validate_need(need)
    limit = bylaws.count(session, "grant_coordinator_limit")
    if _is_minutes(minutes) and minutes > limit:
        _check_request(session, coordinator, recipient_id, minutes, memo, policy)
        raise NeedsBallot(needs_ballot_message(session), fields={"minutes": needs_ballot_message(session)})
    transaction = ledger.grant_from_pool(session, coordinator, recipient_id, minutes, memo, policy)
    _record(session, transaction, need, recipient_id, "coordinator")
    return transaction


def needs_ballot_message(session: Session):
    limit = LazyString(format_minutes, bylaws.count(session, "grant_coordinator_limit"))
    if bylaws.value(session, "grant_decided_by") == "members":
        return _l("A coordinator may grant up to %(limit)s alone. A larger grant goes to a ballot "
                  "of all members.", limit=limit)
    return _l("A coordinator may grant up to %(limit)s alone. A larger grant goes to a ballot "
              "of the board.", limit=limit)


def policy_words(session: Session) -> str:
    """The pool's rule in a sentence, for members."""
    limit = format_minutes(bylaws.count(session, "grant_coordinator_limit"))
    days = bylaws.count(session, "grant_ballot_days")
    if bylaws.value(session, "grant_decided_by") == "members":
        return str(_l("A coordinator may grant up to %(limit)s alone; larger grants go to a ballot "
                      "of all members, open for %(days)s days.", limit=limit, days=days))
    return str(_l("A coordinator may grant up to %(limit)s alone; larger grants go to a ballot "
                  "of the board, open for %(days)s days.", limit=limit, days=days))


def validate_need(need, *, required: bool = False) -> str:
    """A kind of care (a post category), or "" when not given and not required."""
    if need in (None, "") and not required:
        return ""
    if not isinstance(need, str) or need not in CATEGORIES:
        message = _l("Please choose the kind of need.")
        raise ValidationFailed(message, code="invalid_need", fields={"need": message})
    return need


def _is_minutes(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_request(session: Session, coordinator: Member, recipient_id, minutes, memo,
                   policy: Policy) -> tuple[Member, int, str]:
    """What grant_from_pool would check, without moving anything."""
    recipient_id = ledger.validate_member_id(recipient_id)
    if not coordinator.is_coordinator:
        raise NotAllowed(_l("Only a coordinator can grant time from the community pool."))
    if recipient_id == coordinator.id:
        raise NotAllowed(_l("You cannot grant time from the pool to yourself."), code="self_grant")
    minutes = ledger.validate_minutes(minutes, policy)
    reason = ledger.validate_memo(memo)
    if not reason:
        message = _l("Please give the reason.")
        raise ValidationFailed(message, code="reason_required", fields={"memo": message})
    recipient = ledger.member_or_none(session, recipient_id)
    if recipient is None or not manages(coordinator, recipient):
        message = _l("That member does not exist.")
        raise NotFound(message, code="member_not_found", fields={"to_member_id": message})
    if not recipient.is_active:
        message = _l("This member is no longer active, so they cannot receive time.")
        raise Conflict(message, code="member_deactivated", fields={"to_member_id": message})
    return recipient, minutes, reason


def _record(session: Session, transaction: Transaction, need: str, recipient_id: int, decided_by: str,
            request_id: int | None = None) -> PoolGrantRecord:
    record = PoolGrantRecord(transaction_id=transaction.id, need=need, decided_by=decided_by,
                             beneficiary_class=register.class_of(session, recipient_id),
                             grant_request_id=request_id, granted_at=transaction.created_at or utcnow())
    session.add(record)
    session.flush()
    return record


def request_grant(session: Session, coordinator: Member, recipient_id, minutes, memo, need,
                  policy: Policy, *, now: datetime | None = None) -> GrantRequest:
    """A grant request and its yes/no ballot of the board or the members. The ballot's title
    names the need and the time, never the member."""
    now = now or utcnow()
    recipient, minutes, reason = _check_request(session, coordinator, recipient_id, minutes, memo, policy)
    need = validate_need(need, required=True)
    request = GrantRequest(recipient_id=recipient.id, minutes=minutes, need=need, reason=reason,
                           requested_by_id=coordinator.id, created_at=now)
    session.add(request)
    session.flush()
    request.proposal_id = _grant_ballot(session, coordinator, request, now).id
    session.flush()
    audit.record(session, coordinator, "grant.request", member=recipient, reason=reason)
    return request


def _grant_ballot(session: Session, coordinator: Member, request: GrantRequest, now: datetime) -> Proposal:
    board = bylaws.value(session, "grant_decided_by") == "board"
    days = bylaws.count(session, "grant_ballot_days")
    beneficiary = register.class_label(register.class_of(session, request.recipient_id))
    proposal = Proposal(
        title=str(_l("Pool grant: %(minutes)s for %(need)s", minutes=format_minutes(request.minutes),
                     need=category_name(request.need))),
        body=str(_l("The centre asks to grant %(minutes)s from the community pool for %(need)s, to a "
                    "member in the class “%(beneficiary)s”. The member's name stays with the centre. "
                    "More than half of the yes and no votes grants it.",
                    minutes=format_minutes(request.minutes), need=category_name(request.need),
                    beneficiary=beneficiary)),
        kind=ProposalKind.BOARD if board else ProposalKind.MEMBER, author_id=coordinator.id,
        record_date=now.date(), created_at=now, closes_at=now + timedelta(days=days),
    )
    proposal.options = [
        ProposalOption(position=YES, label=str(_l("Yes, grant it"))),
        ProposalOption(position=NO, label=str(_l("No"))),
        ProposalOption(position=ABSTAIN, label=str(_l("Abstain")), abstain=True),
    ]
    session.add(proposal)
    session.flush()
    return proposal


def counts(session: Session, proposal_id: int) -> dict[int, int]:
    """Votes per option id: open votes and secret ballots alike."""
    found: dict[int, int] = {}
    for model in (Vote, SecretBallot):
        rows = session.execute(sa.select(model.option_id, sa.func.count())
                               .where(model.proposal_id == proposal_id).group_by(model.option_id))
        for option_id, number in rows:
            found[option_id] = found.get(option_id, 0) + number
    return found


def get_request(session: Session, coordinator: Member, request_id) -> GrantRequest:
    """A grant request for a member the coordinator manages, or NotFound."""
    require_coordinator(coordinator)
    request = by_id(session, GrantRequest, request_id)
    if request is None or not manages(coordinator, request.recipient):
        raise NotFound(_l("That grant request does not exist."), code="grant_request_not_found")
    return request


def open_requests(session: Session, coordinator: Member) -> list[GrantRequest]:
    return [r for r in session.scalars(sa.select(GrantRequest).where(
        GrantRequest.status == GrantRequestStatus.OPEN).order_by(GrantRequest.id))
        if manages(coordinator, r.recipient)]


def recent_requests(session: Session, coordinator: Member, limit: int = 30) -> list[GrantRequest]:
    return [r for r in session.scalars(sa.select(GrantRequest).where(
        GrantRequest.status != GrantRequestStatus.OPEN).order_by(GrantRequest.id.desc()).limit(limit))
        if manages(coordinator, r.recipient)]


@dataclass(frozen=True)
class BallotCount:
    yes: int
    no: int
    abstain: int

    @property
    def passed(self) -> bool:
        return self.yes > self.no


def ballot_count(session: Session, proposal: Proposal) -> BallotCount:
    found = counts(session, proposal.id)
    by_position = {o.position: found.get(o.id, 0) for o in proposal.options}
    return BallotCount(by_position.get(YES, 0), by_position.get(NO, 0), by_position.get(ABSTAIN, 0))


def decide_grant(session: Session, coordinator: Member, request_id, policy: Policy, *,
                 now: datetime | None = None) -> GrantRequest:
    """After its ballot closed, carry the request out: grant it if yes > no, else refuse it.
    Once only: a second try (or a colleague's at the same moment) is refused."""
    now = now or utcnow()
    request = get_request(session, coordinator, request_id)
    proposal = session.get(Proposal, request.proposal_id) if request.proposal_id else None
    if proposal is None:
        raise Conflict(_l("This request is not on a ballot of its own."), code="grant_not_on_ballot")
    if not proposal.is_closed(now):
        raise Conflict(_l("The ballot is still open. Carry it out after it closes."), code="ballot_still_open")
    passed = ballot_count(session, proposal).passed
    _take(session, request, GrantRequestStatus.GRANTED if passed else GrantRequestStatus.REFUSED, now)
    if passed:
        decided_by = "board" if proposal.kind is ProposalKind.BOARD else "members"
        _pay(session, coordinator, request, decided_by, policy)
    audit.record(session, coordinator, "grant.decide", member=request.recipient,
                 reason="granted" if passed else "refused", transaction_id=request.transaction_id)
    return request


def _take(session: Session, request: GrantRequest, status: GrantRequestStatus, now: datetime) -> None:
    """Mark an open request decided with a conditional UPDATE, so it is decided once only."""
    taken = session.execute(sa.update(GrantRequest).where(
        GrantRequest.id == request.id, GrantRequest.status == GrantRequestStatus.OPEN,
    ).values(status=status, decided_at=now).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise Conflict(_l("This grant request was already decided."), code="grant_already_decided")
    session.refresh(request)


def _pay(session: Session, coordinator: Member, request: GrantRequest, decided_by: str, policy: Policy) -> None:
    transaction = ledger.grant_from_pool(session, coordinator, request.recipient_id, request.minutes,
                                         request.reason, policy)
    request.transaction_id = transaction.id
    _record(session, transaction, request.need, request.recipient_id, decided_by, request.id)


# --- budget ballots ------------------------------------------------------------------------

def request_label(request: GrantRequest) -> str:
    return f"{category_name(request.need)} · {format_minutes(request.minutes)}"


def open_budget(session: Session, coordinator: Member, budget_minutes, closes_at, request_ids, *,
                now: datetime | None = None) -> Proposal:
    """A budget ballot: members pick, within `budget_minutes`, the open requests to fund."""
    now = now or utcnow()
    require_coordinator(coordinator)
    if not _is_minutes(budget_minutes) or not 1 <= budget_minutes <= MAX_BUDGET_MINUTES:
        message = _l("The budget must be a whole number of minutes, more than none.")
        raise ValidationFailed(message, code="invalid_budget", fields={"budget_minutes": message})
    if not isinstance(closes_at, datetime) or not now < closes_at <= now + timedelta(days=MAX_BUDGET_DAYS):
        message = _l("The ballot must close within %(days)s days from now.", days=MAX_BUDGET_DAYS)
        raise ValidationFailed(message, code="invalid_closes_at", fields={"closes_at": message})
    requests = _budget_requests(session, coordinator, request_ids)
    proposal = Proposal(
        title=str(_l("Pool budget: %(minutes)s to share", minutes=format_minutes(budget_minutes))),
        body=str(_l("Choose the requests the community pool should fund, up to %(minutes)s in all. "
                    "The requests most members chose are funded first.", minutes=format_minutes(budget_minutes))),
        kind=ProposalKind.BUDGET, author_id=coordinator.id, record_date=now.date(), created_at=now,
        closes_at=closes_at, budget_minutes=budget_minutes,
    )
    proposal.options = [ProposalOption(position=i, label=request_label(r), grant_request_id=r.id)
                        for i, r in enumerate(requests)]
    session.add(proposal)
    session.flush()
    return proposal


def _budget_requests(session: Session, coordinator: Member, request_ids) -> list[GrantRequest]:
    if not isinstance(request_ids, list) or not request_ids or not all(is_id(i) for i in request_ids) \
            or len(set(request_ids)) != len(request_ids):
        message = _l("Choose one or more open grant requests.")
        raise ValidationFailed(message, code="invalid_requests", fields={"request_ids": message})
    requests = [get_request(session, coordinator, i) for i in request_ids]
    if any(r.status is not GrantRequestStatus.OPEN for r in requests):
        message = _l("Only open grant requests can go on a budget ballot.")
        raise Conflict(message, code="grant_already_decided", fields={"request_ids": message})
    return requests


def get_budget(session: Session, proposal_id) -> Proposal:
    proposal = by_id(session, Proposal, proposal_id)
    if proposal is None or proposal.kind is not ProposalKind.BUDGET:
        raise NotFound(_l("That budget ballot does not exist."), code="budget_not_found")
    return proposal


def option_minutes(session: Session, proposal: Proposal) -> dict[int, int]:
    """Each option's minutes (its grant request's)."""
    ids = [o.grant_request_id for o in proposal.options]
    minutes = dict(session.execute(sa.select(GrantRequest.id, GrantRequest.minutes)
                                   .where(GrantRequest.id.in_(ids))).all())
    return {o.id: minutes.get(o.grant_request_id, 0) for o in proposal.options}


def allocate(session: Session, member: Member, proposal_id, option_ids, *,
             now: datetime | None = None) -> list[Vote]:
    """A member's picks on a budget ballot, replacing their earlier ones; together within the
    budget."""
    now = now or utcnow()
    proposal = get_budget(session, proposal_id)
    if proposal.is_closed(now):
        raise Conflict(_l("This ballot has closed."), code="ballot_closed")
    if not register.is_eligible(session, member.id, proposal.record_date):
        raise NotAllowed(_l("Only members in the register on the ballot's record date can take part."),
                         code="not_eligible")
    minutes = option_minutes(session, proposal)
    if not isinstance(option_ids, list) or not all(is_id(i) and i in minutes for i in option_ids) \
            or len(set(option_ids)) != len(option_ids):
        message = _l("Choose among the requests on this ballot.")
        raise ValidationFailed(message, code="invalid_options", fields={"option_ids": message})
    if sum(minutes[i] for i in option_ids) > proposal.budget_minutes:
        message = _l("Your choices come to more than the budget of %(budget)s. Leave one out.",
                     budget=format_minutes(proposal.budget_minutes))
        raise ValidationFailed(message, code="over_budget", fields={"option_ids": message})
    session.execute(sa.delete(Vote).where(Vote.proposal_id == proposal.id, Vote.member_id == member.id))
    member_class = register.class_of(session, member.id)
    votes = [Vote(proposal_id=proposal.id, member_id=member.id, option_id=i, member_class=member_class,
                  cast_at=now) for i in option_ids]
    session.add_all(votes)
    session.flush()
    return votes


def picks_of(session: Session, member: Member, proposal: Proposal) -> set[int]:
    return set(session.scalars(sa.select(Vote.option_id).where(
        Vote.proposal_id == proposal.id, Vote.member_id == member.id)))


@dataclass(frozen=True)
class BudgetLine:
    option: ProposalOption
    supporters: int
    minutes: int
    funded: bool


def budget_result(session: Session, proposal_id, *, now: datetime | None = None) -> list[BudgetLine]:
    """After close: the requests by supporters (most first; ties by ballot order), funded in
    order while the budget lasts, skipping one that no longer fits."""
    now = now or utcnow()
    proposal = get_budget(session, proposal_id)
    if not proposal.is_closed(now):
        raise Conflict(_l("The ballot is still open. Results show after it closes."), code="ballot_still_open")
    supporters, minutes = counts(session, proposal.id), option_minutes(session, proposal)
    ranked = sorted(proposal.options, key=lambda o: (-supporters.get(o.id, 0), o.position))
    left, lines = proposal.budget_minutes, []
    for option in ranked:
        funded = supporters.get(option.id, 0) > 0 and minutes[option.id] <= left
        left -= minutes[option.id] if funded else 0
        lines.append(BudgetLine(option, supporters.get(option.id, 0), minutes[option.id], funded))
    return lines


def carry_out_budget(session: Session, coordinator: Member, proposal_id, policy: Policy, *,
                     now: datetime | None = None) -> list[GrantRequest]:
    """Grant the funded requests of a closed budget ballot that are still open; once only."""
    now = now or utcnow()
    lines = budget_result(session, proposal_id, now=now)
    requests = [get_request(session, coordinator, line.option.grant_request_id) for line in lines if line.funded]
    waiting = [r for r in requests if r.status is GrantRequestStatus.OPEN]
    if not waiting:
        raise Conflict(_l("Nothing is left to carry out on this ballot."), code="budget_already_carried_out")
    for request in waiting:
        _take(session, request, GrantRequestStatus.GRANTED, now)
        _pay(session, coordinator, request, "budget", policy)
        audit.record(session, coordinator, "grant.decide", member=request.recipient, reason="budget",
                     transaction_id=request.transaction_id)
    return waiting


def budget_ballots(session: Session) -> list[Proposal]:
    """The latest budget ballots, the last to close first."""
    return list(session.scalars(sa.select(Proposal).where(
        Proposal.kind == ProposalKind.BUDGET).order_by(Proposal.closes_at.desc()).limit(20)))


# --- what members see ------------------------------------------------------------------------

@dataclass(frozen=True)
class PublicGrant:
    granted_at: datetime
    minutes: int
    need: str
    decided_by: str
    beneficiary_class: object


def public_grants(session: Session, limit: int = 100) -> list[PublicGrant]:
    """The pool's grants for every member: when, how much, what for, how decided, the class —
    never a name. Grants made before the record existed read as a coordinator's."""
    received = (sa.select(Posting.transaction_id, sa.func.max(Posting.minutes).label("minutes"))
                .group_by(Posting.transaction_id).subquery())
    rows = session.execute(
        sa.select(Transaction.created_at, received.c.minutes, PoolGrantRecord.need,
                  PoolGrantRecord.decided_by, PoolGrantRecord.beneficiary_class)
        .join(received, received.c.transaction_id == Transaction.id)
        .outerjoin(PoolGrantRecord, PoolGrantRecord.transaction_id == Transaction.id)
        .where(Transaction.kind == TransactionKind.GRANT)
        .order_by(Transaction.created_at.desc(), Transaction.id.desc()).limit(limit))
    return [PublicGrant(at, minutes, need or "", decided or "coordinator", member_class)
            for at, minutes, need, decided, member_class in rows]
