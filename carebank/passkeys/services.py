"""Signing in without a password: passkeys (WebAuthn, with the `webauthn` package) and a
member card with its PIN.

Every ceremony starts with a challenge kept on the server (PasskeyChallenge), found by a
random token the browser's session holds, used once and valid for minutes; the browser is
never trusted to say what the challenge was. The relying party is this app's origin
(CAREBANK_BASE_URL, else the request's), so its host name is the passkey's RP ID.
"""
from __future__ import annotations

import binascii
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.checkins import services as checkins
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from carebank.members import services as members
from carebank.members.models import Member
from carebank.passkeys.models import Passkey, PasskeyChallenge

RP_NAME = "Carebank"
NAME_MAX_LENGTH = 60
CHALLENGE_LIFETIME = timedelta(minutes=5)
# A sign-up without e-mail waits this long for its passkey before it is forgotten.
SIGNUP_LIFETIME = timedelta(minutes=30)
TIMEOUT_MS = 120_000  # an older member may take a while to find the fingerprint reader
REGISTER, LOGIN, SIGNUP = "register", "login", "signup"


class PasskeyRefused(DomainError):
    """The browser's answer did not prove a passkey of this bank. The challenge it answered
    is used up all the same (that write is kept), so the answer cannot be tried again."""

    status = 400
    code = "passkey_refused"
    keeps_changes = True


class PasskeySignInFailed(PasskeyRefused):
    status = 401
    code = "passkey_sign_in_failed"


def relying_party(origin: str) -> tuple[str, str]:
    """(RP ID, origin) for an origin such as https://care.example.org or http://localhost:5000."""
    parts = urlsplit(origin)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


# ---- challenges ------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_challenge(session: Session, purpose: str, *, member: Member | None = None,
                   signup: dict | None = None, lifetime: timedelta = CHALLENGE_LIFETIME) -> tuple[str, PasskeyChallenge]:
    """A new challenge row, and the token (for the session) that finds it. Expired rows go."""
    now = utcnow()
    session.execute(sa.delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now))
    token = secrets.token_urlsafe(32)
    row = PasskeyChallenge(token_hash=_token_hash(token), purpose=purpose, member_id=member.id if member else None,
                           signup=signup, expires_at=now + lifetime)
    session.add(row)
    return token, row


def _pending(session: Session, token, purpose: str) -> PasskeyChallenge | None:
    if not isinstance(token, str) or not token:
        return None
    row = session.scalar(sa.select(PasskeyChallenge).where(
        PasskeyChallenge.token_hash == _token_hash(token), PasskeyChallenge.purpose == purpose))
    return row if row is not None and not row.is_expired(utcnow()) else None


def _take_challenge(session: Session, token, purpose: str, refusal: type[PasskeyRefused]) -> bytes:
    """The challenge the browser was given, used up now (a pending sign-up keeps its details)."""
    row = _pending(session, token, purpose)
    if row is None or row.challenge is None:
        raise refusal(_l("That took too long or was already used. Please try again."), code="passkey_expired")
    challenge = row.challenge
    if purpose == SIGNUP:
        row.challenge = None
    else:
        session.delete(row)
    session.flush()
    return challenge


# ---- registering a passkey ---------------------------------------------------------------


def passkeys_of(session: Session, member: Member) -> list[Passkey]:
    return list(session.scalars(sa.select(Passkey).where(Passkey.member_id == member.id)
                                .order_by(Passkey.created_at, Passkey.id)))


def _user_handle(session: Session, member: Member | None) -> bytes:
    """The member's WebAuthn user handle: the one their passkeys carry, else a new random one."""
    if member is not None:
        handle = session.scalar(sa.select(Passkey.user_handle).where(Passkey.member_id == member.id).limit(1))
        if handle:
            return handle
    return secrets.token_bytes(32)


