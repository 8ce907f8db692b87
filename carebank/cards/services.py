"""Member cards: a printed ID-1 card whose QR code identifies a member.

The QR holds a URL with a random 128-bit card secret (the same Crockford alphabet as
confirmation codes). Only its SHA-256 is stored, so a leaked database prints no cards. The
card identifies; it never authorises by itself: a check-in also needs the member's PIN or a
coordinator's approval (see checkins.py). Printing a card issues it: the member's previous
card stops working at once.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.audit import services as audit
from carebank.cards.models import CardStatus, MemberCard
from carebank.cards.pdf import CardFace
from carebank.centres.services import scope_filter
from carebank.confirmations.services import ALPHABET, CODE_LENGTH, new_token, token_hash
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotFound, ValidationFailed
from carebank.core.passwords import hash_password, verify_password
from carebank.members.models import Member

CARD_PATH = "/card/"
PIN_PATTERN = re.compile(r"^[0-9]{4}$")
# Wrong PINs in a row before a card locks until the centre unlocks it.
MAX_PIN_FAILURES = 5


@dataclass(frozen=True)
class IssuedCard:
    """A card just issued, with the secret that goes into its QR (never stored)."""

    card: MemberCard
    member: Member
    token: str


def card_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{CARD_PATH}{token}"


def parse_card(text) -> str:
    """The canonical card secret from a scanned URL or a typed one, or a 400 error."""
    if not isinstance(text, str):
        raise _invalid_card()
    text = text.strip()
    if CARD_PATH in text:
        text = text.rsplit(CARD_PATH, 1)[1].split("?")[0].split("#")[0]
    token = re.sub(r"[\s\-]", "", text).upper()
    if len(token) != CODE_LENGTH or any(c not in ALPHABET for c in token):
        raise _invalid_card()
    return token


def _invalid_card() -> ValidationFailed:
    return ValidationFailed(_l("This is not a member card of this time bank."), code="invalid_card")


def issue_card(session: Session, member: Member, issued_by: Member | None) -> IssuedCard:
    """A new card for the member; any card they had stops working now."""
    if not member.is_active:
        raise Conflict(_l("%(name)s has left the time bank, so they cannot get a card.", name=member.name),
                       code="member_inactive")
    now = utcnow()
    session.execute(
        sa.update(MemberCard)
        .where(MemberCard.member_id == member.id, MemberCard.status == CardStatus.ACTIVE)
        .values(status=CardStatus.REPLACED, blocked_at=now,
                blocked_by_id=issued_by.id if issued_by else None)
        .execution_options(synchronize_session="fetch")
    )
    token = new_token()
    card = MemberCard(member_id=member.id, secret_hash=token_hash(token), status=CardStatus.ACTIVE,
                      issued_at=now, issued_by_id=issued_by.id if issued_by else None)
    session.add(card)
    session.flush()
    if issued_by is not None:
        audit.record(session, issued_by, "card.issue", member=member)
    return IssuedCard(card=card, member=member, token=token)


def find_card(session: Session, text) -> MemberCard:
    """The card a scanned QR names, whatever its status (callers refuse unusable ones)."""
    card = session.scalar(sa.select(MemberCard).where(MemberCard.secret_hash == token_hash(parse_card(text))))
    if card is None:
        raise NotFound(_l("This card is not known. Ask the member's centre."), code="card_not_found")
    return card


def require_usable(card: MemberCard) -> None:
    """Refuse a card that cannot be used now, saying why (every card use comes here)."""
    if not card.member.is_active:
        # Left as it was, so reactivating the member brings the same card back.
        raise Conflict(_l("This card's member is deactivated; ask the centre."), code="member_deactivated")
    if card.status is CardStatus.REPLACED:
        raise Conflict(_l("This card has been replaced by a newer one. Ask the member for their new card."),
                       code="card_replaced")
    if card.status is CardStatus.BLOCKED:
        raise Conflict(_l("This card has been blocked. Ask the member's centre."), code="card_blocked")
    if card.is_locked:
        raise Conflict(_l("This card is locked after too many wrong PINs. The centre can unlock it."),
                       code="card_locked")


def current_card(session: Session, member_id: int) -> MemberCard | None:
    return session.scalar(
        sa.select(MemberCard).where(MemberCard.member_id == member_id, MemberCard.status == CardStatus.ACTIVE)
    )


def working_cards(session: Session, member_ids: list[int]) -> dict[int, MemberCard]:
    """Each member's working card, by member id, in one query."""
    if not member_ids:
        return {}
    rows = session.scalars(sa.select(MemberCard).where(
        MemberCard.member_id.in_(member_ids), MemberCard.status == CardStatus.ACTIVE))
    return {card.member_id: card for card in rows}


# Also said when the console's unlock button comes back without its form (an expired page).
NO_CARD_TO_UNLOCK = _l("This member has no working card to unlock.")


def _working_card(session: Session, member: Member, missing) -> MemberCard:
    card = current_card(session, member.id)
    if card is None:
        raise Conflict(missing, code="no_working_card")
    return card


