"""Database ids in URLs and bodies."""
from __future__ import annotations

MAX_ID = 2**31 - 1
