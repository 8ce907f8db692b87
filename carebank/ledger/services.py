"""The time ledger: double-entry, integer minutes, append-only.

`record_transaction` is the only code that changes a balance. It writes postings that sum to
zero and moves each account's cached balance with a conditional UPDATE, so two concurrent
requests can never take an account below its floor, on SQLite or PostgreSQL. Functions here
add and flush but never commit: the caller commits once.

Every transaction is sealed into a hash chain (`ledger_seals`): its seal is the SHA-256 of the
previous seal and the transaction's contents, so `verify` notices a row changed, added or
removed behind the app's back. The database refuses to seal a transaction whose postings do
not balance, and on PostgreSQL also refuses to commit one.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session, aliased

from carebank.audit import services as audit
from carebank.centres.services import manages, require_coordinator
from carebank.checkins.models import CardCheckin, CheckinStatus
from carebank.confirmations.models import ConfirmationCode
from carebank.core.converters import by_id, is_id
from carebank.core.database import hold_write_lock
from carebank.core.errors import Conflict, InsufficientBalance, NotAllowed, NotFound, ValidationFailed
from carebank.core.i18n import format_minutes
from carebank.core.policy import Policy
from carebank.ledger.models import Account, AccountKind, LedgerSeal, Posting, Transaction, TransactionKind
from carebank.members.models import Member
from carebank.notifications import events

MEMO_MAX_LENGTH = 200
POOL_FLOOR = 0
# Gifts and donations pass on only time the member has: the balance floor is there so a
# neighbour can receive care before they give, not to create credit to hand on.
GIFT_FLOOR = 0
# What the first seal follows. Changing the sealed text needs a new version and a migration
# that reseals every transaction, or every old seal stops matching.
GENESIS_HASH = "0" * 64
SEAL_VERSION = "carebank-seal-v1"
# PostgreSQL advisory lock that serialises ledger writes ("carebank" in ASCII).
LEDGER_LOCK_KEY = 7161130662263615083
# The transaction's columns a seal covers, in the order of the sealed text.
SEALED_COLUMNS = (
    Transaction.id,
    # Raw text, so a tampered value is reported rather than crashing the read.
    sa.type_coerce(Transaction.kind, sa.String),
    Transaction.exchange_id,
    Transaction.reverses_id,
    Transaction.created_by_id,
    Transaction.memo,
    sa.type_coerce(Transaction.created_at, sa.String),
)
VERIFY_BATCH = 10_000
# Compact and unambiguous: memos are user text, so they are quoted, never just joined.
_SEAL_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Move:
    """Minutes for one account within a transaction; `floor` None means no floor applies."""

    account_id: int
    minutes: int
    floor: int | None


@dataclass(frozen=True)
class LedgerEntry:
    """One line of a member's history, as shown on the history page and in the API."""

    transaction_id: int
    kind: TransactionKind
    minutes: int
    counterparty_id: int | None
    counterparty_name: str | None
    exchange_id: int | None
    memo: str
    created_at: datetime


@dataclass(frozen=True)
class Party:
    """One posting of a transaction with whose account it is (None: the community pool)."""

    member: Member | None
    minutes: int


def open_member_account(session: Session, member: Member) -> Account:
    account = Account(kind=AccountKind.MEMBER, member=member, balance_minutes=0)
    session.add(account)
    return account


def pool_account(session: Session) -> Account:
    return session.scalars(sa.select(Account).where(Account.kind == AccountKind.POOL)).one()


def account_of(session: Session, member_id: int) -> Account:
    account = session.scalar(sa.select(Account).where(Account.member_id == member_id))
    if account is None:
        raise NotFound(_l("That member does not exist."), code="member_not_found")
    return account


def validate_member_id(value) -> int:
    """A member number as sent: a whole number within the id range."""
    if not is_id(value):
        message = _l("Choose the member by their member number.")
        raise ValidationFailed(message, fields={"to_member_id": message})
    return value


