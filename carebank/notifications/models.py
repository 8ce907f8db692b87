"""Notifications: one row per member per event, the outbox every channel delivers from."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class Delivery(Base):
    """One notification on one channel (push, email, or the centre's call list): written with
    the notification, so none is lost, and unique per channel, so none is sent twice."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel", name="uq_notification_deliveries_channel"),
        sa.Index("ix_notification_deliveries_due", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications.id"))
    channel: Mapped[str] = mapped_column(sa.String(10))  # push | email | call
    # queued → sent, or failed after the last try; skipped when the channel has no address.
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    # Held until then: quiet hours, or the back-off before the next try.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notification: Mapped[Notification] = relationship()


class NotificationPreference(Base):
    """A member's choices where they differ from the defaults (carebank/notifications/preferences.py)."""

    __tablename__ = "notification_preferences"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    push: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # kind -> on/off
    email: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    quiet_start: Mapped[str] = mapped_column(sa.String(5), default="21:00")
    quiet_end: Mapped[str] = mapped_column(sa.String(5), default="08:00")


class DigestItem(Base):
    """A post already named in a member's weekly digest: no digest names it again."""

    __tablename__ = "digest_items"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
