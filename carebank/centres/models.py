"""The centre table."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carebank.core.database import Base, UTCDateTime, utcnow


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