def member_or_none(session: Session, member_id) -> Member | None:
    """The member with this id; None for a value that is no member's (never an overflow)."""
    return by_id(session, Member, member_id)


def gift_recipient(session: Session, sender: Member, member_id) -> Member | None:
    """The member a gift is for, when that is someone else who exists and is active."""
    recipient = member_or_none(session, member_id)
    if recipient is None or recipient.id == sender.id or not recipient.is_active:
        return None
    return recipient


def grant_recipient(session: Session, coordinator: Member, member_id) -> Member | None:
    """The member a grant is for, when the coordinator manages them and they are active."""
    recipient = _managed_recipient(session, coordinator, member_id)
    return recipient if recipient is not None and recipient.is_active else None


def _managed_recipient(session: Session, coordinator: Member, member_id) -> Member | None:
    recipient = member_or_none(session, member_id)
    return recipient if recipient is not None and manages(coordinator, recipient) else None


def validate_minutes(minutes, policy: Policy) -> int:
    """A whole, positive number of minutes no larger than one transfer may carry."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationFailed(
            _l("Minutes must be a whole number."), fields={"minutes": _l("Enter a whole number.")}
        )
    if not 1 <= minutes <= policy.max_minutes:
        # The limit is shown as a duration ("24 h"), formatted when the message is shown.
        limit = LazyString(format_minutes, policy.max_minutes)
        message = _l("The time must be between 1 minute and %(max)s.", max=limit)
        raise ValidationFailed(message, fields={"minutes": message})
    return minutes


def validate_memo(memo: str | None) -> str:
    if memo is not None and not isinstance(memo, str):
        raise ValidationFailed(_l("A note must be text."), fields={"memo": _l("A note must be text.")})
    memo = (memo or "").strip()
    if len(memo) > MEMO_MAX_LENGTH:
        message = _l("A note can be at most %(max)s characters.", max=MEMO_MAX_LENGTH)
        raise ValidationFailed(message, fields={"memo": message})
    return memo


def record_transaction(
    session: Session,
    kind: TransactionKind,
    moves: list[Move],
    *,
    created_by_id: int | None = None,
    exchange_id: int | None = None,
    reverses_id: int | None = None,
    memo: str = "",
) -> Transaction:
    """Write one balanced, sealed transaction and move the cached balances, or change nothing."""
    if len(moves) < 2 or sum(m.minutes for m in moves) != 0 or any(m.minutes == 0 for m in moves):
        raise ValueError("a transaction needs two or more non-zero postings summing to zero")
    with session.begin_nested():
        # The chain's lock comes before any account's, in every writer, so no two writers
        # wait for each other in a circle (also when one request writes two transactions).
        prev_hash = _lock_chain(session)
        if kind is not TransactionKind.REVERSAL:
            _require_active_accounts(session, [m.account_id for m in moves])
        visit_sign = _visit_sign(session, kind, reverses_id)
        # Accounts are locked in id order so two opposite transfers cannot deadlock.
        for move in sorted(moves, key=lambda m: m.account_id):
            _move_balance(session, kind, move, visit_sign)
        transaction = Transaction(
            kind=kind,
            created_by_id=created_by_id,
            exchange_id=exchange_id,
            reverses_id=reverses_id,
            memo=memo,
        )
        transaction.postings = [Posting(account_id=m.account_id, minutes=m.minutes) for m in moves]
        session.add(transaction)
        session.flush()
        # A flush of its own: the database checks the postings are there when it seals.
        session.add(_seal(transaction, prev_hash))
        session.flush()
    _expire_cached_balances(session, {m.account_id for m in moves})
    return transaction


def _lock_chain(session: Session) -> str:
    """Take the ledger's write lock and return the hash the next seal must follow.

    On PostgreSQL a transaction-level advisory lock queues ledger writers until the holder
    commits, so each reads the seal the previous one wrote and the chain cannot fork (the
    unique prev_hash would refuse a fork anyway). It needs no row, so an emptied table cannot
    lose it. On SQLite one writer at a time holds the database's write lock: taken here by a
    request that has only read so far.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(LEDGER_LOCK_KEY)))
    else:
        hold_write_lock(session)  # a request that read first (core.database.reads_first)
    last = session.scalar(
        sa.select(LedgerSeal.hash).order_by(LedgerSeal.transaction_id.desc()).limit(1)
    )
    return last or GENESIS_HASH


