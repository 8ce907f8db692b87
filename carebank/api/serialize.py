"""The JSON shapes of API v1. Finished values only: no rules here."""
from __future__ import annotations

from datetime import datetime

from flask_babel import to_user_timezone

from carebank.confirmations.models import ConfirmationCode
from carebank.core.extensions import db
from carebank.exchanges.models import Exchange
from carebank.exchanges.services import Standing
from carebank.exchanges.services import standing as exchange_standing
from carebank.ledger.models import Transaction
from carebank.ledger.services import LedgerEntry
from carebank.members.models import Member
from carebank.posts.categories import category_name
from carebank.posts.models import Post


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def member(m: Member) -> dict:
    """The public member object: what any logged-in member may see of another."""
    return {"id": m.id, "name": m.name, "neighbourhood": m.neighbourhood}


def member_with_balance(m: Member) -> dict:
    """The member object with their balance: for the member themself and their centre."""
    return {**member(m), "balance_minutes": m.balance_minutes}


def profile(m: Member) -> dict:
    """The logged-in member's own view of themself: adds what only they may see."""
    return {
        **member_with_balance(m), "email": m.email, "languages": m.languages, "offers_text": m.offers_text,
        "phone": m.phone, "locale": m.locale, "role": m.role.value,
        "phone_shared_with_partners": m.phone_shared_with_partners,
    }


def post(p: Post) -> dict:
    return {
        "id": p.id, "kind": p.kind.value, "category": p.category, "category_name": category_name(p.category),
        "title": p.title, "description": p.description, "minutes": p.minutes,
        "neighbourhood": p.neighbourhood, "status": p.status.value, "member_id": p.member_id,
        "starts_at": iso(p.starts_at), "ends_at": iso(p.ends_at), "once": p.once,
        "created_at": iso(p.created_at), "expires_at": iso(p.expires_at),
    }


def exchange(e: Exchange, standing: Standing | None = None) -> dict:
    """An exchange and where it stands: `state` (waiting, agreed, visited, finished, declined,
    cancelled), its confirmed `visits` and the day of the last (in the member's zone)."""
    if standing is None:
        standing = exchange_standing(db.session, e)
    last = standing.last_visit_at
    return {
        "id": e.id, "post_id": e.post_id, "provider_id": e.provider_id, "receiver_id": e.receiver_id,
        "status": e.status.value, "state": standing.state, "visits": standing.visits,
        "last_visit_on": to_user_timezone(last).date().isoformat() if last else None,
        "last_visit_at": iso(last), "finished_at": iso(e.finished_at),
        "message": e.message, "created_at": iso(e.created_at),
    }


def transaction(t: Transaction) -> dict:
    debit = next(p for p in t.postings if p.minutes < 0)
    credit = next(p for p in t.postings if p.minutes > 0)
    return {
        "id": t.id, "kind": t.kind.value, "exchange_id": t.exchange_id,
        "from_member_id": debit.account.member_id, "to_member_id": credit.account.member_id,
        "minutes": credit.minutes, "memo": t.memo, "created_at": iso(t.created_at),
    }


def ledger_entry(e: LedgerEntry) -> dict:
    return {
        "transaction_id": e.transaction_id, "kind": e.kind.value, "minutes": e.minutes,
        "counterparty_id": e.counterparty_id, "counterparty_name": e.counterparty_name,
        "exchange_id": e.exchange_id, "memo": e.memo, "created_at": iso(e.created_at),
    }


def confirmation_code(code: ConfirmationCode, token: str, url: str, display: str) -> dict:
    return {
        "id": code.id, "code": token, "display_code": display, "url": url,
        "minutes": code.minutes, "exchange_id": code.exchange_id, "expires_at": iso(code.expires_at),
    }
