"""ORM models: the data of the time bank and the invariants of single rows."""
from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .database import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Role(enum.StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class PostKind(enum.StrEnum):
    NEED = "need"
    OFFER = "offer"


class PostStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    CLOSED = "closed"


class ExchangeStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class TransactionKind(enum.StrEnum):
    VISIT = "visit"  # confirmed care within an exchange
    GIFT = "gift"  # member to member (the Sarangori practice)
    DONATION = "donation"  # member to the community pool
    GRANT = "grant"  # community pool to a member, by a coordinator
    REVERSAL = "reversal"  # undoes an earlier transaction


class AccountKind(enum.StrEnum):
    MEMBER = "member"
    POOL = "pool"


class VettingStatus(enum.StrEnum):
    """Whether the centre has checked a carer (references, an interview, training)."""

    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    SUSPENDED = "suspended"


class CardStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # reported lost or stolen, or stopped by the centre
    REPLACED = "replaced"  # a newer card was issued


class CheckinConsent(enum.StrEnum):
    PIN = "pin"  # the resident typed their PIN on the carer's phone
    COORDINATOR = "coordinator"  # the resident cannot use a PIN; the centre approves


class CheckinStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a coordinator's approval
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


def _enum(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    # Stored as plain strings with a CHECK, so adding a value is an ordinary migration.
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )


class Centre(Base):
    """A local centre (welfare centre, co-operative office): the bank's branch for the
    neighbourhoods it serves, and the home of its coordinators."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    # One neighbourhood per line.
    neighbourhoods: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def neighbourhood_list(self) -> list[str]:
        return [line.strip() for line in self.neighbourhoods.splitlines() if line.strip()]

    def serves(self, neighbourhood: str) -> bool:
        wanted = (neighbourhood or "").strip().casefold()
        return bool(wanted) and any(n.casefold() == wanted for n in self.neighbourhood_list)


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
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    timezone: Mapped[str | None] = mapped_column(sa.String(50))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.MEMBER)
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
        _enum(VettingStatus, "vetting_status"), default=VettingStatus.UNVERIFIED
    )
    vetted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vetted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(back_populates="member", uselist=False)
    centre: Mapped[Centre | None] = relationship()

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
        return self.password_hash is not None

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


class Account(Base):
    """Where minutes live: one per member, plus the community pool."""

    __tablename__ = "accounts"
    # The visit totals are deferred and not RETURNed at insert, so this model still reads and
    # writes accounts at revisions before they existed (upgrade tests build old data with it).
    __mapper_args__ = {"eager_defaults": False}
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'member') = (member_id IS NOT NULL)", name="member_account_has_member"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind, "account_kind"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), unique=True)
    # Cache of sum(postings.minutes); changed only by ledger.record_transaction.
    balance_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Caches of the minutes given and received in confirmed visits, net of reversals, for
    # the reciprocity part of match ranking; changed only by ledger.record_transaction.
    given_minutes: Mapped[int] = mapped_column(sa.BigInteger, server_default="0", deferred=True)
    received_minutes: Mapped[int] = mapped_column(sa.BigInteger, server_default="0", deferred=True)

    member: Mapped[Member | None] = relationship(back_populates="account")


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
    kind: Mapped[PostKind] = mapped_column(_enum(PostKind, "post_kind"))
    category: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    minutes: Mapped[int] = mapped_column(sa.Integer)
    neighbourhood: Mapped[str] = mapped_column(sa.String(80), default="")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[PostStatus] = mapped_column(_enum(PostStatus, "post_status"), default=PostStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A coordinator who posted on the member's behalf.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at

    def is_open(self, now: datetime | None = None) -> bool:
        return self.status is PostStatus.OPEN and not self.is_expired(now)


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
        _enum(ExchangeStatus, "exchange_status"), default=ExchangeStatus.PROPOSED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[Post] = relationship()
    provider: Mapped[Member] = relationship(foreign_keys=[provider_id])
    receiver: Mapped[Member] = relationship(foreign_keys=[receiver_id])

    def is_party(self, member: Member) -> bool:
        return member.id in (self.provider_id, self.receiver_id)

    def other_party_id(self, member: Member) -> int:
        return self.receiver_id if member.id == self.provider_id else self.provider_id

    @property
    def is_accepted(self) -> bool:
        return self.status is ExchangeStatus.ACCEPTED


class Transaction(Base):
    """One movement of time; its postings sum to zero. Never updated or deleted."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(_enum(TransactionKind, "transaction_kind"))
    exchange_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exchanges.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_transactions.id"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    memo: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    postings: Mapped[list[Posting]] = relationship(
        back_populates="transaction", order_by="Posting.id"
    )


