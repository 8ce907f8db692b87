"""Exchanges and their states."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.members.models import Member
    from carebank.posts.models import Post



class ExchangeStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FINISHED = "finished"  # closed by a party, or a one-off need after its first confirmed visit


class Exchange(Base):
    """An agreement that a provider gives time to a receiver, born from a response to a post."""

    __tablename__ = "exchanges"
    __table_args__ = (
        sa.CheckConstraint("provider_id <> receiver_id", name="distinct_parties"),
        # One live response per member and post, even when two requests race.
        sa.Index(
            "uq_exchanges_one_live_response", "post_id", "responder_id", unique=True,
            sqlite_where=sa.text("status IN ('proposed', 'accepted')"),
            postgresql_where=sa.text("status IN ('proposed', 'accepted')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    receiver_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    responder_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ExchangeStatus] = mapped_column(
        enum_column(ExchangeStatus, "exchange_status"), default=ExchangeStatus.PROPOSED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who closed it; None when a one-off need finished by itself with its first visit.
    finished_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))

    post: Mapped[Post] = relationship()
    provider: Mapped[Member] = relationship(foreign_keys=[provider_id])
    receiver: Mapped[Member] = relationship(foreign_keys=[receiver_id])

    def is_party(self, member: Member) -> bool:
        return member.id in (self.provider_id, self.receiver_id)

    def other_party_id(self, member: Member) -> int:
        return self.receiver_id if member.id == self.provider_id else self.provider_id

    @property
    def is_accepted(self) -> bool:
        """Agreed and still going: visits can be confirmed (not when finished)."""
        return self.status is ExchangeStatus.ACCEPTED

    @property
    def is_finished(self) -> bool:
        return self.status is ExchangeStatus.FINISHED

    @property
    def was_agreed(self) -> bool:
        """Agreed at some point and not called off: agreed or finished."""
        return self.status in (ExchangeStatus.ACCEPTED, ExchangeStatus.FINISHED)
