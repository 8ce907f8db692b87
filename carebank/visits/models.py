"""A visit: one dated meeting of an exchange, with the facts electronic visit verification
asks for (service, person served, carer, date, place, start and end) and its one credit."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from carebank.careplans.models import CarePlan
    from carebank.exchanges.models import Exchange


class VisitStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    CREDITED = "credited"  # confirmed: its minutes are in the ledger, in `transaction_id`
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    DISPUTED = "disputed"


class Visit(Base):
    """Generated from a care plan (unique per plan and original start, so a second run adds
    nothing), or the single visit of a one-off exchange (no plan)."""

    __tablename__ = "visits"
    __table_args__ = (
        sa.UniqueConstraint("care_plan_id", "original_start", name="one_visit_per_occurrence"),
        sa.CheckConstraint("minutes > 0", name="positive_minutes"),
        sa.Index("ix_visits_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    care_plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("care_plans.id"), index=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"), index=True)
    # The recurrence's own start for this visit (what RECURRENCE-ID names); `starts_at` differs
    # when a holiday moved it or "only this one" was changed.
    original_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    minutes: Mapped[int]  # planned
    status: Mapped[VisitStatus] = mapped_column(enum_column(VisitStatus, "visit_status"), default=VisitStatus.SCHEDULED)
    moved_for_holiday: Mapped[bool] = mapped_column(default=False)
    overridden: Mapped[bool] = mapped_column(default=False)  # "only this one" changed it

    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    check_in_method: Mapped[str] = mapped_column(sa.String(16), default="")  # app, card, pin
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    confirmed_minutes: Mapped[int | None]
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"), unique=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    no_show_party: Mapped[str] = mapped_column(sa.String(16), default="")  # provider, receiver

    # What the reminders and safety checks have done, so each happens once.
    reminded_day_before_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_soon_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    overdue_note: Mapped[str] = mapped_column(sa.String(500), default="")  # what the centre found
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    care_plan: Mapped[CarePlan | None] = relationship()
    exchange: Mapped[Exchange] = relationship()

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)


class CalendarFeed(Base):
    """A member's private calendar address. Its secret is an HMAC of `nonce` under the app's
    secret key, so the database alone does not give it away and the address can be shown
    again; a new nonce makes a new address, and the old one stops working."""

    __tablename__ = "calendar_feeds"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(32))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # for the lookup
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
