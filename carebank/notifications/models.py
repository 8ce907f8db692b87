"""Notifications: one row per member per event, the outbox every channel delivers from."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carebank.core.database import Base, UTCDateTime, utcnow


class Notification(Base):
    """Something a member must hear about. Its words are made when it is shown, in the
    reader's language, from its kind and the facts in `params` (names and titles as they were)."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_member_unread", "member_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    url: Mapped[str] = mapped_column(sa.String(300), default="")
    # Urgent ones (a visit cancelled less than a day ahead, a lone-visit alarm) ignore quiet hours.
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