def block_member_card(session: Session, member: Member, coordinator: Member, reason: str) -> MemberCard:
    """Block the member's working card (refused when they have none)."""
    card = _working_card(session, member, _l("This member has no working card to block."))
    return block_card(session, card, coordinator, reason)


def unlock_member_card(session: Session, member: Member, coordinator: Member) -> MemberCard:
    """Unlock the member's working card after wrong PINs (refused when they have none)."""
    return unlock_card(session, _working_card(session, member, NO_CARD_TO_UNLOCK), coordinator)


def block_card(session: Session, card: MemberCard, coordinator: Member, reason: str) -> MemberCard:
    """Stop a lost or stolen card at once; the member gets a new one with `issue_card`."""
    if card.status is not CardStatus.ACTIVE:
        raise Conflict(_l("This card has already stopped working."), code="card_not_active")
    card.status = CardStatus.BLOCKED
    card.blocked_at = utcnow()
    card.blocked_by_id = coordinator.id
    card.block_reason = (reason or "").strip()[:200]
    session.flush()
    audit.record(session, coordinator, "card.block", member=card.member, reason=card.block_reason)
    return card


def unlock_card(session: Session, card: MemberCard, coordinator: Member) -> MemberCard:
    card.locked_at = None
    card.pin_failures = 0
    session.flush()
    audit.record(session, coordinator, "card.unlock", member=card.member)
    return card


def set_pin(session: Session, member: Member, pin, coordinator: Member) -> None:
    """Set the member's 4-digit PIN, or clear it (empty) for a member who cannot use one:
    their check-ins then wait for a coordinator's approval."""
    pin = pin.strip() if isinstance(pin, str) else ""
    if pin and not PIN_PATTERN.match(pin):
        message = _l("A PIN is exactly 4 digits.")
        raise ValidationFailed(message, fields={"pin": message})
    member.pin_hash = hash_password(pin) if pin else None
    session.flush()
    audit.record(session, coordinator, "member.pin", member=member)


def pin_matches(member: Member, pin) -> bool:
    return bool(member.pin_hash) and isinstance(pin, str) and verify_password(member.pin_hash, pin)


def latest_card(session: Session, member_id: int) -> MemberCard | None:
    """The member's newest card, working or not (to say why it stopped)."""
    return session.scalar(
        sa.select(MemberCard).where(MemberCard.member_id == member_id)
        .order_by(MemberCard.issued_at.desc(), MemberCard.id.desc()).limit(1)
    )


def members_for_cards(
    session: Session, coordinator: Member | None, *, centre_id: int | None = None,
    since: datetime | None = None, without_card: bool = False,
) -> list[Member]:
    """Active members in the coordinator's scope (None: every centre, for the command line)
    to print cards for, by name: optionally only one centre's (an admin's choice), those
    registered since a moment, or those with no working card."""
    query = sa.select(Member).where(Member.deactivated_at.is_(None)).order_by(Member.name, Member.id)
    if coordinator is not None:
        query = query.where(scope_filter(coordinator))
        # Only an admin chooses the centre; a coordinator prints within their own.
        centre_id = centre_id if coordinator.is_admin else None
    if centre_id is not None:
        query = query.where(Member.centre_id == centre_id)
    if since is not None:
        query = query.where(Member.created_at >= since)
    if without_card:
        working = sa.select(MemberCard.id).where(
            MemberCard.member_id == Member.id, MemberCard.status == CardStatus.ACTIVE)
        query = query.where(~working.exists())
    return list(session.scalars(query))


def issue_cards(session: Session, issued_by: Member | None, members: Iterable[Member]) -> list[IssuedCard]:
    """New cards for many members (a print run); each one's previous card stops working."""
    return [issue_card(session, member, issued_by) for member in members]


def card_faces(issued: Iterable[IssuedCard], base_url: str) -> list[CardFace]:
    """What each new card prints, its words in the member's language (else the bank's)."""
    default_locale = current_app.config["DEFAULT_LOCALE"]
    texts: dict[str, dict[str, str]] = {}
    faces = []
    for new in issued:
        locale = new.member.locale or default_locale
        if locale not in texts:  # translate once per language, not once per card
            texts[locale] = _card_texts(locale)
        faces.append(_card_face(new, card_url(base_url, new.token), texts[locale]))
    return faces


def _card_texts(locale: str) -> dict[str, str]:
    with force_locale(locale):
        return {"found_text": gettext("If found, please call the centre."),
                "number_label": gettext("Member no."), "bank_name": gettext("Carebank"),
                "unprintable_label": gettext("Cannot print:")}


def _card_face(new: IssuedCard, url: str, texts: dict[str, str]) -> CardFace:
    member, centre = new.member, new.member.centre
    return CardFace(
        centre_name=centre.name if centre else texts["bank_name"],
        centre_phone=centre.phone if centre else "",
        member_name=member.name, member_number=member.number, url=url,
        found_text=texts["found_text"], number_label=texts["number_label"],
        unprintable_label=texts["unprintable_label"],
    )
