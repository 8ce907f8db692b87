"""Members: signing up, logging in, profiles and roles."""
from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload, undefer

from carebank.audit import services as audit
from carebank.centres.services import listed_neighbourhood, require_coordinator, scope_filter
from carebank.core.converters import MAX_ID
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from carebank.core.passwords import hash_password, needs_rehash, verify_password
from carebank.ledger.services import open_member_account
from carebank.members.models import LoginSession, Member, Role, VettingStatus
from carebank.members.names import clean_name

PASSWORD_MIN_LENGTH = 8
NAME_MAX_LENGTH = 80
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^[0-9+()\-\s]{6,40}$")
SUPPORTED_LOCALES = ("ko", "en")
CONSENT_MAX_LENGTH = 200
# The console's member lists (their labels are members.forms.MEMBER_FILTERS).
MEMBER_LISTS = {
    "all": sa.true(),
    "no_login": sa.and_(Member.password_hash.is_(None), sa.not_(Member.has_passkey)),
    "verified": Member.vetting == VettingStatus.VERIFIED,
    "deactivated": Member.deactivated_at.is_not(None),
}


class WrongCredentials(DomainError):
    """A login refused: the email or the password is not right (never saying which)."""

    status = 401
    code = "invalid_credentials"


def normalise_email(email) -> str:
    return email.strip().lower() if isinstance(email, str) else ""


def _required_text(value, field: str, max_length: int, label) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if not value:
        message = _l("Please fill in %(field)s.", field=label)
        raise ValidationFailed(message, fields={field: message})
    if len(value) > max_length:
        message = _l("%(field)s can be at most %(max)s characters.", field=label, max=max_length)
        raise ValidationFailed(message, fields={field: message})
    return value


def _optional_text(value, field: str, max_length: int, label) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return _required_text(value, field, max_length, label)


def create_member(
    session: Session, *, name, email, password, neighbourhood="", locale=None, languages="",
    offers_text="", phone=None, role: Role = Role.MEMBER, centre_id: int | None = None,
) -> Member:
    """Sign up a member with an empty time account, in the centre serving their
    neighbourhood unless a centre is given."""
    name = clean_name(name, "name", NAME_MAX_LENGTH, _l("your name"))
    email = _valid_email(email)
    _check_new_password(password, "password")
    if email_taken(session, email):
        message = _l("There is already an account with this email address.")
        raise Conflict(message, code="email_taken", fields={"email": message})
    member = Member(name=name, email=email, password_hash=hash_password(password), role=role)
    _apply_profile(member, neighbourhood=neighbourhood, languages=languages,
                   offers_text=offers_text, phone=phone, locale=locale)
    serving = _serving_centre_id(session, member, centre_id)
    member.centre_id = centre_id if centre_id is not None else serving
    session.add(member)
    open_member_account(session, member)
    session.flush()
    return member


SIGNUP_DETAILS = ("name", "neighbourhood", "phone", "locale", "languages")


def signup_details(*, name, neighbourhood="", phone=None, locale=None, languages="") -> dict:
    """The checked details of a sign-up without e-mail, to keep until its passkey is
    registered (ValidationFailed naming the field otherwise); nothing is written."""
    member = Member()
    member.name = clean_name(name, "name", NAME_MAX_LENGTH, _l("your name"))
    _apply_profile(member, neighbourhood=neighbourhood, phone=phone, locale=locale, languages=languages)
    return {field: getattr(member, field) for field in SIGNUP_DETAILS}


def create_member_without_email(session: Session, details: dict) -> Member:
    """Sign up a member who signs in with a passkey only (no e-mail, no password), from
    `signup_details`; the caller registers the passkey in the same transaction."""
    details = signup_details(**{field: details.get(field) for field in SIGNUP_DETAILS})
    member = Member(email=None, password_hash=None, role=Role.MEMBER, name=details.pop("name"))
    _apply_profile(member, **{k: v or "" for k, v in details.items()})
    member.centre_id = _serving_centre_id(session, member)
    session.add(member)
    open_member_account(session, member)
    session.flush()
    return member


def _valid_email(email) -> str:
    email = normalise_email(email if isinstance(email, str) else "")
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        message = _l("Please enter a valid email address.")
        raise ValidationFailed(message, fields={"email": message})
    return email


def _check_new_password(password, field: str) -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN_LENGTH:
        message = _l("The password needs at least %(min)s characters.", min=PASSWORD_MIN_LENGTH)
        raise ValidationFailed(message, fields={field: message})


def _serving_centre_id(session: Session, member: Member, centre_id: int | None = None) -> int | None:
    """The centre of the member's neighbourhood, which must be on the list (ValidationFailed
    naming "neighbourhood" otherwise); the member keeps the list's spelling of it."""
    entry = listed_neighbourhood(session, member.neighbourhood, centre_id=centre_id or member.centre_id)
    if entry is None:
        return None
    member.neighbourhood = entry.name
    return entry.centre_id


