"""Card check-ins: a carer scans a resident's member card at the end of a visit.

The card only says who the resident is. The minutes move when the resident consents: they
type their 4-digit PIN on the carer's phone, or, for residents who cannot use a PIN, a
coordinator of their centre approves the check-in later. Each PIN attempt first claims a
try on the card with one conditional UPDATE, so concurrent requests can never test more
PINs than the card allows before it locks. A random token from the form makes a retry or a
double tap return the first check-in instead of counting the visit twice.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from carebank.audit import services as audit
from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.centres.services import exchange_scope, manages_exchange, require_coordinator
from carebank.checkins.models import CardCheckin, CheckinConsent, CheckinStatus
from carebank.core.converters import by_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, DomainError, NotAllowed, NotFound, ValidationFailed
from carebank.core.policy import Policy
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger import services as ledger
from carebank.members.models import Member
from carebank.notifications import events

NOTE_MAX_LENGTH = 200
REQUEST_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class WrongPin(DomainError):
    """The PIN was wrong. The failed try is already flushed and is kept even though the
    check-in fails (nothing else has been written when this is raised)."""

    status = 400
    code = "wrong_pin"
    keeps_changes = True

    def __init__(self, tries_left: int):
        if tries_left <= 0:
            message = _l("Wrong PIN. The card is now locked; the centre can unlock it.")
        elif tries_left == 1:
            message = _l("Wrong PIN. 1 try left.")
        else:
            message = _l("Wrong PIN. %(num)s tries left.", num=tries_left)
        super().__init__(message, fields={"pin": message})
        self.tries_left = max(tries_left, 0)
        if self.locked:
            self.status = 409
            self.code = "card_locked"

    @property
    def locked(self) -> bool:
        return self.tries_left == 0


# ---- the carer's side ----------------------------------------------------------------------


def agreed_exchanges(session: Session, carer: Member, resident: Member) -> list[Exchange]:
    """The accepted exchanges between the carer and the resident (either may be the giver)."""
    pair = sa.or_(
        sa.and_(Exchange.provider_id == carer.id, Exchange.receiver_id == resident.id),
        sa.and_(Exchange.provider_id == resident.id, Exchange.receiver_id == carer.id),
    )
    return list(session.scalars(
        sa.select(Exchange).options(selectinload(Exchange.post))
        .where(pair, Exchange.status == ExchangeStatus.ACCEPTED).order_by(Exchange.id)
    ))


def exchanges_to_check_in(session: Session, carer: Member, resident: Member) -> list[Exchange]:
    """The agreed exchanges the carer may check in for with the resident (NotAllowed if none)."""
    agreed = agreed_exchanges(session, carer, resident)
    if not agreed:
        raise NotAllowed(_l("You have no agreed exchange with %(name)s.", name=resident.name),
                         code="no_exchange")
    return agreed


def check_in_with_pin(
    session: Session, carer: Member, card_token_or_card, exchange_id, minutes, pin,
    request_token, policy: Policy,
) -> CardCheckin:
    """Confirm a visit with the resident's PIN: the ledger moves now. Raises WrongPin after
    counting a wrong PIN (the commit helper keeps that count); returns the earlier check-in
    when the same request_token comes again."""
    card = _card(session, card_token_or_card)
    _require_typed_pin(card, pin)
    existing = _existing(session, carer, request_token)
    if existing is not None:
        return existing
    exchange, minutes = _validate(session, carer, card, exchange_id, minutes, policy)
    if card.member.pin_hash is None:
        raise Conflict(_l("%(name)s has no PIN. Ask the centre to approve this visit instead.",
                          name=card.member.name), code="no_pin")
    check_pin(session, card, pin)
    checkin, is_new = _add_checkin(session, carer, card, exchange, minutes, request_token,
                                   consent=CheckinConsent.PIN, status=CheckinStatus.CONFIRMED)
    if is_new:
        # The resident consented with their PIN: they are who decided.
        checkin.decided_at = utcnow()
        checkin.decided_by_id = card.member_id
        _credit(session, checkin, created_by=carer, policy=policy)
    return checkin


def request_approval(
    session: Session, carer: Member, card_token_or_card, exchange_id, minutes, request_token,
    note: str = "", *, policy: Policy,
) -> CardCheckin:
    """Ask the resident's centre to approve a visit (for residents who cannot use a PIN).
    Nothing moves in the ledger until a coordinator approves."""
    card = _card(session, card_token_or_card)
    existing = _existing(session, carer, request_token)
    if existing is not None:
        return existing
    exchange, minutes = _validate(session, carer, card, exchange_id, minutes, policy)
    checkin, is_new = _add_checkin(
        session, carer, card, exchange, minutes, request_token, consent=CheckinConsent.COORDINATOR,
        status=CheckinStatus.PENDING, note=_note(note),
    )
    if is_new:
        events.checkin_waiting(session, carer, card.member)
    return checkin


def carers_checkin(session: Session, carer: Member, checkin_id) -> CardCheckin:
    """A check-in the carer made, to show them how it went (others' are "not found")."""
    checkin = by_id(session, CardCheckin, checkin_id)
    if checkin is None or checkin.carer_id != carer.id:
        raise NotFound(_l("That check-in does not exist."), code="checkin_not_found")
    return checkin


def _card(session: Session, card_token_or_card) -> MemberCard:
    if isinstance(card_token_or_card, MemberCard):
        return card_token_or_card
    return cards.find_card(session, card_token_or_card)


def _existing(session: Session, carer: Member, request_token) -> CardCheckin | None:
    """The check-in an earlier send of this same form made, if any."""
    if not isinstance(request_token, str) or not REQUEST_TOKEN.match(request_token):
        raise ValidationFailed(_l("The form was incomplete. Please scan the card again."),
                               code="invalid_request_token")
    checkin = session.scalar(sa.select(CardCheckin).where(CardCheckin.request_token == request_token))
    if checkin is not None and checkin.carer_id != carer.id:
        raise Conflict(_l("The form was incomplete. Please scan the card again."),
                       code="invalid_request_token")
    return checkin


def _validate(session, carer, card, exchange_id, minutes, policy) -> tuple[Exchange, int]:
    """Everything checked before any write: the card, the exchange, the minutes."""
    cards.require_usable(card)
    exchange = _agreed_exchange(session, carer, card.member, exchange_id)
    return exchange, ledger.validate_minutes(minutes, policy)


def _agreed_exchange(session: Session, carer: Member, resident: Member, exchange_id) -> Exchange:
    exchange = by_id(session, Exchange, exchange_id)
    if exchange is None or {exchange.provider_id, exchange.receiver_id} != {carer.id, resident.id}:
        # A card can only be used for an exchange between the carer and the card's member.
        message = _l("You can only check in for an exchange between you and %(name)s.", name=resident.name)
        raise NotAllowed(message, code="not_party", fields={"exchange_id": message})
    exchanges.refuse_if_finished(exchange, "exchange_id")
    if not exchange.is_accepted:
        message = _l("This exchange is not agreed (or has ended), so no visit can be counted.")
        raise Conflict(message, code="exchange_not_accepted", fields={"exchange_id": message})
    return exchange


def _note(note) -> str:
    note = "" if note is None else note
    if not isinstance(note, str) or len(note.strip()) > NOTE_MAX_LENGTH:
        message = _l("A note can be at most %(max)s characters.", max=NOTE_MAX_LENGTH)
        raise ValidationFailed(message, fields={"note": message})
    return note.strip()


def _require_typed_pin(card: MemberCard, pin) -> None:
    """A resident who has a PIN is asked to type it; nothing typed spends no try."""
    if card.member.pin_hash is not None and not pin:
        message = _l("Ask %(name)s to type their PIN.", name=card.member.name)
        raise ValidationFailed(message, fields={"pin": message})


def check_pin(session: Session, card: MemberCard, pin) -> None:
    """Spend one try on the card, then test the PIN: right → tries reset; wrong → counted
    (the card locks at the limit) and WrongPin is raised."""
    if not isinstance(pin, str) or not cards.PIN_PATTERN.match(pin.strip()):
        message = _l("A PIN is exactly 4 digits.")
        raise ValidationFailed(message, code="invalid_pin", fields={"pin": message})
    failures = _claim_try(session, card)
    if cards.pin_matches(card.member, pin.strip()):
        _set_card(session, card, pin_failures=0)
        return
    tries_left = cards.MAX_PIN_FAILURES - failures
    if tries_left <= 0:
        _set_card(session, card, locked_at=utcnow())
    raise WrongPin(tries_left)


def _claim_try(session: Session, card: MemberCard) -> int:
    """Count a try before the PIN is tested, with one UPDATE that refuses a locked card: two
    phones testing PINs at once each spend a try, and none gets past the limit."""
    failures = session.execute(
        sa.update(MemberCard)
        .where(MemberCard.id == card.id, MemberCard.locked_at.is_(None),
               MemberCard.pin_failures < cards.MAX_PIN_FAILURES)
        .values(pin_failures=MemberCard.pin_failures + 1)
        .returning(MemberCard.pin_failures)
        .execution_options(synchronize_session=False)
    ).scalar()
    if failures is None:
        # Locked by another request since this one read the card.
        session.refresh(card)
        cards.require_usable(card)
        raise Conflict(_l("This card is locked after too many wrong PINs. The centre can unlock it."),
                       code="card_locked")
    return failures


def _set_card(session: Session, card: MemberCard, **values) -> None:
    session.execute(
        sa.update(MemberCard).where(MemberCard.id == card.id).values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(card, ["pin_failures", "locked_at"])


def _add_checkin(session, carer, card, exchange, minutes, request_token, **fields) -> tuple[CardCheckin, bool]:
    """Insert the check-in, or return the one a concurrent send of the same form made first
    (the unique request_token decides which) and False."""
    checkin = CardCheckin(card_id=card.id, exchange_id=exchange.id, carer_id=carer.id,
                          minutes=minutes, request_token=request_token, **fields)
    try:
        with session.begin_nested():
            session.add(checkin)
            session.flush()
    except IntegrityError:
        # The other request has committed (the INSERT waited for it), so its row is there.
        existing = _existing(session, carer, request_token)
        if existing is None:
            raise
        return existing, False
    return checkin, True


def _credit(session: Session, checkin: CardCheckin, *, created_by: Member, policy: Policy) -> None:
    exchange = checkin.exchange
    transaction = ledger.credit_visit(
        session, exchange.provider_id, exchange.receiver_id, checkin.minutes,
        exchange_id=exchange.id, created_by_id=created_by.id, policy=policy,
        memo=exchange.post.title[:ledger.MEMO_MAX_LENGTH],
    )
    checkin.transaction_id = transaction.id
    session.flush()
    # Issue 15: the check-in credits the exchange's visit of that day, if it has one.
    from carebank.visits.services import attach_code  # here: visits builds on this module

    attach_code(session, exchange, transaction, checkin.created_at)
    exchanges.visit_credited(session, exchange)  # a one-off need is finished by it


# ---- the centre's side ---------------------------------------------------------------------


def pending_checkins(session: Session, coordinator: Member) -> list[CardCheckin]:
    """Check-ins waiting for approval in the coordinator's centre, oldest first."""
    require_coordinator(coordinator)
    return list(session.scalars(
        sa.select(CardCheckin)
        .join(Exchange, CardCheckin.exchange_id == Exchange.id)
        .where(CardCheckin.status == CheckinStatus.PENDING, exchange_scope(coordinator))
        .options(selectinload(CardCheckin.card).selectinload(MemberCard.member),
                 selectinload(CardCheckin.carer),
                 selectinload(CardCheckin.exchange).selectinload(Exchange.post))
        .order_by(CardCheckin.created_at, CardCheckin.id)
    ))


def approve(session: Session, coordinator: Member, checkin_id, policy: Policy) -> CardCheckin:
    """Approve a pending check-in for the resident: the ledger moves now. Of two coordinators
    approving at once, one succeeds and the other is told it was already decided."""
    checkin = _decidable(session, coordinator, checkin_id)
    exchanges.refuse_if_finished(checkin.exchange)
    if not checkin.exchange.is_accepted:
        raise Conflict(_l("This exchange has ended, so the visit cannot be counted. Reject the check-in instead."),
                       code="exchange_not_accepted")
    _require_active_parties(checkin.exchange)
    with session.begin_nested():
        _claim_decision(session, checkin, coordinator, CheckinStatus.CONFIRMED)
        _credit(session, checkin, created_by=coordinator, policy=policy)
    audit.record(session, coordinator, "checkin.approve", member=checkin.card.member,
                 exchange_id=checkin.exchange_id, transaction_id=checkin.transaction_id)
    return checkin


def _require_active_parties(exchange: Exchange) -> None:
    """The resident or the carer was deactivated since the check-in: their minutes no longer
    move (the ledger would refuse too), so the centre is told whom to reject it for."""
    for party in (exchange.provider, exchange.receiver):
        if not party.is_active:
            raise Conflict(_l("%(name)s is deactivated, so this visit cannot be counted. Reject the check-in "
                              "instead.", name=party.name), code="member_deactivated")


def reject(session: Session, coordinator: Member, checkin_id, reason) -> CardCheckin:
    """Refuse a pending check-in, with the reason; the ledger does not move."""
    checkin = _decidable(session, coordinator, checkin_id)
    reason = _reason(reason)
    _claim_decision(session, checkin, coordinator, CheckinStatus.REJECTED)
    audit.record(session, coordinator, "checkin.reject", member=checkin.card.member, reason=reason,
                 exchange_id=checkin.exchange_id)
    return checkin


def managed_checkin(session: Session, coordinator: Member, checkin_id) -> CardCheckin:
    """A check-in of the coordinator's centre, or NotFound (other centres' are never shown)."""
    require_coordinator(coordinator)
    checkin = by_id(session, CardCheckin, checkin_id)
    if checkin is None or not manages_exchange(coordinator, checkin.exchange):
        raise NotFound(_l("That check-in does not exist."), code="checkin_not_found")
    return checkin


def _decidable(session: Session, coordinator: Member, checkin_id) -> CardCheckin:
    """A pending check-in of the coordinator's centre that they may decide."""
    checkin = managed_checkin(session, coordinator, checkin_id)
    if checkin.exchange.is_party(coordinator):
        # Consent comes from someone outside the visit: a colleague decides.
        raise NotAllowed(_l("You are part of this exchange, so a colleague must decide."),
                         code="own_checkin")
    if checkin.status is not CheckinStatus.PENDING:
        raise _already_decided()
    return checkin


def _claim_decision(session, checkin: CardCheckin, coordinator: Member, status: CheckinStatus) -> None:
    """Move pending → status with one conditional UPDATE, so only one decision wins."""
    claimed = session.execute(
        sa.update(CardCheckin)
        .where(CardCheckin.id == checkin.id, CardCheckin.status == CheckinStatus.PENDING)
        .values(status=status, decided_at=utcnow(), decided_by_id=coordinator.id)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    session.expire(checkin, ["status", "decided_at", "decided_by_id"])
    if not claimed:
        raise _already_decided()


def _already_decided() -> Conflict:
    return Conflict(_l("This check-in has already been decided."), code="checkin_decided")


def _reason(reason) -> str:
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > NOTE_MAX_LENGTH:
        message = _l("Please give the reason (at most %(max)s characters).", max=NOTE_MAX_LENGTH)
        raise ValidationFailed(message, code="reason_required", fields={"reason": message})
    return reason
