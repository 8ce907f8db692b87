"""Password resets: a single-use link, valid for an hour, that sets a new password and ends
every login of the member. Asked for by the member (answered the same whether or not the
address belongs to anyone) or by a coordinator of their centre.

A link's token is 256 random bits; only its SHA-256 is stored. Using it claims the reset with
a conditional UPDATE (as confirmation codes are claimed), so of two uses at once one wins.
Functions add and flush; the caller commits, then mails the link (carebank/members/reset_mail.py).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.audit import services as audit
from carebank.centres import services as centres
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, Expired, NotFound, ValidationFailed
from carebank.members import services as members
from carebank.members.models import Member, PasswordReset

RESET_LIFETIME = timedelta(hours=1)


def request_reset(session: Session, email, *, now: datetime | None = None) -> tuple[PasswordReset, str] | None:
    """A reset and its raw token for the active member with a login at this address, or None
    (the caller answers the same either way, so no one learns which addresses exist)."""
    email = members.normalise_email(email)
    if not members.EMAIL_PATTERN.match(email):
        message = _l("Please enter a valid email address.")
        raise ValidationFailed(message, fields={"email": message})
    member = session.scalar(sa.select(Member).where(Member.email == email))
    if member is None or not member.has_login or not member.is_active:
        return None
    return _issue(session, member, now=now)


def coordinator_reset(session: Session, coordinator: Member, member: Member, *,
                      now: datetime | None = None) -> tuple[PasswordReset, str]:
    """A coordinator sends a reset link to a member of their centre (another centre's member is
    "not found"); the audit log records it."""
    member = centres.managed_member(session, coordinator, member.id)
    if not member.is_active:
        raise Conflict(_l("This member is deactivated. Reactivate them first."), code="member_deactivated")
    if not member.has_login or not member.email:
        raise Conflict(_l("This member has no login to reset."), code="no_login")
    issued = _issue(session, member, now=now, requested_by=coordinator)
    audit.record(session, coordinator, "member.reset", member=member)
    return issued


def _issue(session: Session, member: Member, *, now: datetime | None,
           requested_by: Member | None = None) -> tuple[PasswordReset, str]:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(member_id=member.id, token_hash=members.token_hash(token), created_at=now,
                          expires_at=now + RESET_LIFETIME,
                          requested_by_id=requested_by.id if requested_by else None)
    session.add(reset)
    session.flush()
    return reset, token


def usable_reset(session: Session, token, *, now: datetime | None = None) -> PasswordReset:
    """The reset of this link, if it can still be used: NotFound for a link that never was,
    Expired for one used, past its hour, or of a member who has since been deactivated."""
    reset = None
    if isinstance(token, str) and token:
        reset = session.scalar(sa.select(PasswordReset).where(PasswordReset.token_hash == members.token_hash(token)))
    if reset is None:
        raise NotFound(_l("This password reset link is not valid. Check that it is complete, or ask for a new one."),
                       code="reset_not_found")
    _check_usable(reset, now or utcnow())
    return reset


def _check_usable(reset: PasswordReset, now: datetime) -> None:
    if reset.is_used:
        raise Expired(_l("This password reset link has already been used. Ask for a new one if you still need it."),
                      code="reset_used")
    if reset.is_expired(now) or not reset.member.is_active:
        raise Expired(_l("This password reset link has expired: it works for one hour. Ask for a new one."),
                      code="reset_expired")


def complete_reset(session: Session, token, new_password, *, now: datetime | None = None) -> Member:
    """Use the link: set the new password and end every login of the member. The link, and
    any other link still open for them, cannot be used again."""
    now = now or utcnow()
    reset = usable_reset(session, token, now=now)
    member = reset.member
    members.set_password(session, member, new_password, "password")  # checked before the claim
    if not _claim(session, reset, now):
        session.expire(reset)
        _check_usable(reset, now)  # someone used it between our read and our update
        raise Expired(_l("This password reset link has already been used. Ask for a new one if you still need it."),
                      code="reset_used")
    _close_other_links(session, member, now)
    session.expire(reset)
    return member


def _claim(session: Session, reset: PasswordReset, now: datetime) -> bool:
    """Mark the reset used unless someone already did: one UPDATE, so only one use wins."""
    return session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def _close_other_links(session: Session, member: Member, now: datetime) -> None:
    session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.member_id == member.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
