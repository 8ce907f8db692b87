"""Confirmation codes."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.exchanges.models import Exchange
    from carebank.ledger.models import Transaction
    from carebank.members.models import Member



class ConfirmationCode(Base):
    """A single-use code one party of an exchange shows so the other can confirm a visit.

    Only a hash of the random token is kept: a leaked database cannot be used to redeem.
    """

    __tablename__ = "confirmation_codes"
    __table_args__ = (sa.CheckConstraint("minutes > 0", name="minutes_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"), index=True)
    made_by_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    redeemer_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    minutes: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_transactions.id"), unique=True
    )

    exchange: Mapped[Exchange] = relationship()
    made_by: Mapped[Member] = relationship(foreign_keys=[made_by_id])
    transaction: Mapped[Transaction | None] = relationship()

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at

    @property
    def is_redeemed(self) -> bool:
        return self.redeemed_at is not None
