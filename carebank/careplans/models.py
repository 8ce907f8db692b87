"""A care plan: when an exchange's visits happen, as an RFC 5545 recurrence, and what to do on
public holidays and the centre's closure days."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from carebank.exchanges.models import Exchange


class PlanStatus(enum.StrEnum):
    PROPOSED = "proposed"  # waiting for the other party (or the centre, for a card-only resident)
    ACTIVE = "active"
    ENDED = "ended"  # past its end, ended by a party, or replaced by a newer version


class HolidayPolicy(enum.StrEnum):
    SKIP = "skip"  # no visit on a holiday or closure day
    MOVE = "move"  # to the next working day


class VisitPlace(enum.StrEnum):
    HOME = "home"  # the receiver's home
    CENTRE = "centre"


class CarePlan(Base):
    """One version of an exchange's schedule. Editing "this and following" ends this version
    (its `until` moves back) and starts a new one that `replaces_id` points back from."""

    __tablename__ = "care_plans"
    __table_args__ = (
        sa.CheckConstraint("minutes > 0", name="positive_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(sa.ForeignKey("exchanges.id"), index=True)
    # The RRULE value without DTSTART ("FREQ=WEEKLY;BYDAY=TU,TH"); UNTIL comes from `until`.
    rrule: Mapped[str] = mapped_column(sa.String(200))
    # The first visit's start (UTC); its wall-clock time in `timezone` is every visit's time.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Seoul")
    minutes: Mapped[int]
    until: Mapped[date] = mapped_column(sa.Date)  # the last day a visit may fall on, inclusive
    place: Mapped[VisitPlace] = mapped_column(enum_column(VisitPlace, "visit_place"), default=VisitPlace.HOME)
    holiday_policy: Mapped[HolidayPolicy] = mapped_column(
        enum_column(HolidayPolicy, "holiday_policy"), default=HolidayPolicy.SKIP)
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus, "plan_status"), default=PlanStatus.PROPOSED)
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("care_plans.id"))
    # Visits exist up to here (exclusive); the worker's task moves it forward.
    generated_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    exchange: Mapped[Exchange] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status is PlanStatus.ACTIVE


class CentreClosure(Base):
    """A day a centre is closed beyond the public holidays (a typhoon, an ad-hoc holiday):
    plans of its members skip or move visits on it like on a holiday."""

    __tablename__ = "centre_closures"
    __table_args__ = (sa.UniqueConstraint("centre_id", "day", name="one_closure_a_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    day: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
