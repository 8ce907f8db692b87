"""The audit log's table."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.members.models import Member



class AuditEntry(Base):
    """What a coordinator did, and for whom: "done by coordinator X for member Y".
    Append-only, like the ledger."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    centre_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id"))
    exchange_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exchanges.id"))
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[Member] = relationship(foreign_keys=[actor_id])
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])
