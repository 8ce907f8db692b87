"""Accounts, transactions, postings and the seals that chain them."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.members.models import Member



class TransactionKind(enum.StrEnum):
    VISIT = "visit"  # confirmed care within an exchange
    GIFT = "gift"  # member to member (the Sarangori practice)
    DONATION = "donation"  # member to the community pool
    GRANT = "grant"  # community pool to a member, by a coordinator
    REVERSAL = "reversal"  # undoes an earlier transaction


class AccountKind(enum.StrEnum):
    MEMBER = "member"
    POOL = "pool"


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
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind, "account_kind"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), unique=True)
    # Cache of sum(postings.minutes); changed only by ledger.record_transaction.
    balance_minutes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Caches of the minutes given and received in confirmed visits, net of reversals, for
    # the reciprocity part of match ranking; changed only by ledger.record_transaction.
    given_minutes: Mapped[int] = mapped_column(sa.BigInteger, server_default="0", deferred=True)
    received_minutes: Mapped[int] = mapped_column(sa.BigInteger, server_default="0", deferred=True)

    member: Mapped[Member | None] = relationship(back_populates="account")


class Transaction(Base):
    """One movement of time; its postings sum to zero. Never updated or deleted."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_column(TransactionKind, "transaction_kind"))
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
