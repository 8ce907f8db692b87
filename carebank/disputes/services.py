"""Disputes: a party to an exchange tells the centre something went wrong, and a coordinator
settles it: reverses a wrong visit, records one the parties could not confirm, or dismisses it.

Settling claims the dispute with a conditional UPDATE before anything else happens in the
same database transaction, so of two coordinators settling at once exactly one acts; the
other gets a Conflict and its whole transaction is rolled back.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from carebank.audit import services as audit
from carebank.centres.services import exchange_scope, manages_exchange, require_coordinator
from carebank.checkins.models import CardCheckin
from carebank.confirmations.models import ConfirmationCode
from carebank.core.converters import by_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.core.policy import Policy
from carebank.dashboard import services as waiting
from carebank.disputes.models import Dispute, DisputeStatus
from carebank.exchanges.models import Exchange
from carebank.exchanges.services import get_exchange
from carebank.ledger import services as ledger
from carebank.ledger.models import Posting, Transaction, TransactionKind
from carebank.members.models import Member
from carebank.notifications import events

REASON_MAX_LENGTH = 1000
# The resolution becomes the memo of the reversal or the recorded visit.
RESOLUTION_MAX_LENGTH = ledger.MEMO_MAX_LENGTH
OUTCOMES = ("reverse", "credit", "dismiss")
SETTLED_SHOWN = 20


@dataclass(frozen=True)
class ExchangeRecord:
    """Everything that happened to an exchange's time, for the coordinator settling it."""

    transactions: list[Transaction]
    codes: list[ConfirmationCode]
    checkins: list[CardCheckin]
    reversed_ids: set[int]


def raise_dispute(session: Session, member: Member, exchange_id, reason,
                  transaction_id=None) -> Dispute:
    """A party asks the centre to look at an exchange, or at one of its visits."""
    exchange = reportable_exchange(session, member, exchange_id)
    reason = waiting.required_text(reason, "reason", REASON_MAX_LENGTH,
                                   _l("Please tell the centre what went wrong."))
    if transaction_id is not None:
        visit_of(session, exchange, transaction_id)
    if _open_dispute_id(session, exchange.id, member.id) is not None:
        raise Conflict(_l("You have already told the centre about this exchange. "
                          "They will look at it."), code="dispute_open")
    dispute = Dispute(exchange_id=exchange.id, transaction_id=transaction_id,
                      raised_by_id=member.id, reason=reason)
    session.add(dispute)
    session.flush()
    events.dispute_opened(session, exchange, member, dispute.id)
    return dispute


def reportable_exchange(session: Session, member: Member, exchange_id) -> Exchange:
    """An exchange the member is a party to, so may report a problem with (else NotAllowed)."""
    exchange = get_exchange(session, member, exchange_id)
    if not exchange.is_party(member):
        raise NotAllowed(_l("Only the two people in this exchange can report a problem with it."))
    return exchange


def _open_dispute_id(session: Session, exchange_id: int, member_id: int) -> int | None:
    return session.scalar(sa.select(Dispute.id).where(
        Dispute.exchange_id == exchange_id, Dispute.raised_by_id == member_id,
        Dispute.status == DisputeStatus.OPEN,
    ))


def visit_of(session: Session, exchange: Exchange, transaction_id) -> Transaction:
    """A visit transaction of this exchange, or a ValidationFailed on `transaction_id`."""
    found = by_id(session, Transaction, transaction_id)
    if found is None or found.exchange_id != exchange.id or found.kind is not TransactionKind.VISIT:
        message = _l("Choose one of the visits of this exchange.")
        raise ValidationFailed(message, code="not_a_visit", fields={"transaction_id": message})
    return found


def standing_visits(session: Session, exchange_id: int) -> list[Transaction]:
    """The exchange's visits that have not been reversed, oldest first."""
    reversed_ids = sa.select(Transaction.reverses_id).where(Transaction.reverses_id.is_not(None))
    return list(session.scalars(
        sa.select(Transaction)
        .options(selectinload(Transaction.postings))
        .where(Transaction.exchange_id == exchange_id, Transaction.kind == TransactionKind.VISIT,
               Transaction.id.not_in(reversed_ids))
        .order_by(Transaction.created_at, Transaction.id)
    ))


def visit_minutes(transaction: Transaction) -> int:
    """The minutes a visit (or its reversal) moved, as a positive number."""
    return max(abs(posting.minutes) for posting in transaction.postings)


def _listed():
    return (
        sa.select(Dispute)
        .join(Exchange, Dispute.exchange_id == Exchange.id)
        .options(selectinload(Dispute.raised_by),
                 selectinload(Dispute.exchange).selectinload(Exchange.post),
                 selectinload(Dispute.exchange).selectinload(Exchange.provider),
                 selectinload(Dispute.exchange).selectinload(Exchange.receiver))
    )


def open_disputes(session: Session, coordinator: Member) -> list[Dispute]:
    """The open disputes of the coordinator's centre, oldest first."""
    require_coordinator(coordinator)
    return list(session.scalars(
        _listed().where(Dispute.status == DisputeStatus.OPEN, exchange_scope(coordinator))
        .order_by(Dispute.created_at, Dispute.id)
    ))


