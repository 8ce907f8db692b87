"""Passkeys (WebAuthn credentials) and the one-use challenges of their ceremonies."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.members.models import Member


class Passkey(Base):
    """A phone's or tablet's screen lock the member signs in with: the public key of a
    discoverable WebAuthn credential, named by the member ("My phone")."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    credential_id: Mapped[bytes] = mapped_column(sa.LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The WebAuthn user handle the authenticator keeps with the credential: one per member,
    # random (not the member number), so a sign-in response names whose it is.
    user_handle: Mapped[bytes] = mapped_column(sa.LargeBinary(64))
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    name: Mapped[str] = mapped_column(sa.String(60))
    transports: Mapped[str] = mapped_column(sa.String(200), default="")  # comma-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()

    @property
    def transport_list(self) -> list[str]:
        return [t for t in self.transports.split(",") if t]


class PasskeyChallenge(Base):
    """A challenge handed to the browser for one ceremony (register, sign in, or sign up
    without e-mail), kept here rather than in the signed session cookie so that it is used
    once: the browser holds only a random token whose SHA-256 finds the row, and the row is
    deleted when the answer comes. A pending sign-up keeps its cleaned details in `signup`
    until its passkey is registered; only then is the member created."""

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))  # "register", "login", "signup"
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    challenge: Mapped[bytes | None] = mapped_column(sa.LargeBinary(64))
    user_handle: Mapped[bytes | None] = mapped_column(sa.LargeBinary(64))
    signup: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