def register_resident(
    session: Session, coordinator: Member, *, name, consent_note, neighbourhood="", phone=None,
    locale=None, languages="", offers_text="", centre_id: int | None = None,
) -> Member:
    """A coordinator registers a resident on their behalf: no email or password (they use a
    printed card), consent recorded, in the coordinator's centre (an admin may choose)."""
    require_coordinator(coordinator)
    note = _consent_note(consent_note)
    if not coordinator.is_admin or centre_id is None:
        centre_id = coordinator.centre_id
    member = Member(
        name=clean_name(name, "name", NAME_MAX_LENGTH, _l("the name")),
        email=None, password_hash=None, role=Role.MEMBER, centre_id=centre_id,
        registered_by_id=coordinator.id, consent_at=utcnow(), consent_note=note,
    )
    _apply_profile(member, neighbourhood=neighbourhood, languages=languages,
                   offers_text=offers_text, phone=phone, locale=locale)
    _serving_centre_id(session, member)
    session.add(member)
    open_member_account(session, member)
    session.flush()
    audit.record(session, coordinator, "member.register", member=member, reason=note)
    return member


def _consent_note(value) -> str:
    note = value.strip() if isinstance(value, str) else ""
    if not note:
        message = _l("Record how the resident gave their consent (e.g. signed paper form).")
        raise ValidationFailed(message, fields={"consent_note": message})
    if len(note) > CONSENT_MAX_LENGTH:
        message = _l("%(field)s can be at most %(max)s characters.", field=_l("consent"), max=CONSENT_MAX_LENGTH)
        raise ValidationFailed(message, fields={"consent_note": message})
    return note


def email_taken(session: Session, email: str) -> bool:
    return session.scalar(sa.select(Member.id).where(Member.email == email)) is not None


def authenticate(session: Session, email, password) -> Member | None:
    """The member with this email and password, or None. A matching hash made the old way
    (werkzeug, or weaker argon2 parameters) is replaced by a fresh argon2id one: flushed here,
    committed by the caller."""
    member = session.scalar(sa.select(Member).where(Member.email == normalise_email(email)))
    if member is None or member.password_hash is None or not member.is_active:
        verify_password(None, password)  # as long as a real check: no hint which emails exist
        return None
    if not verify_password(member.password_hash, password):
        return None
    if needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
        session.flush()
    return member


def log_in(session: Session, email, password) -> Member:
    """The member `authenticate` finds, or WrongCredentials."""
    member = authenticate(session, email, password)
    if member is None:
        raise WrongCredentials(_l("The email or password is not right."))
    return member


def update_profile(session: Session, member: Member, **fields) -> Member:
    """Change the profile fields given; the name must stay non-empty."""
    if "name" in fields:
        member.name = clean_name(fields.pop("name"), "name", NAME_MAX_LENGTH, _l("your name"))
    _apply_profile(member, **fields)
    if fields.get("neighbourhood") is not None:
        serving = _serving_centre_id(session, member)
        if serving is not None and member.role == Role.MEMBER:
            member.centre_id = serving  # staff keep the centre they work in
    session.flush()
    return member


def _apply_profile(member: Member, *, neighbourhood=None, languages=None, offers_text=None,
                   phone=None, locale=None, timezone=None, phone_shared_with_partners=None) -> None:
    if neighbourhood is not None:
        member.neighbourhood = _optional_text(neighbourhood, "neighbourhood", 80, _l("neighbourhood"))
    if languages is not None:
        member.languages = _optional_text(languages, "languages", 80, _l("languages"))
    if offers_text is not None:
        member.offers_text = _optional_text(offers_text, "offers_text", 2000, _l("what you can offer"))
    if phone is not None:
        phone = phone.strip() if isinstance(phone, str) else "!"
        if phone and not PHONE_PATTERN.match(phone):
            message = _l("Please enter a phone number with digits only.")
            raise ValidationFailed(message, fields={"phone": message})
        member.phone = phone or None
    if phone_shared_with_partners is not None:
        if not isinstance(phone_shared_with_partners, bool):
            message = _l("Say yes or no to showing your phone number.")
            raise ValidationFailed(message, fields={"phone_shared_with_partners": message})
        member.phone_shared_with_partners = phone_shared_with_partners
    if locale is not None:
        member.locale = locale if locale in SUPPORTED_LOCALES else None
    if timezone is not None:
        if timezone and timezone not in available_timezones():
            message = _l("Choose a time zone from the list.")
            raise ValidationFailed(message, fields={"timezone": message})
        member.timezone = timezone or None


