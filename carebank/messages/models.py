"""Messages between the two parties of an exchange, and the phone numbers they chose to show."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.exchanges.models import Exchange
    from carebank.members.models import Member

BODY_MAX_LENGTH = 2000


class ExchangeMessage(Base):
    """One message a party wrote to the other; the other may report it to the centre."""

    __tablename__ = "exchange_messages"
    __table_args__ = (
        # A thread is read oldest first by exchange: one index range, in id order.
        sa.Index("ix_exchange_messages_exchange_id_id", "exchange_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))

    exchange: Mapped[Exchange] = relationship()
    author: Mapped[Member] = relationship(foreign_keys=[author_id])

    @property
    def is_reported(self) -> bool:
        return self.reported_at is not None


class PhoneShare(Base):
    """A party chose to show their phone number to the other party of this exchange."""

    __tablename__ = "phone_shares"
    __table_args__ = (sa.UniqueConstraint("exchange_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
