"""Database ids in URLs and bodies: every id column is a 32-bit integer."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

# A larger number in a URL is simply unknown (404), and one in a body or form is refused
# (400) before it can overflow the database driver (PostgreSQL's integer is 32 bits).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:member_id>` in a route: digits within the id range, else the route does not match."""

    def __init__(self, url_map):
        super().__init__(url_map, max=MAX_ID)