def change_password(session: Session, member: Member, current: str, new: str, *,
                    keep_login: str | None = None) -> None:
    """Set a new password and end every other login of the member (a phone or a copied
    cookie someone else holds); `keep_login` is the token of the login that changed it."""
    if member.password_hash is None or not verify_password(member.password_hash, current):
        message = _l("The current password is not right.")
        raise ValidationFailed(message, fields={"current_password": message})
    set_password(session, member, new, "new_password", keep_login=keep_login)


def set_first_password(session: Session, member: Member, email, new) -> None:
    """A member without a password (they sign in with a passkey or their card) sets one, with
    an e-mail to log in by if they have none yet; their other logins stay."""
    if member.password_hash is not None:
        message = _l("You already have a password. Change it with your current one.")
        raise Conflict(message, code="has_password")
    if not member.email:
        email = _valid_email(email)
        if email_taken(session, email):
            message = _l("There is already an account with this email address.")
            raise Conflict(message, code="email_taken", fields={"email": message})
        member.email = email
    _check_new_password(new, "new_password")
    member.password_hash = hash_password(new)
    session.flush()


def set_password(session: Session, member: Member, new, field: str, *, keep_login: str | None = None) -> None:
    """Check and store a new password, ending every login of the member but `keep_login`."""
    _check_new_password(new, field)
    member.password_hash = hash_password(new)
    end_logins(session, member, keep=keep_login)
    session.flush()


# Logins: one row per logged-in phone or browser (LoginSession), found by its token's hash.

def token_hash(token: str) -> str:
    """How a login or reset token is stored: its SHA-256, so a database copy logs no one in."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_login(session: Session, member: Member, *, forget_before: datetime | None = None) -> str:
    """Record a new login of the member; its token (for the cookies) is returned once. Their
    logins made before `forget_before`, whose cookies can no longer be valid, are deleted."""
    if forget_before is not None:
        session.execute(sa.delete(LoginSession).where(LoginSession.member_id == member.id,
                                                      LoginSession.created_at < forget_before))
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(member_id=member.id, token_hash=token_hash(token)))
    session.flush()
    return token


def member_of_login(session: Session, token: str | None) -> Member | None:
    """The active member of the login with this token; None once the login has ended (logout,
    password change or reset, deactivation) or for a cookie holding a bare member id (from
    before logins were kept)."""
    if not token:
        return None
    member = session.scalar(_member_of_login_query(), {"token_hash": token_hash(token)})
    return member if member is not None and member.is_active else None


@functools.cache
def _member_of_login_query() -> sa.Select:
    # Asked on every logged-in request: built once, and with the member's account, as most
    # pages show the balance (one query, not two).
    return (sa.select(Member).options(joinedload(Member.account))
            .join(LoginSession, LoginSession.member_id == Member.id)
            .where(LoginSession.token_hash == sa.bindparam("token_hash")))


def end_login(session: Session, token: str | None) -> None:
    """End one login (a logout): its cookies, and every copy of them, stop working."""
    if token:
        session.execute(sa.delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


def end_logins(session: Session, member: Member, *, keep: str | None = None) -> None:
    """End every login of the member, except the one whose token is `keep`."""
    query = sa.delete(LoginSession).where(LoginSession.member_id == member.id)
    if keep:
        query = query.where(LoginSession.token_hash != token_hash(keep))
    session.execute(query)


def get_member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(_l("That member does not exist."), code="member_not_found")
    return member


def find_member(session: Session, member_id: int | None) -> Member | None:
    """The member with this id, or None (for an optional reference such as who registered them)."""
    return session.get(Member, member_id) if member_id else None


def search_members(session: Session, coordinator: Member, text: str, show: str, *,
                   limit: int, offset: int) -> list[Member]:
    """The coordinator's members in the list `show` (a MEMBER_LISTS key) matching a name,
    member number or phone, by name."""
    query = (
        sa.select(Member).options(selectinload(Member.account), undefer(Member.has_passkey))
        .where(scope_filter(coordinator), MEMBER_LISTS[show])
        .order_by(Member.name, Member.id)
    )
    text = text.strip()
    if text:
        query = query.where(sa.or_(*_matching(text)))
    return list(session.scalars(query.limit(limit).offset(offset)))


def _matching(text: str) -> list:
    matches = [sa.func.lower(Member.name).contains(text.lower(), autoescape=True),
               Member.phone.contains(text, autoescape=True)]
    if text.isdigit() and int(text) <= MAX_ID:
        matches.append(Member.id == int(text))
    return matches


def find_by_email(session: Session, email: str) -> Member:
    member = session.scalar(sa.select(Member).where(Member.email == normalise_email(email)))
    if member is None:
        raise NotFound(_l("That member does not exist."), code="member_not_found")
    return member


def set_role(session: Session, email: str, role: Role) -> Member:
    """Give a member a role (used by the CLI until the coordinator console exists)."""
    member = find_by_email(session, email)
    member.role = role
    session.flush()
    return member