def settled_disputes(session: Session, coordinator: Member, limit: int = SETTLED_SHOWN) -> list[Dispute]:
    """The centre's most recently settled disputes, newest first."""
    require_coordinator(coordinator)
    return list(session.scalars(
        _listed().where(Dispute.status != DisputeStatus.OPEN, exchange_scope(coordinator))
        .order_by(Dispute.resolved_at.desc(), Dispute.id.desc()).limit(limit)
    ))


def get_dispute(session: Session, coordinator: Member, dispute_id) -> Dispute:
    """A dispute of the coordinator's centre, or NotFound (other centres' are invisible)."""
    require_coordinator(coordinator)
    dispute = by_id(session, Dispute, dispute_id)
    if dispute is None or not manages_exchange(coordinator, dispute.exchange):
        raise NotFound(_l("That problem report does not exist."), code="dispute_not_found")
    return dispute


def disputes_for(session: Session, exchange: Exchange, viewer: Member) -> list[Dispute]:
    """The disputes a viewer of the exchange page may see: a party sees the ones they
    raised (with the centre's answer), the centre's coordinators see all."""
    query = sa.select(Dispute).where(Dispute.exchange_id == exchange.id)
    if exchange.is_party(viewer):
        query = query.where(Dispute.raised_by_id == viewer.id)
    elif not manages_exchange(viewer, exchange):
        return []
    return list(session.scalars(query.order_by(Dispute.created_at.desc(), Dispute.id.desc())))


def exchange_record(session: Session, exchange: Exchange) -> ExchangeRecord:
    """The exchange's transactions, confirmation codes and card check-ins, oldest first."""
    transactions = list(session.scalars(
        sa.select(Transaction)
        .options(selectinload(Transaction.postings).selectinload(Posting.account))
        .where(Transaction.exchange_id == exchange.id)
        .order_by(Transaction.created_at, Transaction.id)
    ))
    codes = list(session.scalars(
        sa.select(ConfirmationCode).options(selectinload(ConfirmationCode.made_by))
        .where(ConfirmationCode.exchange_id == exchange.id).order_by(ConfirmationCode.id)
    ))
    checkins = list(session.scalars(
        sa.select(CardCheckin).options(selectinload(CardCheckin.carer))
        .where(CardCheckin.exchange_id == exchange.id).order_by(CardCheckin.id)
    ))
    reversed_ids = {t.reverses_id for t in transactions if t.reverses_id is not None}
    return ExchangeRecord(transactions, codes, checkins, reversed_ids)


def settle(session: Session, coordinator: Member, dispute_id, outcome, resolution, *,
           transaction_id=None, minutes=None, policy: Policy) -> Dispute:
    """Settle an open dispute: "reverse" a visit, "credit" a visit the parties could not
    confirm, or "dismiss" it; the resolution is shown to the member who raised it."""
    dispute = get_dispute(session, coordinator, dispute_id)
    require_open(dispute)
    if dispute.exchange.is_party(coordinator):
        raise NotAllowed(_l("You cannot settle a problem with your own exchange. "
                            "Ask a colleague."), code="own_exchange")
    if outcome not in OUTCOMES:
        message = _l("Choose what the centre decided.")
        raise ValidationFailed(message, fields={"outcome": message})
    resolution = waiting.required_text(resolution, "resolution", RESOLUTION_MAX_LENGTH,
                                       _l("Please write what the centre decided."))
    _claim(session, coordinator, dispute, outcome, resolution)
    transaction = _carry_out(session, coordinator, dispute, outcome, resolution,
                             transaction_id=transaction_id, minutes=minutes, policy=policy)
    audit.record(session, coordinator, "dispute.settle", member=dispute.raised_by,
                 reason=resolution, exchange_id=dispute.exchange_id,
                 transaction_id=transaction.id if transaction else None)
    events.dispute_settled(session, dispute.exchange, resolution)
    return dispute


def require_open(dispute: Dispute) -> None:
    if dispute.status is not DisputeStatus.OPEN:
        raise _already_settled()


def _already_settled() -> Conflict:
    return Conflict(_l("This problem has already been settled."), code="dispute_settled")


def _claim(session: Session, coordinator: Member, dispute: Dispute, outcome: str,
           resolution: str) -> None:
    """Mark the dispute settled only if it is still open: the first coordinator wins."""
    status = DisputeStatus.DISMISSED if outcome == "dismiss" else DisputeStatus.RESOLVED
    claimed = session.execute(
        sa.update(Dispute)
        .where(Dispute.id == dispute.id, Dispute.status == DisputeStatus.OPEN)
        .values(status=status, resolution=resolution, resolved_by_id=coordinator.id,
                resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise _already_settled()
    session.expire(dispute)


def _carry_out(session: Session, coordinator: Member, dispute: Dispute, outcome: str,
               resolution: str, *, transaction_id, minutes, policy: Policy) -> Transaction | None:
    if outcome == "reverse":
        chosen = transaction_id if transaction_id is not None else dispute.transaction_id
        visit = visit_of(session, dispute.exchange, chosen)
        return ledger.reverse(session, coordinator, visit.id, resolution)
    if outcome == "credit":
        return waiting.record_visit(session, coordinator, dispute.exchange_id, minutes,
                                    resolution, policy)
    return None
