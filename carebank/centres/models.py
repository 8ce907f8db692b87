"""The centre table, and the list of neighbourhoods each centre serves."""
from __future__ import annotations

import unicodedata
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, utcnow


def neighbourhood_key(text: str | None) -> str:
    """How a typed neighbourhood is compared: NFC, any case, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()


class Centre(Base):
    """A local centre (welfare centre, co-operative office): the bank's branch for the
    neighbourhoods it serves, and the home of its coordinators."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    neighbourhood_entries: Mapped[list[Neighbourhood]] = relationship(
        back_populates="centre", order_by="Neighbourhood.id",  # the order the centre gave
        cascade="all, delete-orphan")

    @property
    def neighbourhood_list(self) -> list[str]:
        return [entry.name for entry in self.neighbourhood_entries]

    def serves(self, neighbourhood: str) -> bool:
        return any(entry.matches(neighbourhood) for entry in self.neighbourhood_entries)


class Neighbourhood(Base):
    """A neighbourhood (행정동) on the list: it belongs to exactly one centre, and members and
    posts name it by `name` (their `neighbourhood` column holds one of these names)."""

    __tablename__ = "neighbourhoods"
    __table_args__ = (
        # One 행정동 belongs to one centre; a centre never lists the same name twice, so a
        # member's (centre, neighbourhood name) always finds its entry.
        sa.UniqueConstraint("district", "name"),
        sa.UniqueConstraint("centre_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    district: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    centre: Mapped[Centre] = relationship(back_populates="neighbourhood_entries")

    @property
    def label(self) -> str:
        """"종로구 효자동", or the name alone when no district is known."""
        return f"{self.district} {self.name}" if self.district else self.name

    def matches(self, typed: str | None) -> bool:
        """Whether a typed value means this entry, with or without the district in front."""
        key = neighbourhood_key(typed)
        return bool(key) and key in {neighbourhood_key(self.name), neighbourhood_key(self.label)}
