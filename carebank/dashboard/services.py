"""Exchanges waiting for confirmation, a visit recorded by a coordinator, and the counts on
the console dashboard.

An accepted exchange "waits" while no visit of it stands in the ledger (a reversed visit
does not count): the parties may have no phone, have lost the code, or not met yet, and the
centre calls them to find out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, aliased, selectinload

from carebank.audit import services as audit
from carebank.cards.models import CardStatus, MemberCard
from carebank.centres.services import exchange_scope, managed_exchange, require_coordinator, scope_filter
from carebank.checkins.models import CardCheckin, CheckinStatus
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, ValidationFailed
from carebank.core.policy import Policy
from carebank.disputes.models import Dispute, DisputeStatus
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Member
from carebank.posts.models import Post, PostKind, PostStatus

UNMATCHED_DAYS = 7  # a need still open after a week needs the centre's help
NEW_MEMBER_DAYS = 7
UNANSWERED_AFTER_HOURS = 48  # a response the post's owner has left unanswered this long
REASON_MAX_LENGTH = ledger.MEMO_MAX_LENGTH  # the reason becomes the visit's memo


@dataclass(frozen=True)
class WaitingExchange:
    exchange: Exchange
    days: int  # whole days since the exchange was accepted


@dataclass(frozen=True)
class DashboardCounts:
    checkins_pending: int
    disputes_open: int
    exchanges_waiting: int
    needs_unmatched: int
    new_members: int
    cards_locked: int
    responses_unanswered: int = 0


def _no_standing_visit():
    visit = aliased(Transaction)
    reversal = aliased(Transaction)
    return ~sa.exists().where(
        visit.exchange_id == Exchange.id,
        visit.kind == TransactionKind.VISIT,
        ~sa.exists().where(reversal.reverses_id == visit.id),
    )


def _waiting(coordinator: Member):
    return sa.and_(Exchange.status == ExchangeStatus.ACCEPTED, exchange_scope(coordinator),
                   _no_standing_visit())


def exchanges_waiting(session: Session, coordinator: Member, *, now: datetime | None = None,
                      limit: int = 200) -> list[WaitingExchange]:
    """Accepted exchanges of the centre with no confirmed visit yet, longest waiting first."""
    require_coordinator(coordinator)
    accepted_at = sa.func.coalesce(Exchange.decided_at, Exchange.created_at)
    found = session.scalars(
        sa.select(Exchange)
        .options(selectinload(Exchange.post), selectinload(Exchange.provider),
                 selectinload(Exchange.receiver))
        .where(_waiting(coordinator))
        .order_by(accepted_at, Exchange.id)
        .limit(limit)
    )
    now = now or utcnow()
    return [WaitingExchange(e, (now - (e.decided_at or e.created_at)).days) for e in found]


def record_visit(session: Session, coordinator: Member, exchange_id, minutes, reason,
                 policy: Policy) -> Transaction:
    """A coordinator records a visit the parties could not confirm themselves (no phone, a
    lost code), with the reason, audited for both parties."""
    exchange = managed_exchange(session, coordinator, exchange_id)
    if exchange.is_party(coordinator):
        # Like grants: nobody records time for themselves; a colleague does it.
        raise NotAllowed(_l("You cannot record a visit of your own exchange. Ask a colleague."),
                         code="own_exchange")
    if not exchange.is_accepted:
        raise Conflict(_l("Visits can only be recorded for an agreed exchange."),
                       code="exchange_not_accepted")
    minutes = ledger.validate_minutes(minutes, policy)
    reason = required_text(reason, "reason", REASON_MAX_LENGTH, _l("Please give the reason."))
    transaction = ledger.credit_visit(
        session, exchange.provider_id, exchange.receiver_id, minutes, exchange_id=exchange.id,
        created_by_id=coordinator.id, policy=policy, memo=reason,
    )
    for member in (exchange.provider, exchange.receiver):
        audit.record(session, coordinator, "visit.record", member=member, reason=reason,
                     exchange_id=exchange.id, transaction_id=transaction.id)
    return transaction


def required_text(value, field: str, max_length: int, missing) -> str:
    """Stripped text that must be given, at most `max_length` characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed(missing, code=f"{field}_required", fields={field: missing})
    if len(text) > max_length:
        message = _l("This can be at most %(max)s characters.", max=max_length)
        raise ValidationFailed(message, fields={field: message})
    return text


