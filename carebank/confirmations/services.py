"""Confirmation codes: one party shows a QR code, the other redeems it, the ledger moves.

A code is 128 random bits written in Crockford base32 (26 characters, no I/L/O/U), so it
can be read aloud or typed from a printed card, and a URL holding it fits a version-4 QR
code. Only its SHA-256 is stored. Redemption claims the code with a conditional UPDATE,
so of two concurrent redemptions exactly one writes a transaction.
"""
from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

import qrcode
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.orm import Session

from carebank.confirmations.models import ConfirmationCode
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, Expired, NotAllowed, ValidationFailed
from carebank.core.i18n import format_minutes
from carebank.core.policy import Policy
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange
from carebank.exchanges.services import get_exchange
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Member

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 26  # ceil(128 / 5)
CONFIRM_PATH = "/c/"
_TYPING_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# A second confirmation for the same exchange this soon is asked about: often the same visit twice.
RECENT_CONFIRMATION = timedelta(hours=1)


def new_token() -> str:
    value = secrets.randbits(128)
    chars = []
    for _ in range(CODE_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def parse_code(text) -> str:
    """The canonical token from a pasted code or a confirmation URL, or a 400 error."""
    if not isinstance(text, str):
        raise _invalid_code()
    text = text.strip()
    if CONFIRM_PATH in text:
        text = text.rsplit(CONFIRM_PATH, 1)[1].split("?")[0].split("#")[0]
    token = re.sub(r"[\s\-]", "", text).upper().translate(_TYPING_FIXES)
    if len(token) != CODE_LENGTH or any(c not in ALPHABET for c in token) or token[0] not in "01234567":
        raise _invalid_code()
    return token


def _invalid_code() -> ValidationFailed:
    message = _l("This is not a valid confirmation code. Check it and try again.")
    return ValidationFailed(message, code="invalid_code", fields={"code": message})


def display_code(token: str) -> str:
    """The code in groups of four, easier to read aloud or type."""
    return "-".join(token[i : i + 4] for i in range(0, len(token), 4))


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{CONFIRM_PATH}{token}"


def make_code(
    session: Session, member: Member, exchange_id, minutes, policy: Policy,
    now: datetime | None = None,
) -> tuple[ConfirmationCode, str]:
    """A new code for minutes of a visit; only the other party can redeem it."""
    exchange = get_exchange(session, member, exchange_id)
    if not exchange.is_party(member):
        raise NotAllowed(_l("Only the two people in this exchange can make a code."))
    exchanges.refuse_if_finished(exchange)
    if not exchange.is_accepted:
        raise Conflict(_l("Codes can only be made for an accepted exchange."), code="exchange_not_accepted")
    require_active_parties(exchange)
    minutes = ledger.validate_minutes(minutes, policy)
    now = now or utcnow()
    token = new_token()
    code = ConfirmationCode(
        token_hash=token_hash(token),
        exchange_id=exchange.id,
        made_by_id=member.id,
        redeemer_id=exchange.other_party_id(member),
        minutes=minutes,
        created_at=now,
        expires_at=now + timedelta(seconds=policy.code_ttl_seconds),
    )
    session.add(code)
    session.flush()
    return code, token


def find_code(session: Session, text) -> ConfirmationCode:
    code = session.scalar(
        sa.select(ConfirmationCode).where(ConfirmationCode.token_hash == token_hash(parse_code(text)))
    )
    if code is None:
        raise _invalid_code()
    return code


def check_redeemer(code: ConfirmationCode, member: Member) -> None:
    if member.id == code.made_by_id:
        raise NotAllowed(
            _l("You made this code. The other person in the exchange scans it to confirm."),
            code="own_code",
        )
    if member.id != code.redeemer_id:
        raise NotAllowed(_l("This code is for someone else."), code="not_redeemer")


def require_active_parties(exchange: Exchange) -> None:
    """Refuse a visit of an exchange one of whose members the centre deactivated: their
    codes stop moving minutes, made before or after (the ledger would refuse it too)."""
    for party in (exchange.provider, exchange.receiver):
        if not party.is_active:
            raise Conflict(_l("%(name)s is deactivated, so visits in this exchange can no longer be "
                              "confirmed. Ask the centre.", name=party.name), code="member_deactivated")


def check_usable(code: ConfirmationCode, now: datetime | None = None) -> None:
    """Refuse a code that can no longer confirm a visit: a party deactivated, expired, or
    its exchange ended."""
    require_active_parties(code.exchange)
    exchanges.refuse_if_finished(code.exchange)
    if code.is_expired(now):
        raise Expired(_l("This code has expired. Ask for a new one."), code="code_expired")
    if not code.exchange.is_accepted:
        raise Conflict(_l("This exchange has ended, so the code can no longer be used."),
                       code="exchange_not_accepted")


def maker_state(code: ConfirmationCode, held: bool) -> str:
    """What the code's maker sees: redeemed, ended (the exchange), expired, live, or
    forgotten (live, but this session no longer holds the code to show it)."""
    if code.is_redeemed:
        return "redeemed"
    if not code.exchange.is_accepted:
        return "ended"
    if code.is_expired():
        return "expired"
    return "live" if held else "forgotten"


def recent_confirmation(
    session: Session, member: Member, exchange: Exchange, now: datetime | None = None,
) -> Conflict | None:
    """The question to ask before confirming another visit of an exchange that had one
    confirmed less than an hour ago (None when there was none)."""
    now = now or utcnow()
    last = session.scalars(
        sa.select(Transaction)
        .where(Transaction.exchange_id == exchange.id, Transaction.kind == TransactionKind.VISIT,
               Transaction.created_at > now - RECENT_CONFIRMATION)
        .order_by(Transaction.created_at.desc(), Transaction.id.desc()).limit(1)
    ).first()
    if last is None:
        return None
    ago = max(1, int((now - last.created_at).total_seconds() // 60))
    minutes = format_minutes(max(p.minutes for p in last.postings))
    if last.created_by_id == member.id:
        message = lazy_ngettext(
            "You confirmed %(minutes)s for this exchange %(num)s minute ago. Confirm another?",
            "You confirmed %(minutes)s for this exchange %(num)s minutes ago. Confirm another?",
            ago, minutes=minutes)
    else:
        message = lazy_ngettext(
            "%(minutes)s were confirmed for this exchange %(num)s minute ago. Confirm another?",
            "%(minutes)s were confirmed for this exchange %(num)s minutes ago. Confirm another?",
            ago, minutes=minutes)
    return Conflict(message, code="recent_confirmation")


def redeem(
    session: Session, member: Member, text, policy: Policy, now: datetime | None = None,
    confirm_again: bool = False,
) -> tuple[Transaction, bool]:
    """Confirm a visit. Returns the transaction and whether it was made now (False: the same
    redeemer already confirmed this code, e.g. a phone retrying after losing signal). A second
    visit of the exchange within the hour is confirmed only when `confirm_again` says so."""
    code = find_code(session, text)
    check_redeemer(code, member)
    if code.is_redeemed:
        return code.transaction, False
    now = now or utcnow()
    check_usable(code, now)
    question = None if confirm_again is True else recent_confirmation(session, member, code.exchange, now)
    if question is not None:
        raise question
    with session.begin_nested():
        if not _claim(session, code, now):
            # Another request claimed it between our read and our update; it has committed
            # (the UPDATE waited for its lock), so its transaction is there to return.
            session.expire(code)
            return code.transaction, False
        transaction = _credit(session, code, member, policy)
        _attach_to_visit(session, code.exchange, transaction, now)
        exchanges.visit_credited(session, code.exchange)  # a one-off need is finished by it
    session.expire(code)
    return transaction, True


def _attach_to_visit(session: Session, exchange: Exchange, transaction: Transaction, now: datetime) -> None:
    """Issue 15: the code credits the exchange's visit of the day, if it has one."""
    from carebank.visits.services import attach_code  # here: visits builds on this module

    attach_code(session, exchange, transaction, now)


def _claim(session: Session, code: ConfirmationCode, now: datetime) -> bool:
    """Mark the code redeemed unless someone already did: one UPDATE, so only one wins."""
    return session.execute(
        sa.update(ConfirmationCode)
        .where(ConfirmationCode.id == code.id, ConfirmationCode.redeemed_at.is_(None))
        .values(redeemed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def _credit(session: Session, code: ConfirmationCode, member: Member, policy: Policy) -> Transaction:
    exchange = code.exchange
    transaction = ledger.credit_visit(
        session, exchange.provider_id, exchange.receiver_id, code.minutes,
        exchange_id=exchange.id, created_by_id=member.id, policy=policy,
        memo=exchange.post.title[:ledger.MEMO_MAX_LENGTH],
    )
    session.execute(
        sa.update(ConfirmationCode)
        .where(ConfirmationCode.id == code.id)
        .values(transaction_id=transaction.id)
        .execution_options(synchronize_session=False)
    )
    return transaction


def code_status(session: Session, member: Member, code_id: int) -> ConfirmationCode:
    """A code its maker is watching (to see when the other party has confirmed)."""
    code = session.get(ConfirmationCode, code_id)
    if code is None or code.made_by_id != member.id:
        raise NotAllowed(_l("This code is not yours."))
    return code


# Mask 0 of the eight the standard allows, not the least-penalty one: choosing costs 8
# trial layouts and 4–5 ms, and every mask decodes with today's scanners (tests decode it).
QR_MASK_PATTERN = 0
QR_CACHE_SIZE = 1024  # codes on screen and cards being printed, per process


@functools.lru_cache(maxsize=QR_CACHE_SIZE)
def qr_svg(data: str) -> tuple[str, int]:
    """An SVG QR code for `data` and the QR version it needed (smaller scans easier).

    Drawn from qrcode's module matrix as one path of horizontal runs: about a millisecond,
    where qrcode's own SVG image takes nine. Cached, because a code's page reloads until the
    visit is confirmed and a card sheet draws the same codes again."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       mask_pattern=QR_MASK_PATTERN)
    qr.add_data(data)
    qr.make(fit=True)
    return _svg_of(qr.modules, qr.border), qr.version


def _svg_of(modules: list[list[bool]], border: int) -> str:
    size = len(modules) + 2 * border
    runs = []
    for y, row in enumerate(modules, start=border):
        x, width = 0, len(row)
        while x < width:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < width and row[x]:
                x += 1
            runs.append(f"M{start + border} {y}h{x - start}v1h-{x - start}z")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
            f'width="{size * 4}" height="{size * 4}" shape-rendering="crispEdges">'
            f'<path fill="#fff" d="M0 0h{size}v{size}H0z"/><path d="{"".join(runs)}"/></svg>')