class Posting(Base):
    """One line of a transaction on one account: + credit, − debit, in minutes."""

    __tablename__ = "postings"
    __table_args__ = (
        sa.CheckConstraint("minutes <> 0", name="minutes_nonzero"),
        # A member's history, newest first, read straight off the index.
        sa.Index("ix_postings_account_transaction", "account_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_transactions.id"), index=True
    )
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))  # indexed with transaction_id below
    minutes: Mapped[int] = mapped_column(sa.Integer)

    transaction: Mapped[Transaction] = relationship(back_populates="postings")
    account: Mapped[Account] = relationship()


class LedgerSeal(Base):
    """A transaction's link in the hash chain: the SHA-256 of the previous seal's hash and the
    transaction's contents, so a row changed behind the app's back no longer matches its seal.
    Append-only; the database refuses to seal a transaction whose postings do not balance."""

    __tablename__ = "ledger_seals"

    transaction_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_transactions.id"), primary_key=True, autoincrement=False
    )
    # Unique: two seals can never follow the same one, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64))


class ConfirmationCode(Base):
    """A single-use code one party of an exchange shows so the other can confirm a visit.

    Only a hash of the random token is kept: a leaked database cannot be used to redeem.
    """

    __tablename__ = "confirmation_codes"
    __table_args__ = (sa.CheckConstraint("minutes > 0", name="minutes_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"), index=True)
    made_by_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    redeemer_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    minutes: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ledger_transactions.id"), unique=True
    )

    exchange: Mapped[Exchange] = relationship()
    made_by: Mapped[Member] = relationship(foreign_keys=[made_by_id])
    transaction: Mapped[Transaction | None] = relationship()

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at

    @property
    def is_redeemed(self) -> bool:
        return self.redeemed_at is not None


class IdempotencyKey(Base):
    """The first successful answer to a request sent with an `Idempotency-Key`.

    A phone that lost signal after sending does not know whether its request landed; it sends
    it again with the same key and gets this answer back instead of a second effect. Keys are
    the client's, so they are scoped by member: another member's key is another key.
    """

    __tablename__ = "idempotency_keys"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    # SHA-256 of the normalised request: the same key sent with another request is refused.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int] = mapped_column(sa.SmallInteger)
    response: Mapped[dict] = mapped_column(sa.JSON)
    # Indexed for purging old keys.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


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
    status: Mapped[CardStatus] = mapped_column(_enum(CardStatus, "card_status"), default=CardStatus.ACTIVE)
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
    consent: Mapped[CheckinConsent] = mapped_column(_enum(CheckinConsent, "checkin_consent"))
    status: Mapped[CheckinStatus] = mapped_column(
        _enum(CheckinStatus, "checkin_status"), default=CheckinStatus.PENDING, index=True
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


class Dispute(Base):
    """A party's objection to an exchange or one of its transactions, for the centre to settle."""

    __tablename__ = "disputes"
    __table_args__ = (
        # One open dispute per member and exchange, even when two requests race.
        sa.Index(
            "uq_disputes_one_open", "exchange_id", "raised_by_id", unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"), index=True)
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"))
    raised_by_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[DisputeStatus] = mapped_column(
        _enum(DisputeStatus, "dispute_status"), default=DisputeStatus.OPEN, index=True
    )
    resolution: Mapped[str] = mapped_column(sa.String(500), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    exchange: Mapped[Exchange] = relationship()
    transaction: Mapped[Transaction | None] = relationship()
    raised_by: Mapped[Member] = relationship(foreign_keys=[raised_by_id])
    resolved_by: Mapped[Member | None] = relationship(foreign_keys=[resolved_by_id])


class AuditEntry(Base):
    """What a coordinator did, and for whom: "done by coordinator X for member Y".
    Append-only, like the ledger."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    centre_id: Mapped[int | None] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id"))
    exchange_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exchanges.id"))
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[Member] = relationship(foreign_keys=[actor_id])
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])