def _seal(transaction: Transaction, prev_hash: str) -> LedgerSeal:
    fields = (
        transaction.id, transaction.kind.value, transaction.exchange_id, transaction.reverses_id,
        transaction.created_by_id, transaction.memo, transaction.created_at,
    )
    postings = [(p.account_id, p.minutes) for p in transaction.postings]
    return LedgerSeal(transaction_id=transaction.id, prev_hash=prev_hash,
                      hash=seal_hash(prev_hash, fields, postings))


def seal_hash(prev_hash: str, fields: Sequence, postings: Iterable[tuple[int, int]]) -> str:
    """SHA-256 of the previous seal's hash and a canonical text of one transaction:
    `fields` in the order of SEALED_COLUMNS, and its (account_id, minutes) postings."""
    tid, kind, exchange_id, reverses_id, created_by_id, memo, created_at = fields
    text = _SEAL_ENCODER.encode(
        [SEAL_VERSION, tid, kind, exchange_id, reverses_id, created_by_id, memo,
         _instant_text(created_at), sorted(postings)]
    )
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def _instant_text(value) -> str:
    """A timestamp as UTC ISO text with microseconds, whether the database gave back a
    datetime (PostgreSQL) or its stored text (SQLite)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # not a timestamp any more: it will not match its seal
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # SQLite keeps UTC without a zone
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _require_active_accounts(session: Session, account_ids: list[int]) -> None:
    """A deactivated member's minutes stay where they are; only a coordinator's correction
    (a reversal) may still move them. Read under the ledger's lock, like the balances."""
    stopped = session.scalar(
        sa.select(Member).join(Account, Account.member_id == Member.id)
        .where(Account.id.in_(account_ids), Member.deactivated_at.is_not(None))
        .order_by(Member.id).limit(1)
    )
    if stopped is not None:
        raise Conflict(_l("%(name)s's membership is deactivated: their minutes cannot move.",
                          name=stopped.name), code="member_deactivated")


def _visit_sign(session: Session, kind: TransactionKind, reverses_id: int | None) -> int:
    """+1 for a visit, −1 for the reversal of a visit, 0 otherwise: how a transaction moves
    the accounts' cached minutes given and received in visits."""
    if kind is TransactionKind.VISIT:
        return 1
    if kind is TransactionKind.REVERSAL and reverses_id is not None:
        original = session.scalar(sa.select(Transaction.kind).where(Transaction.id == reverses_id))
        return -1 if original is TransactionKind.VISIT else 0
    return 0