def dashboard_counts(session: Session, coordinator: Member, *,
                     now: datetime | None = None) -> DashboardCounts:
    """What needs the centre's attention, counted in a single query."""
    require_coordinator(coordinator)
    now = now or utcnow()
    counts = {
        # Scoped like the approval queue (carebank.checkins): either party of the exchange.
        "checkins_pending": _count(CardCheckin, CardCheckin.status == CheckinStatus.PENDING,
                                   CardCheckin.exchange_id.in_(_scoped_exchanges(coordinator))),
        "disputes_open": _count(Dispute, Dispute.status == DisputeStatus.OPEN,
                                Dispute.exchange_id.in_(_scoped_exchanges(coordinator))),
        "exchanges_waiting": _count(Exchange, _waiting(coordinator)),
        "needs_unmatched": _count(Post, *_unmatched_needs(coordinator, now)),
        "new_members": _count(Member, scope_filter(coordinator),
                              Member.created_at >= now - timedelta(days=NEW_MEMBER_DAYS)),
        "responses_unanswered": _count(Exchange, *_unanswered(coordinator, now)),
        "cards_locked": _count(MemberCard, MemberCard.locked_at.is_not(None),
                               MemberCard.status == CardStatus.ACTIVE,
                               _card_holder_in_scope(coordinator, MemberCard.id)),
    }
    row = session.execute(sa.select(*(q.label(name) for name, q in counts.items()))).one()
    return DashboardCounts(**{name: int(value) for name, value in row._mapping.items()})


def _count(entity, *conditions):
    return sa.select(sa.func.count()).select_from(entity).where(*conditions).scalar_subquery()


def _scoped_exchanges(coordinator: Member):
    return sa.select(Exchange.id).where(exchange_scope(coordinator)).correlate(None)


def _card_holder_in_scope(coordinator: Member, card_id_column):
    """A card belongs to the centre of the resident who holds it: their centre unlocks it."""
    holder = aliased(Member)
    cards = (sa.select(MemberCard.id).join(holder, MemberCard.member_id == holder.id)
             .where(scope_filter(coordinator, holder.centre_id)).correlate(None))
    return card_id_column.in_(cards)


def _unmatched_needs(coordinator: Member, now: datetime) -> tuple:
    """As the centre report counts them (carebank.reports): open, unexpired needs a week
    old or more that nobody has been accepted for."""
    owners = sa.select(Member.id).where(scope_filter(coordinator)).correlate(None)
    accepted = sa.exists().where(Exchange.post_id == Post.id,
                                 Exchange.status == ExchangeStatus.ACCEPTED)
    return (Post.kind == PostKind.NEED, Post.status == PostStatus.OPEN,
            Post.expires_at > now, Post.created_at <= now - timedelta(days=UNMATCHED_DAYS),
            ~accepted, Post.member_id.in_(owners))


def unanswered_responses(session: Session, coordinator: Member, now: datetime | None = None,
                         hours: int = UNANSWERED_AFTER_HOURS) -> list[Exchange]:
    """The centre's responses still waiting for the post owner's answer after `hours`, oldest
    first (for the centre to give the owner a call)."""
    require_coordinator(coordinator)
    return list(session.scalars(
        sa.select(Exchange)
        .options(selectinload(Exchange.post), selectinload(Exchange.provider),
                 selectinload(Exchange.receiver))
        .where(*_unanswered(coordinator, now or utcnow(), hours))
        .order_by(Exchange.created_at, Exchange.id)
    ))


def _unanswered(coordinator: Member, now: datetime, hours: int = UNANSWERED_AFTER_HOURS) -> tuple:
    return (Exchange.status == ExchangeStatus.PROPOSED, Exchange.created_at < now - timedelta(hours=hours),
            exchange_scope(coordinator))