def _registration_options(session, row: PasskeyChallenge, member: Member | None, display_name: str,
                          origin: str) -> str:
    rp_id, _origin = relying_party(origin)
    existing = passkeys_of(session, member) if member is not None else []
    options = generate_registration_options(
        rp_id=rp_id, rp_name=RP_NAME, user_id=row.user_handle,
        user_name=(member.email if member is not None and member.email else display_name) or display_name,
        user_display_name=display_name, timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=p.credential_id) for p in existing],
    )
    row.challenge = options.challenge
    session.flush()
    return options_to_json(options)


def begin_registration(session: Session, member: Member, origin: str) -> tuple[str, str]:
    """(token for the session, options JSON for navigator.credentials.create) to add a passkey."""
    token, row = _new_challenge(session, REGISTER, member=member)
    row.user_handle = _user_handle(session, member)
    return token, _registration_options(session, row, member, member.name, origin)


def finish_registration(session: Session, member: Member, token, credential, name, origin: str) -> Passkey:
    """Keep the passkey the browser made for the challenge `token` names."""
    name = clean_passkey_name(name)
    row = _pending(session, token, REGISTER)
    handle = row.user_handle if row is not None and row.member_id == member.id else None
    challenge = _take_challenge(session, token if handle else None, REGISTER, PasskeyRefused)
    return _store_passkey(session, member, handle, name, *_verified_registration(challenge, credential, origin))


def _verified_registration(challenge: bytes, credential, origin: str):
    """(parsed, verified) registration answer, or PasskeyRefused."""
    rp_id, expected_origin = relying_party(origin)
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=expected_origin, require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError, binascii.Error):
        raise PasskeyRefused(_l("This phone's screen lock could not be added. Please try again.")) from None
    return parsed, verified


def _store_passkey(session: Session, member: Member, handle: bytes, name: str, parsed, verified) -> Passkey:
    if session.scalar(sa.select(Passkey.id).where(Passkey.credential_id == verified.credential_id)):
        raise Conflict(_l("This passkey is already added."), code="passkey_taken")
    passkey = Passkey(
        member_id=member.id, credential_id=verified.credential_id, public_key=verified.credential_public_key,
        user_handle=handle, sign_count=verified.sign_count, name=name,
        transports=",".join(t.value for t in parsed.response.transports or []),
    )
    session.add(passkey)
    session.flush()
    session.expire(member, ["has_passkey"])
    return passkey


def clean_passkey_name(name) -> str:
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        message = _l("Give this passkey a name, for example “My phone”.")
        raise ValidationFailed(message, fields={"name": message})
    if len(name) > NAME_MAX_LENGTH:
        message = _l("%(field)s can be at most %(max)s characters.", field=_l("the name"), max=NAME_MAX_LENGTH)
        raise ValidationFailed(message, fields={"name": message})
    return name


def members_passkey(session: Session, member: Member, passkey_id) -> Passkey:
    """One of the member's own passkeys (another member's is "not found")."""
    passkey = session.get(Passkey, passkey_id) if isinstance(passkey_id, int) else None
    if passkey is None or passkey.member_id != member.id:
        raise NotFound(_l("That passkey does not exist."), code="passkey_not_found")
    return passkey


def rename_passkey(session: Session, member: Member, passkey_id, name) -> Passkey:
    passkey = members_passkey(session, member, passkey_id)
    passkey.name = clean_passkey_name(name)
    session.flush()
    return passkey


def remove_passkey(session: Session, member: Member, passkey_id) -> None:
    """Remove a passkey: it no longer signs in. A member's last way in is kept."""
    passkey = members_passkey(session, member, passkey_id)
    if member.password_hash is None and len(passkeys_of(session, member)) == 1:
        raise Conflict(_l("This is your only way to sign in. Add another passkey or set a password first."),
                       code="last_passkey")
    session.delete(passkey)
    session.flush()
    session.expire(member, ["has_passkey"])


# ---- signing up without e-mail ---------------------------------------------------------


