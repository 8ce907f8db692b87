"""Database ids in URLs and bodies: every id column is a 32-bit integer."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

# A larger number in a URL is simply unknown (404), and one in a body or form is refused
# (400) before it can overflow the database driver (PostgreSQL's integer is 32 bits).
MAX_ID = 2**31 - 1


def _at_most(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to `limit`."""
    digits = str(limit)
    options = [rf"\d{{1,{len(digits) - 1}}}"]
    for place, digit in enumerate(digits):
        rest = len(digits) - place - 1
        if digit != "0":
            options.append(digits[:place] + f"[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """`<id:member_id>` in a route: digits within the id range, else the route does not match.

    The range is in the pattern itself, not only checked after a match: a path whose GET and
    POST are two routes would otherwise answer 405 instead of 404 for a number past it."""

    regex = _at_most(MAX_ID)

    def __init__(self, url_map):
        super().__init__(url_map, max=MAX_ID)


def is_id(value) -> bool:
    """Whether `value` can be a row's id: a whole number within the 32-bit id range."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def by_id(session, model, value):
    """The row of `model` with this id; None for anything that is no row's id (never an
    overflow in the database driver)."""
    return session.get(model, value) if is_id(value) else None
