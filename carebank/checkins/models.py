"""Card check-ins and their states."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.cards.models import MemberCard
    from carebank.exchanges.models import Exchange
    from carebank.ledger.models import Transaction
    from carebank.members.models import Member



class CheckinConsent(enum.StrEnum):
    PIN = "pin"  # the resident typed their PIN on the carer's phone
    COORDINATOR = "coordinator"  # the resident cannot use a PIN; the centre approves


class CheckinStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a coordinator's approval
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class CardCheckin(Base):
    """A visit confirmed by scanning a resident's card: minutes move only after consent
    (the resident's PIN, or a coordinator's approval for residents who cannot use one)."""

    __tablename__ = "card_checkins"
    __table_args__ = (sa.CheckConstraint("minutes > 0", name="minutes_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(sa.ForeignKey("member_cards.id"), index=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"), index=True)
    carer_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    minutes: Mapped[int] = mapped_column(sa.Integer)
    consent: Mapped[CheckinConsent] = mapped_column(enum_column(CheckinConsent, "checkin_consent"))
    status: Mapped[CheckinStatus] = mapped_column(
        enum_column(CheckinStatus, "checkin_status"), default=CheckinStatus.PENDING, index=True
    )
    # A random token from the form: a double tap or a retry cannot check in twice.
    request_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    transaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_transactions.id"), unique=True
    )

    card: Mapped[MemberCard] = relationship()
    exchange: Mapped[Exchange] = relationship()
    carer: Mapped[Member] = relationship(foreign_keys=[carer_id])
    transaction: Mapped[Transaction | None] = relationship()
