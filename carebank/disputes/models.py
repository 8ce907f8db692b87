"""Disputes and their states."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.exchanges.models import Exchange
    from carebank.ledger.models import Transaction
    from carebank.members.models import Member



class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Dispute(Base):
    """A party's objection to an exchange or one of its transactions, for the centre to settle."""

    __tablename__ = "disputes"
    __table_args__ = (
        # One open dispute per member and exchange, even when two requests race.
        sa.Index(
            "uq_disputes_one_open", "exchange_id", "raised_by_id", unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"), index=True)
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"))
    raised_by_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[DisputeStatus] = mapped_column(
        enum_column(DisputeStatus, "dispute_status"), default=DisputeStatus.OPEN, index=True
    )
    resolution: Mapped[str] = mapped_column(sa.String(500), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    exchange: Mapped[Exchange] = relationship()
    transaction: Mapped[Transaction | None] = relationship()
    raised_by: Mapped[Member] = relationship(foreign_keys=[raised_by_id])
    resolved_by: Mapped[Member | None] = relationship(foreign_keys=[resolved_by_id])