def _move_balance(session: Session, kind: TransactionKind, move: Move, visit_sign: int = 0) -> None:
    values = {"balance_minutes": Account.balance_minutes + move.minutes}
    # In a visit the provider is credited (gave) and the receiver debited (received);
    # a reversal takes back the same minutes from the same side.
    if visit_sign and move.minutes * visit_sign > 0:
        values["given_minutes"] = Account.given_minutes + move.minutes
    elif visit_sign:
        values["received_minutes"] = Account.received_minutes - move.minutes
    statement = (
        sa.update(Account)
        .where(Account.id == move.account_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if move.floor is not None and move.minutes < 0:
        statement = statement.where(Account.balance_minutes + move.minutes >= move.floor)
    if session.execute(statement).rowcount != 1:
        raise _too_low(session, kind, move)


def _too_low(session: Session, kind: TransactionKind, move: Move) -> InsufficientBalance:
    """Whose balance is too low and what helps, said the same on every page and in the API."""
    member = session.scalar(sa.select(Member).join(Account, Account.member_id == Member.id)
                            .where(Account.id == move.account_id))
    floor = format_minutes(move.floor)
    # Read under the ledger's lock, so it is the balance that refused the move.
    held = LazyString(format_minutes, session.scalar(
        sa.select(Account.balance_minutes).where(Account.id == move.account_id)))
    if member is None and kind is TransactionKind.REVERSAL:
        message = _l("This correction cannot be made: the community pool holds %(pool)s and the "
                     "correction would take %(minutes)s from it.",
                     pool=held, minutes=LazyString(format_minutes, -move.minutes))
    elif member is None:
        message = _l("The community pool does not have that much time.")
    elif kind is TransactionKind.VISIT:
        message = _l("This visit cannot be confirmed: %(name)s's balance cannot go below %(floor)s. "
                     "A coordinator can help with time from the community pool.",
                     name=member.name, floor=floor)
    elif kind in (TransactionKind.GIFT, TransactionKind.DONATION):
        message = _l("You can give only minutes you have: your balance is %(balance)s.", balance=held)
    else:
        message = _l("There is not enough time in the account for this.")
    return InsufficientBalance(message, member_id=member.id if member else None, floor_minutes=move.floor)


def _expire_cached_balances(session: Session, account_ids: set[int]) -> None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Account) and obj.id in account_ids:
            session.expire(obj, ["balance_minutes", "given_minutes", "received_minutes"])


def transfer_between(
    session: Session,
    kind: TransactionKind,
    from_account: Account,
    to_account: Account,
    minutes: int,
    *,
    floor: int | None,
    **details,
) -> Transaction:
    """Move minutes from one account to another as a two-posting transaction."""
    return record_transaction(
        session,
        kind,
        [
            Move(from_account.id, -minutes, floor),
            Move(to_account.id, minutes, None),
        ],
        **details,
    )


def gift(
    session: Session, sender: Member, recipient_id, minutes, memo: str, policy: Policy
) -> Transaction:
    """A member gives minutes to another member (the Sarangori practice)."""
    recipient_id = validate_member_id(recipient_id)
    minutes = validate_minutes(minutes, policy)
    memo = validate_memo(memo)
    if recipient_id == sender.id:
        message = _l("You cannot give time to yourself.")
        raise ValidationFailed(message, code="self_transfer", fields={"to_member_id": message})
    recipient = account_of(session, recipient_id)
    transaction = transfer_between(
        session, TransactionKind.GIFT, account_of(session, sender.id), recipient, minutes,
        floor=GIFT_FLOOR, created_by_id=sender.id, memo=memo,
    )
    events.gift_received(session, sender, recipient_id, minutes)
    return transaction


def donate_to_pool(
    session: Session, donor: Member, minutes, memo: str, policy: Policy
) -> Transaction:
    """A member gives minutes to the community pool."""
    minutes = validate_minutes(minutes, policy)
    return transfer_between(
        session, TransactionKind.DONATION, account_of(session, donor.id), pool_account(session),
        minutes, floor=GIFT_FLOOR, created_by_id=donor.id,
        memo=validate_memo(memo),
    )


def grant_from_pool(
    session: Session, coordinator: Member, recipient_id, minutes, memo: str, policy: Policy
) -> Transaction:
    """A coordinator grants minutes from the community pool to a member of their centre, with
    the reason recorded in the transaction and the audit log."""
    recipient_id = validate_member_id(recipient_id)
    if not coordinator.is_coordinator:
        raise NotAllowed(_l("Only a coordinator can grant time from the community pool."))
    if recipient_id == coordinator.id:
        # Grants are given on others' behalf; a coordinator in need asks a colleague.
        raise NotAllowed(_l("You cannot grant time from the pool to yourself."), code="self_grant")
    minutes = validate_minutes(minutes, policy)
    reason = _required_reason(memo)
    # Not grant_recipient: a deactivated member exists, and the ledger says why it refuses.
    recipient = _managed_recipient(session, coordinator, recipient_id)
    if recipient is None:
        message = _l("That member does not exist.")
        raise NotFound(message, code="member_not_found", fields={"to_member_id": message})
    transaction = transfer_between(
        session, TransactionKind.GRANT, pool_account(session), account_of(session, recipient.id),
        minutes, floor=POOL_FLOOR, created_by_id=coordinator.id, memo=reason,
    )
    audit.record(session, coordinator, "pool.grant", member=recipient, reason=reason,
                 transaction_id=transaction.id)
    events.grant_received(session, recipient.id, minutes, reason)
    return transaction


def _required_reason(memo) -> str:
    """Grants and corrections are explained: the reason is shown in the member's history."""
    reason = validate_memo(memo)
    if not reason:
        message = _l("Please give the reason.")
        raise ValidationFailed(message, code="reason_required", fields={"memo": message})
    return reason


def credit_visit(
    session: Session, provider_id: int, receiver_id: int, minutes: int, *,
    exchange_id: int, created_by_id: int, policy: Policy, memo: str = "",
) -> Transaction:
    """Move the minutes of a confirmed visit from the receiver to the provider."""
    transaction = transfer_between(
        session, TransactionKind.VISIT, account_of(session, receiver_id),
        account_of(session, provider_id), minutes, floor=policy.min_balance_minutes,
        exchange_id=exchange_id, created_by_id=created_by_id, memo=memo,
    )
    events.visit_confirmed(session, provider_id, receiver_id, minutes, exchange_id)
    return transaction


def reverse(session: Session, coordinator: Member, transaction_id: int, memo: str) -> Transaction:
    """Undo a transaction with a new one whose postings are its negation, with the reason.

    A coordinator may reverse a transaction touching a member of their centre, but not one
    they are a party to. Members' floors do not apply: a correction must be possible even when
    the credited member has already spent the minutes. The pool's does: it never owes time.
    """
    if not coordinator.is_coordinator:
        raise NotAllowed(_l("Only a coordinator can reverse a transaction."))
    original, parties = managed_transaction(session, coordinator, transaction_id)
    if is_party(coordinator, parties):
        raise NotAllowed(_l("You cannot reverse a transaction of your own. Ask a colleague."),
                         code="self_reversal")
    if original.kind is TransactionKind.REVERSAL:
        raise ValidationFailed(_l("A reversal cannot itself be reversed; make a new transaction."))
    reason = _required_reason(memo)
    already = session.scalar(sa.select(Transaction.id).where(Transaction.reverses_id == original.id))
    if already is not None:
        raise Conflict(_l("This transaction has already been reversed."), code="already_reversed")
    pool_id = pool_account(session).id
    moves = [Move(p.account_id, -p.minutes, POOL_FLOOR if p.account_id == pool_id else None)
             for p in original.postings]
    reversal = record_transaction(
        session, TransactionKind.REVERSAL, moves, created_by_id=coordinator.id,
        exchange_id=original.exchange_id, reverses_id=original.id, memo=reason,
    )
    for member in sorted((p.member for p in parties if p.member), key=lambda m: m.id):
        audit.record(session, coordinator, "transaction.reverse", member=member, reason=reason,
                     transaction_id=reversal.id, exchange_id=original.exchange_id)
    events.transaction_reversed(session, reversal)
    return reversal


def managed_transaction(session: Session, coordinator: Member, transaction_id) -> tuple[Transaction, list[Party]]:
    """A transaction touching a member the coordinator manages, with its parties, or NotFound
    (never revealing other centres' transactions)."""
    require_coordinator(coordinator)
    transaction = by_id(session, Transaction, transaction_id)
    parties = _parties(session, transaction.id) if transaction is not None else []
    if not any(p.member and manages(coordinator, p.member) for p in parties):
        raise NotFound(_l("That transaction does not exist."))
    return transaction, parties


def _parties(session: Session, transaction_id: int) -> list[Party]:
    rows = session.execute(
        sa.select(Posting.minutes, Member)
        .join(Account, Posting.account_id == Account.id)
        .outerjoin(Member, Account.member_id == Member.id)
        .where(Posting.transaction_id == transaction_id).order_by(Posting.id)
    ).all()
    return [Party(member, minutes) for minutes, member in rows]


def is_party(member: Member, parties: list[Party]) -> bool:
    """Whether the member's own account is in the transaction (their gift, a visit they gave
    or received): then a colleague must correct it."""
    return any(p.member is not None and p.member.id == member.id for p in parties)


def managed_party(coordinator: Member, parties: list[Party]) -> Member:
    """The first member of a transaction's parties the coordinator manages."""
    return next(p.member for p in parties if p.member and manages(coordinator, p.member))


def reversal_of(session: Session, transaction: Transaction) -> Transaction | None:
    """The correction that undid this transaction, if any (a correction has none)."""
    if transaction.kind is TransactionKind.REVERSAL:
        return None
    return session.scalar(sa.select(Transaction).where(Transaction.reverses_id == transaction.id))


def reversed_ids(session: Session, transaction_ids: list[int]) -> set[int]:
    """Which of these transactions a later correction has already undone."""
    if not transaction_ids:
        return set()
    return set(session.scalars(
        sa.select(Transaction.reverses_id).where(Transaction.reverses_id.in_(transaction_ids))))


def creator_of(session: Session, transaction: Transaction) -> Member | None:
    """Who wrote the transaction (None for one the system wrote)."""
    return session.get(Member, transaction.created_by_id) if transaction.created_by_id else None


def moved_minutes(session: Session, transaction_ids: list[int]) -> dict[int, int]:
    """How many minutes each transaction moved (the sum of its credits)."""
    if not transaction_ids:
        return {}
    rows = session.execute(
        sa.select(Posting.transaction_id, sa.func.sum(Posting.minutes))
        .where(Posting.transaction_id.in_(transaction_ids), Posting.minutes > 0)
        .group_by(Posting.transaction_id)
    )
    return {transaction_id: int(total) for transaction_id, total in rows}


def balance_of(session: Session, member_id: int) -> int:
    return account_of(session, member_id).balance_minutes


def history(session: Session, member_id: int, limit: int = 200, offset: int = 0) -> list[LedgerEntry]:
    """A member's postings, newest first, each with the other side of its transaction."""
    query = _history_query().limit(limit).offset(offset)
    rows = session.execute(query, {"member_id": member_id}).all()
    return [
        LedgerEntry(
            transaction_id=txn.id,
            kind=txn.kind,
            minutes=posting.minutes,
            counterparty_id=counterparty_id,
            counterparty_name=counterparty_name,
            exchange_id=txn.exchange_id,
            memo=txn.memo,
            created_at=txn.created_at,
        )
        for posting, txn, counterparty_id, counterparty_name in rows
    ]


@functools.cache
def _history_query() -> sa.Select:
    # Built once: its three aliases cost more to make than the query takes on SQLite.
    own = aliased(Posting)
    other = aliased(Posting)
    other_account = aliased(Account)
    # The account as a value, not a join: the planner then walks the (account, transaction)
    # index newest first and stops after one page.
    account_id = sa.select(Account.id).where(Account.member_id == sa.bindparam("member_id")).scalar_subquery()
    return (
        sa.select(own, Transaction, other_account.member_id, Member.name)
        .join(Transaction, own.transaction_id == Transaction.id)
        .outerjoin(
            other,
            sa.and_(other.transaction_id == own.transaction_id, other.account_id != own.account_id),
        )
        .outerjoin(other_account, other.account_id == other_account.id)
        .outerjoin(Member, other_account.member_id == Member.id)
        .where(own.account_id == account_id)
        # Ids follow time (a transaction is numbered under the ledger's write lock).
        .order_by(own.transaction_id.desc())
    )


def given_and_received(session: Session, member_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Minutes each member has given and received in confirmed visits, net of reversals
    (the accounts' cached totals, which `verify` checks against the postings)."""
    if not member_ids:
        return {}
    rows = session.execute(
        sa.select(Account.member_id, Account.given_minutes, Account.received_minutes)
        .where(Account.member_id.in_(member_ids))
    ).all()
    found = {member_id: (int(given), int(received)) for member_id, given, received in rows}
    return {member_id: found.get(member_id, (0, 0)) for member_id in member_ids}


def verify(session: Session) -> list[str]:
    """Every broken ledger invariant, as sentences; an empty list means the ledger is sound.

    Balance floors are not checked: they bind new debits, and a coordinator's reversal may
    rightly take an account below its floor."""
    checks = (_unbalanced_transactions, _empty_transactions, _drifted_balances,
              _drifted_visit_totals, _global_sum,
              _unlinked_codes, _unlinked_checkins, _reversal_problems, _pool_count,
              _chain_problems)
    return [problem for check in checks for problem in check(session)]


def _unbalanced_transactions(session: Session) -> list[str]:
    rows = session.execute(
        sa.select(Posting.transaction_id, sa.func.sum(Posting.minutes), sa.func.count())
        .group_by(Posting.transaction_id)
        .having(sa.or_(sa.func.sum(Posting.minutes) != 0, sa.func.count() < 2))
    ).all()
    return [f"transaction {t}: postings sum to {s} over {c} postings" for t, s, c in rows]


def _empty_transactions(session: Session) -> list[str]:
    ids = session.scalars(
        sa.select(Transaction.id).where(~sa.exists().where(Posting.transaction_id == Transaction.id))
    ).all()
    return [f"transaction {t}: has no postings" for t in ids]


def _drifted_balances(session: Session) -> list[str]:
    sums = (
        sa.select(Posting.account_id, sa.func.sum(Posting.minutes).label("total"))
        .group_by(Posting.account_id)
        .subquery()
    )
    total = sa.func.coalesce(sums.c.total, 0)
    rows = session.execute(
        sa.select(Account.id, Account.balance_minutes, total)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.balance_minutes != total)
    ).all()
    return [f"account {a}: cached balance {b} but postings sum to {s}" for a, b, s in rows]


def _drifted_visit_totals(session: Session) -> list[str]:
    """Each account's cached visit totals against its visit postings net of reversals."""
    minutes, original = Posting.minutes, aliased(Transaction)
    visit = Transaction.kind == TransactionKind.VISIT
    reversal = Transaction.kind == TransactionKind.REVERSAL
    sums = (
        sa.select(
            Posting.account_id,
            sa.func.sum(sa.case((sa.and_(visit, minutes > 0), minutes),
                                (sa.and_(reversal, minutes < 0), minutes), else_=0)).label("given"),
            sa.func.sum(sa.case((sa.and_(visit, minutes < 0), -minutes),
                                (sa.and_(reversal, minutes > 0), -minutes), else_=0)).label("received"),
        )
        .join(Transaction, Posting.transaction_id == Transaction.id)
        .outerjoin(original, original.id == Transaction.reverses_id)
        .where(sa.or_(visit, sa.and_(reversal, original.kind == TransactionKind.VISIT)))
        .group_by(Posting.account_id)
        .subquery()
    )
    given, received = sa.func.coalesce(sums.c.given, 0), sa.func.coalesce(sums.c.received, 0)
    rows = session.execute(
        sa.select(Account.id, Account.given_minutes, Account.received_minutes, given, received)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(sa.or_(Account.given_minutes != given, Account.received_minutes != received))
    ).all()
    return [f"account {a}: cached visit totals given {g} / received {r} but postings say {pg} / {pr}"
            for a, g, r, pg, pr in rows]


def _global_sum(session: Session) -> list[str]:
    total = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Posting.minutes), 0)))
    return [f"all postings sum to {total}, not 0"] if total != 0 else []


