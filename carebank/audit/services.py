"""The audit log: what a coordinator did, and for whom ("done by coordinator X for member Y")."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from carebank.audit.models import AuditEntry
from carebank.members.models import Member

# The actions recorded; the console shows each with a translated label.
ACTIONS = (
    "member.register", "member.edit", "member.deactivate", "member.reactivate", "member.vetting",
    "member.pin", "post.create", "post.close", "exchange.respond", "exchange.accept",
    "exchange.decline", "exchange.cancel", "pool.grant", "transaction.reverse", "card.issue",
    "card.block", "card.unlock", "checkin.approve", "checkin.reject", "dispute.settle",
    "visit.record", "centre.create", "centre.edit", "member.role", "member.reset",
    # The co-op's government (carebank.governance).
    "register.edit", "board.seat", "assembly.create", "assembly.tally", "assembly.minutes",
    "bylaw.change", "proposal.outcome", "grant.request", "grant.decide",
)


def record(
    session: Session, actor: Member, action: str, *, member: Member | None = None,
    reason: str = "", post_id: int | None = None, exchange_id: int | None = None,
    transaction_id: int | None = None, centre_id: int | None = None,
) -> AuditEntry:
    """Add one entry; the caller's commit makes it part of the same database transaction.
    It is filed under the member's centre, else the given one, else the actor's."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        actor_id=actor.id,
        member_id=member.id if member else None,
        centre_id=(member.centre_id if member else None) or centre_id or actor.centre_id,
        action=action,
        reason=reason[:500],
        post_id=post_id,
        exchange_id=exchange_id,
        transaction_id=transaction_id,
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session, *, centre_id: int | None = None, member_id: int | None = None,
    limit: int = 100, before_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first; `centre_id` None means every centre (for admins)."""
    query = (
        sa.select(AuditEntry)
        .options(selectinload(AuditEntry.actor), selectinload(AuditEntry.member))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    if centre_id is not None:
        query = query.where(AuditEntry.centre_id == centre_id)
    if member_id is not None:
        query = query.where(AuditEntry.member_id == member_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))


def entries_for(session: Session, viewer: Member, *, member_id: int | None = None,
                limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
    """The entries `viewer` may read, newest first: an admin's are every centre's, a
    coordinator's their own centre's (none before they belong to one)."""
    if not viewer.is_admin and viewer.centre_id is None:
        return []
    centre_id = None if viewer.is_admin else viewer.centre_id
    return entries(session, centre_id=centre_id, member_id=member_id, limit=limit, before_id=before_id)
