"""How often a member may send messages: the page and the API share one count per member, so
switching between them gains nothing (MESSAGE_RATE_LIMIT, read at every request)."""
from __future__ import annotations

from carebank.core.extensions import limiter
from carebank.core.rate_limits import configured, per_member

writing = limiter.shared_limit(
    configured("MESSAGE_RATE_LIMIT"), scope="message", key_func=per_member, methods=["POST"])