def _unlinked_codes(session: Session) -> list[str]:
    ids = session.scalars(
        sa.select(ConfirmationCode.id).where(
            ConfirmationCode.redeemed_at.is_not(None), ConfirmationCode.transaction_id.is_(None)
        )
    ).all()
    return [f"confirmation code {c}: redeemed but has no transaction" for c in ids]


def _unlinked_checkins(session: Session) -> list[str]:
    ids = session.scalars(
        sa.select(CardCheckin.id).where(
            CardCheckin.status == CheckinStatus.CONFIRMED, CardCheckin.transaction_id.is_(None)
        )
    ).all()
    return [f"card check-in {c}: confirmed but has no transaction" for c in ids]


def _pool_count(session: Session) -> list[str]:
    pools = session.scalar(sa.select(sa.func.count()).where(Account.kind == AccountKind.POOL))
    return [] if pools == 1 else [f"{pools} community pool accounts, expected exactly 1"]


def _reversal_problems(session: Session) -> list[str]:
    """Each reversal must be the exact negation of the transaction it reverses."""
    original = aliased(Posting)
    reversing = aliased(Posting)
    rows = session.execute(
        sa.select(Transaction.id)
        .join(reversing, reversing.transaction_id == Transaction.id)
        .outerjoin(
            original,
            sa.and_(
                original.transaction_id == Transaction.reverses_id,
                original.account_id == reversing.account_id,
                original.minutes == -reversing.minutes,
            ),
        )
        .where(Transaction.reverses_id.is_not(None), original.id.is_(None))
        .distinct()
    ).scalars().all()
    return [f"transaction {t}: does not mirror the transaction it reverses" for t in rows]


