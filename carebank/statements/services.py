"""Monthly statements: a member's opening balance, every entry of one calendar month with a
running balance, the totals and the closing balance.

A statement always reconciles: the opening balance is the sum of the member's postings before
the month began, each entry is one posting, so opening + entries = closing, and the closing
balance of a month is the opening balance of the next.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from carebank.ledger.models import Account, Posting, Transaction, TransactionKind
from carebank.ledger.services import account_of
from carebank.members.models import Member
from carebank.reports.services import add_months, month_start


@dataclass(frozen=True)
class StatementLine:
    day: date  # in the member's time zone
    transaction_id: int
    kind: TransactionKind
    counterparty_id: int | None  # None: the community pool
    counterparty_name: str
    memo: str
    minutes: int  # + credit, − debit
    balance: int  # after this entry


@dataclass(frozen=True)
class Statement:
    member: Member
    month: date  # the first day
    opening: int
    lines: list[StatementLine]

    @property
    def total_in(self) -> int:
        return sum(line.minutes for line in self.lines if line.minutes > 0)

    @property
    def total_out(self) -> int:
        """Minutes that left the account, as a positive number."""
        return -sum(line.minutes for line in self.lines if line.minutes < 0)

    @property
    def closing(self) -> int:
        return self.opening + self.total_in - self.total_out

    @property
    def previous_month(self) -> date:
        return add_months(self.month, -1)

    @property
    def next_month(self) -> date:
        return add_months(self.month, 1)


def statement(session: Session, member_id: int, year: int, month: int, tz: ZoneInfo) -> Statement:
    """The statement of one member for one calendar month in time zone `tz`."""
    member = session.get(Member, member_id)
    account = account_of(session, member_id)
    first = date(year, month, 1)
    start, end = month_start(first, tz), month_start(add_months(first, 1), tz)
    opening = _sum_before(session, account.id, start)
    rows = session.execute(
        sa.select(Posting.minutes, Transaction)
        .join(Transaction, Posting.transaction_id == Transaction.id)
        .where(Posting.account_id == account.id, Transaction.created_at >= start,
               Transaction.created_at < end)
        .order_by(Transaction.created_at, Transaction.id, Posting.id)
    ).all()
    others = _counterparties(session, account.id, [txn.id for _, txn in rows])
    lines, running = [], opening
    for minutes, txn in rows:
        running += minutes
        other_id, other_name = others.get(txn.id, (None, ""))
        lines.append(StatementLine(txn.created_at.astimezone(tz).date(), txn.id, txn.kind,
                                   other_id, other_name, txn.memo, minutes, running))
    return Statement(member, first, opening, lines)


def _sum_before(session: Session, account_id: int, moment: datetime) -> int:
    return int(session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Posting.minutes), 0))
        .join(Transaction, Posting.transaction_id == Transaction.id)
        .where(Posting.account_id == account_id, Transaction.created_at < moment)
    ))


def _counterparties(session: Session, account_id: int, transaction_ids: list[int]) -> dict:
    """For each transaction, the member on the other side (id, name); (None, "") for the pool."""
    if not transaction_ids:
        return {}
    rows = session.execute(
        sa.select(Posting.transaction_id, Member.id, Member.name)
        .join(Account, Posting.account_id == Account.id)
        .outerjoin(Member, Account.member_id == Member.id)
        .where(Posting.transaction_id.in_(transaction_ids), Posting.account_id != account_id)
        .order_by(Posting.id)
    ).all()
    found: dict[int, tuple[int | None, str]] = {}
    for transaction_id, other_id, other_name in rows:
        # Transactions have two postings; should one ever have more, the first names it.
        found.setdefault(transaction_id, (other_id, other_name or ""))
    return found
