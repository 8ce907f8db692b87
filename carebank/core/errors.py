"""Domain errors: each carries a stable code, an HTTP status and a translatable message.

Services raise them; the web views flash the message and the API renders
{"error": {"code", "message"}} with the status. Messages are lazy strings so they are
translated in the locale of the request that shows them.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status = 400
    code = "invalid"
    # True for the one refusal whose writes must stand: a wrong PIN's counted try
    # (checkins.WrongPin). Each interface's commit helper commits them instead of rolling back.
    keeps_changes = False

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None):
        super().__init__(str(message) if message else self.code)
        self.message = message or _l("That request is not valid.")
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationFailed(DomainError):
    status = 400
    code = "invalid_input"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InsufficientBalance(Conflict):
    """An account would go below its floor. The message says whose and what helps; the error
    also carries the member (None: the community pool) and the floor, in minutes."""

    code = "insufficient_balance"

    def __init__(self, message=None, *, member_id: int | None = None, floor_minutes: int | None = None):
        super().__init__(message)
        self.member_id = member_id
        self.floor_minutes = floor_minutes


class Expired(DomainError):
    status = 410
    code = "expired"
