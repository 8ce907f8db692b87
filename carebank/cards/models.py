"""Member cards and their states."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.members.models import Member



class CardStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # reported lost or stolen, or stopped by the centre
    REPLACED = "replaced"  # a newer card was issued


class MemberCard(Base):
    """A printed ID-1 card whose QR code identifies a member. The QR never authorises
    anything by itself: a check-in also needs the member's PIN or a coordinator's approval.
    Only a hash of the card secret is kept; a lost card is blocked and a new one issued."""

    __tablename__ = "member_cards"
    __table_args__ = (
        # At most one card per member works at a time.
        sa.Index(
            "uq_member_cards_one_active", "member_id", unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[CardStatus] = mapped_column(enum_column(CardStatus, "card_status"), default=CardStatus.ACTIVE)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    block_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    # Wrong PINs in a row; at the limit the card locks until the centre unlocks it.
    pin_failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    @property
    def is_active(self) -> bool:
        return self.status is CardStatus.ACTIVE

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None