def begin_signup(session: Session, **details) -> str:
    """Keep a sign-up's checked details until its passkey is registered (the token for the
    session is returned); no member exists until then, so a cancelled passkey leaves nothing."""
    token, _row = _new_challenge(session, SIGNUP, signup=members.signup_details(**details), lifetime=SIGNUP_LIFETIME)
    session.flush()
    return token


def pending_signup(session: Session, token) -> dict | None:
    row = _pending(session, token, SIGNUP)
    return dict(row.signup) if row is not None else None


def signup_options(session: Session, token, origin: str) -> str:
    """Options for navigator.credentials.create for the pending sign-up `token` names."""
    row = _pending(session, token, SIGNUP)
    if row is None:
        raise PasskeyRefused(_l("That took too long. Please fill in the sign-up form again."),
                             code="signup_expired")
    row.user_handle = row.user_handle or secrets.token_bytes(32)
    return _registration_options(session, row, None, row.signup["name"], origin)


def finish_signup(session: Session, token, credential, name, origin: str) -> Member:
    """Create the member of the pending sign-up, with the passkey the browser made for it.
    The passkey is checked first: a refusal writes nothing but the used-up challenge."""
    name = clean_passkey_name(name)
    row = _pending(session, token, SIGNUP)
    challenge = _take_challenge(session, token, SIGNUP, PasskeyRefused)
    answer = _verified_registration(challenge, credential, origin)
    member = members.create_member_without_email(session, row.signup)
    handle = row.user_handle
    session.delete(row)
    _store_passkey(session, member, handle, name, *answer)
    return member


# ---- signing in with a passkey -----------------------------------------------------------


def begin_sign_in(session: Session, origin: str) -> tuple[str, str]:
    """(token, options JSON for navigator.credentials.get): any passkey of this bank on the
    phone may answer (discoverable credentials: nobody types an e-mail)."""
    rp_id, _origin = relying_party(origin)
    token, row = _new_challenge(session, LOGIN)
    options = generate_authentication_options(rp_id=rp_id, timeout=TIMEOUT_MS,
                                              user_verification=UserVerificationRequirement.REQUIRED)
    row.challenge = options.challenge
    session.flush()
    return token, options_to_json(options)


def finish_sign_in(session: Session, token, credential, origin: str) -> Member:
    """The active member whose passkey signed the challenge, or PasskeySignInFailed."""
    refused = PasskeySignInFailed(_l("That passkey did not sign you in. Try again, or log in another way."))
    challenge = _take_challenge(session, token, LOGIN, PasskeySignInFailed)
    rp_id, expected_origin = relying_party(origin)
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, TypeError, KeyError, binascii.Error):
        raise refused from None
    passkey = session.scalar(sa.select(Passkey).where(Passkey.credential_id == parsed.raw_id))
    if passkey is None or (parsed.response.user_handle and parsed.response.user_handle != passkey.user_handle):
        raise refused
    try:
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=expected_origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count,
            require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError, binascii.Error):
        raise refused from None
    if not passkey.member.is_active:
        raise PasskeySignInFailed(_l("This account has been closed. Please ask your centre."), code="member_deactivated")
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    session.flush()
    return passkey.member


# ---- signing in with a member card ---------------------------------------------------------


def card_for_sign_in(session: Session, text) -> MemberCard:
    """The usable card a scanned or typed card link names (the refusal says why not)."""
    card = cards.find_card(session, text)
    cards.require_usable(card)
    if card.member.pin_hash is None:
        raise Conflict(_l("This card has no PIN yet, so it cannot sign in. The centre can set one."),
                       code="no_pin")
    return card


def sign_in_with_card(session: Session, card_or_text, pin) -> Member:
    """The member whose card (or scanned card link) and PIN these are. A wrong PIN counts
    against the card as at a check-in (checkins.WrongPin, kept; five lock the card)."""
    card = card_or_text if isinstance(card_or_text, MemberCard) else card_for_sign_in(session, card_or_text)
    if not pin:
        message = _l("Please type your PIN.")
        raise ValidationFailed(message, fields={"pin": message})
    checkins.check_pin(session, card, pin)
    return card.member