def chain_head(session: Session) -> tuple[int, str]:
    """How many transactions are sealed, and the last seal's hash. Noted somewhere outside the
    database (a printout, an email), it shows later whether the newest transactions were
    removed and the chain cut back, which the chain alone cannot show."""
    count = session.scalar(sa.select(sa.func.count()).select_from(LedgerSeal))
    last = session.scalar(
        sa.select(LedgerSeal.hash).order_by(LedgerSeal.transaction_id.desc()).limit(1)
    )
    return count, last or GENESIS_HASH


def _chain_problems(session: Session) -> list[str]:
    """Every transaction sealed, each seal matching its transaction and following the one
    before it. Streams in id order, so a million transactions need no more memory than one."""
    problems = []
    expected_prev = GENESIS_HASH
    # On the session's connection, past the ORM's row handling: a fifth of the time.
    for fields, seal, postings in _sealed_transactions(session.connection()):
        tid = fields[0]
        if seal is None:
            problems.append(f"transaction {tid}: not sealed")
            continue
        prev_hash, stored_hash = seal
        if prev_hash != expected_prev:
            problems.append(f"seal chain broken at transaction {tid}")
        if seal_hash(prev_hash, fields, postings) != stored_hash:
            problems.append(f"transaction {tid}: its seal does not match its contents "
                            "(changed after it was written?)")
        # Follow the stored hash, so one changed row is reported once, not at every later seal.
        expected_prev = stored_hash
    return problems


def _sealed_transactions(connection) -> Iterator[tuple[tuple, tuple[str, str] | None, list]]:
    """Every transaction in id order: its SEALED_COLUMNS values, its seal's (prev_hash, hash)
    or None, and its (account_id, minutes) postings."""
    rows = connection.execute(
        sa.select(*SEALED_COLUMNS, LedgerSeal.prev_hash, LedgerSeal.hash,
                  Posting.account_id, Posting.minutes)
        .outerjoin(LedgerSeal, LedgerSeal.transaction_id == Transaction.id)
        .outerjoin(Posting, Posting.transaction_id == Transaction.id)
        .order_by(Transaction.id)
        .execution_options(yield_per=VERIFY_BATCH)
    )
    width = len(SEALED_COLUMNS)
    for _, group in itertools.groupby(rows, key=lambda row: row[0]):
        group = list(group)
        first = group[0]
        seal = None if first[width + 1] is None else (first[width], first[width + 1])
        postings = [(row[-2], row[-1]) for row in group if row[-2] is not None]
        yield tuple(first[:width]), seal, postings
