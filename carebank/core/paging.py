"""Paging a list asked for with ?page=N."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request

MAX_PAGE = 1000  # a deeper page is never wanted, and a huge offset overflows the driver


@dataclass(frozen=True)
class Page:
    """One page of a list asked for with ?page=N: read one row more than it shows, which
    tells whether there is a next page without counting them all."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def limit(self) -> int:
        return self.size + 1

    def split(self, found: list) -> tuple[list, bool]:
        """The rows to show, and whether more follow."""
        return found[: self.size], len(found) > self.size


def requested_page(size: int) -> Page:
    return Page(min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE), size)
