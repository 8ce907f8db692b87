"""Idempotency keys: a client that retries a request with the same key gets the first answer.

A phone that queued a visit confirmation offline sends it when the signal returns, perhaps
twice (a page and the service worker both flushing, or a lost response). The first successful
answer is stored under (member, key) with a hash of the normalised request; a replay answers
that stored status and body without running the request again, so a code that has expired
since, or an exchange cancelled since, still answers what it answered then. Failures are not
stored: a retry after the reason went away (a balance topped up) must be able to succeed.
Like the other domain modules these functions add and flush, and never commit.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebank.core.database import Base, UTCDateTime, utcnow
from carebank.core.errors import DomainError, ValidationFailed

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,100}")
# How long a stored answer is worth keeping: an offline queue is flushed within days.
KEEP_FOR = timedelta(days=30)


class KeyReused(DomainError):
    """The key was already used for a different request: a client bug, not a retry."""

    status = 422
    code = "idempotency_key_reused"


def parse_key(value: str | None) -> str | None:
    """The key from the header's value (None when the header was not sent), or a 400 error."""
    if value is None:
        return None
    if not KEY_PATTERN.fullmatch(value):
        raise ValidationFailed(
            _l("The Idempotency-Key header must be 1 to 100 letters, digits, '-' or '_'."),
            code="invalid_idempotency_key",
        )
    return value


def request_hash(*parts: str) -> str:
    """A fingerprint of the normalised request (e.g. the endpoint and the parsed code), so
    the same request written differently (URL or bare code) counts as the same."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def stored_answer(session: Session, member_id: int, key: str, fingerprint: str) -> tuple[int, dict] | None:
    """The (status, body) stored for this member's key, None if the key is new; a 422 error
    when the key was used for another request."""
    row = session.get(IdempotencyKey, (member_id, key))
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise KeyReused(_l("This Idempotency-Key was already used for a different request."))
    return row.status, row.response


def remember(
    session: Session, member_id: int, key: str, fingerprint: str, status: int, response: dict,
    now: datetime | None = None,
) -> tuple[int, dict]:
    """Store a successful answer under the key and return the answer to give.

    When a concurrent request with the same key stored its answer first, the insert hits the
    primary key; the savepoint keeps our own work (the same redemption, returned again) and
    the winner's stored answer is given instead, so every retry sees one answer."""
    row = IdempotencyKey(member_id=member_id, key=key, request_hash=fingerprint, status=status,
                         response=response, created_at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # The savepoint's rollback expunged our row; the winner's has committed (our insert
        # waited for it), so reading it now sees it.
        answer = stored_answer(session, member_id, key, fingerprint)
        if answer is None:  # not a duplicate key after all: a real error, not a race
            raise
        return answer
    return status, response


def purge(session: Session, older_than: timedelta = KEEP_FOR, now: datetime | None = None) -> int:
    """Delete keys stored more than `older_than` ago; returns how many. A retry after that
    runs again, which for a redemption returns the same transaction (HTTP 200)."""
    cutoff = (now or utcnow()) - older_than
    result = session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


class IdempotencyKey(Base):
    """The first successful answer to a request sent with an `Idempotency-Key`.

    A phone that lost signal after sending does not know whether its request landed; it sends
    it again with the same key and gets this answer back instead of a second effect. Keys are
    the client's, so they are scoped by member: another member's key is another key.
    """

    __tablename__ = "idempotency_keys"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    # SHA-256 of the normalised request: the same key sent with another request is refused.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int] = mapped_column(sa.SmallInteger)
    response: Mapped[dict] = mapped_column(sa.JSON)
    # Indexed for purging old keys.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
