"""Members, their roles and their vetting."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.centres.models import Centre
    from carebank.ledger.models import Account

# The passkeys table (carebank.passkeys), named without importing that feature's models.
_PASSKEYS = sa.table("passkeys", sa.column("member_id"))


class Role(enum.StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class VettingStatus(enum.StrEnum):
    """Whether the centre has checked a carer (references, an interview, training)."""

    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    SUSPENDED = "suspended"


class Member(UserMixin, Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Both empty for residents a coordinator registered: they have no login, only a card.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(80))
    neighbourhood: Mapped[str] = mapped_column(sa.String(80), default="")
    languages: Mapped[str] = mapped_column(sa.String(80), default="")
    offers_text: Mapped[str] = mapped_column(sa.Text, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    # The centre always sees the phone; an exchange partner only when the member says so.
    phone_shared_with_partners: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    timezone: Mapped[str | None] = mapped_column(sa.String(50))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), default=Role.MEMBER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    centre_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    # Set when a coordinator registered the member on their behalf, with the consent given.
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_note: Mapped[str] = mapped_column(sa.String(200), default="")
    # A 4-digit PIN the resident types on a carer's phone to consent to a card check-in;
    # None: the resident cannot use a PIN, so a coordinator approves their check-ins.
    pin_hash: Mapped[str | None] = mapped_column(sa.String(255))
    vetting: Mapped[VettingStatus] = mapped_column(
        enum_column(VettingStatus, "vetting_status"), default=VettingStatus.UNVERIFIED
    )
    vetted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vetted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Whether they have a passkey (loaded when first read; passkeys.services expires it
    # whenever one is added or removed).
    has_passkey: Mapped[bool] = column_property(sa.exists().where(_PASSKEYS.c.member_id == id), deferred=True)

    account: Mapped[Account] = relationship(back_populates="member", uselist=False)
    centre: Mapped[Centre | None] = relationship()

    # Not a column: core.security.start_session puts the new login's token here just before
    # login_user, so Flask-Login writes that token, not the member number, into the session
    # and remember-me cookies (and the user loader finds the login by it).
    login_token = None

    def get_id(self) -> str:
        """The token of the login being started; otherwise the member number (what
        per-member rate limits count by)."""
        return self.login_token or str(self.id)

    @property
    def is_active(self) -> bool:
        # Flask-Login refuses to log in an inactive member.
        return self.deactivated_at is None

    @property
    def number(self) -> str:
        """The member number printed on cards and statements."""
        return f"{self.id:06d}"

    @property
    def has_login(self) -> bool:
        """Whether they can sign in on their own: a password or a passkey (residents with
        only a card and PIN have none)."""
        return self.password_hash is not None or self.has_passkey

    @property
    def is_verified(self) -> bool:
        return self.vetting is VettingStatus.VERIFIED

    @property
    def is_coordinator(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def balance_minutes(self) -> int:
        return self.account.balance_minutes if self.account else 0


class LoginSession(Base):
    """One logged-in phone or browser. Its random token is the Flask-Login id that the session
    and remember-me cookies carry (only its SHA-256 is stored), so deleting the row ends that
    login wherever a copy of its cookies went."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A single-use link that sets a new password, mailed to the member (asked by them, or by
    a coordinator of their centre: `requested_by_id`). Only the SHA-256 of its token is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
