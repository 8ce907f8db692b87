"""Posts (needs and offers) and their kinds and states."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.members.models import Member



class PostKind(enum.StrEnum):
    NEED = "need"
    OFFER = "offer"


class PostStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    CLOSED = "closed"


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        sa.CheckConstraint("minutes > 0", name="minutes_positive"),
        sa.CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window_ordered"
        ),
        sa.Index("ix_posts_status_kind_created", "status", "kind", "created_at"),
        # Browsing everything open, newest first; and match candidates by category or place.
        sa.Index("ix_posts_status_created", "status", "created_at"),
        sa.Index("ix_posts_status_neighbourhood", "status", "neighbourhood"),
        sa.Index("ix_posts_status_kind_category_created", "status", "kind", "category", "created_at"),
        sa.Index("ix_posts_status_kind_neighbourhood_created", "status", "kind", "neighbourhood",
                 "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    kind: Mapped[PostKind] = mapped_column(enum_column(PostKind, "post_kind"))
    category: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    minutes: Mapped[int] = mapped_column(sa.Integer)
    neighbourhood: Mapped[str] = mapped_column(sa.String(80), default="")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A need asked for just once: its exchange is finished by the first confirmed visit.
    once: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[PostStatus] = mapped_column(enum_column(PostStatus, "post_status"), default=PostStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A coordinator who posted on the member's behalf.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at

    def is_open(self, now: datetime | None = None) -> bool:
        return self.status is PostStatus.OPEN and not self.is_expired(now)
