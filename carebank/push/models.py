"""A phone (a browser's push subscription) that receives a member's notifications."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carebank.core.database import Base, UTCDateTime, utcnow


class PushSubscription(Base):
    """What a browser's PushManager gave us: the push service's URL for it and the keys its
    messages are encrypted to. An endpoint is one browser, so it belongs to one member."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    endpoint: Mapped[str] = mapped_column(sa.Text, unique=True)
    # Unpadded base64url: the browser's P-256 public key (65 bytes) and auth secret (16 bytes).
    p256dh: Mapped[str] = mapped_column(sa.String(100))
    auth: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
