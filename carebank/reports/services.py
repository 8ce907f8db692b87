"""Centre reports: hours exchanged, who gave and who received, needs nobody answered, balances
far below zero and new members, for one centre or for all of them.

What belongs to a centre: a member belongs to it through `Member.centre_id`, and a visit
counts for it when the visit posts to the account of one of its members, that is when the
provider or the receiver is a member of the centre. A visit between members of two centres
counts, once, for each of them. Only confirmed visits (`TransactionKind.VISIT`) are care
exchanged: gifts, donations and grants move time but are not care, and a visit that was
later reversed counts for nothing, in every month (its correction is the truth).

Every figure is a whole number of minutes, formatted only when shown. Months are calendar
months in the bank's time zone; rows are bucketed in Python, so the same code runs on SQLite
and PostgreSQL (a centre has thousands of visits a year, not millions).
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, aliased

from carebank.centres.models import Centre
from carebank.centres.services import get_centre
from carebank.core.errors import NotFound, ValidationFailed
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger.models import Account, Posting, Transaction, TransactionKind
from carebank.members.models import Member
from carebank.posts.categories import category_name
from carebank.posts.models import Post, PostKind, PostStatus

DEFAULT_MONTHS = 12
MAX_MONTHS = 60
UNMATCHED_AFTER = timedelta(days=7)
MONTH_PATTERN = re.compile(r"(\d{4})-(\d{2})")
FIRST_YEAR, LAST_YEAR = 2000, 2100
TABLES = ("hours_by_month", "hours_by_category", "reciprocity", "unmatched_needs",
          "low_balances", "new_members")


# Months ---------------------------------------------------------------------------------------

def parse_month(text, field_name: str = "month") -> date:
    """"2025-03" → date(2025, 3, 1), or ValidationFailed naming the field."""
    match = MONTH_PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
    year, month = (int(match[1]), int(match[2])) if match else (0, 0)
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        message = _l("Please give a month as year and month, like %(example)s.", example="2025-03")
        raise ValidationFailed(message, code="bad_month", fields={field_name: message})
    return date(year, month, 1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_of(moment: datetime, tz: ZoneInfo) -> date:
    """The first day of the calendar month `moment` falls in, in time zone `tz`."""
    local = moment.astimezone(tz)
    return date(local.year, local.month, 1)


def month_start(month: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a month begins in time zone `tz`."""
    return datetime(month.year, month.month, 1, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """Whole calendar months from `first` to `last` (both first days, both included)."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def months(self) -> list[date]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [add_months(self.first, i) for i in range(count)]

    @property
    def starts_at(self) -> datetime:
        return month_start(self.first, self.tz)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period."""
        return month_start(add_months(self.last, 1), self.tz)

    def holds(self, column) -> sa.ColumnElement:
        return sa.and_(column >= self.starts_at, column < self.ends_at)


def parse_period(from_text, to_text, tz: ZoneInfo, now: datetime) -> Period:
    """The months asked for, by default the last twelve up to this one."""
    this_month = month_of(now, tz)
    last = parse_month(to_text, "to") if to_text else this_month
    first = parse_month(from_text, "from") if from_text else add_months(last, 1 - DEFAULT_MONTHS)
    period = Period(first, last, tz)
    if first > last:
        message = _l("The first month must not be after the last.")
        raise ValidationFailed(message, code="bad_period", fields={"from": message})
    if len(period.months) > MAX_MONTHS:
        message = _l("A report covers at most %(max)s months.", max=MAX_MONTHS)
        raise ValidationFailed(message, code="bad_period", fields={"from": message})
    return period


# Scope and the visits a report counts ----------------------------------------------------------

def report_centre(session: Session, viewer: Member, wanted: str) -> Centre | None:
    """The centre reported on: a coordinator's own; an admin's choice (`wanted`, the centre's
    id as asked for), None for all centres."""
    if viewer.is_admin:
        return get_centre(session, int(wanted) if wanted.isdigit() else None) if wanted else None
    if viewer.centre_id is None:
        raise NotFound(_l("You do not belong to a centre yet, so there is nothing to report."))
    return viewer.centre


def in_centre(centre_id: int | None) -> sa.ColumnElement:
    """Members of the centre; None means every centre (an admin's view of the bank)."""
    return sa.true() if centre_id is None else Member.centre_id == centre_id


def _not_reversed():
    reversal = aliased(Transaction)
    return ~sa.exists().where(reversal.reverses_id == Transaction.id)


@dataclass(frozen=True)
class Visit:
    transaction_id: int
    created_at: datetime
    minutes: int
    category: str | None


def visits(session: Session, centre_id: int | None, period: Period) -> list[Visit]:
    """Confirmed, unreversed visits in the period that touch a member of the centre."""
    credit = aliased(Posting)
    touches_centre = (
        sa.select(Posting.id).join(Account, Posting.account_id == Account.id)
        .join(Member, Account.member_id == Member.id)
        .where(Posting.transaction_id == Transaction.id, in_centre(centre_id)).exists()
    )
    rows = session.execute(
        # A visit has exactly one credit: the provider's; its amount is the visit's length.
        sa.select(Transaction.id, Transaction.created_at, credit.minutes, Post.category)
        .join(credit, sa.and_(credit.transaction_id == Transaction.id, credit.minutes > 0))
        .outerjoin(Exchange, Exchange.id == Transaction.exchange_id)
        .outerjoin(Post, Post.id == Exchange.post_id)
        .where(Transaction.kind == TransactionKind.VISIT, period.holds(Transaction.created_at),
               _not_reversed(), touches_centre)
        .order_by(Transaction.created_at, Transaction.id)
    ).all()
    return [Visit(*row) for row in rows]


# The tables -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MonthHours:
    month: date
    minutes: int
    visits: int


def hours_by_month(visit_list: list[Visit], period: Period) -> list[MonthHours]:
    """Minutes and number of visits in each month of the period, empty months included."""
    minutes, count = Counter(), Counter()
    for visit in visit_list:
        month = month_of(visit.created_at, period.tz)
        minutes[month] += visit.minutes
        count[month] += 1
    return [MonthHours(m, minutes[m], count[m]) for m in period.months]


@dataclass(frozen=True)
class CategoryHours:
    category: str  # a slug; "" for a visit without a post
    minutes: int
    visits: int

    @property
    def name(self) -> str:
        return category_name(self.category) if self.category else _("Other")


def hours_by_category(visit_list: list[Visit]) -> list[CategoryHours]:
    """Minutes and visits per category of care, the largest first."""
    minutes, count = Counter(), Counter()
    for visit in visit_list:
        minutes[visit.category or ""] += visit.minutes
        count[visit.category or ""] += 1
    rows = [CategoryHours(slug, minutes[slug], count[slug]) for slug in minutes]
    return sorted(rows, key=lambda row: (-row.minutes, row.category))


@dataclass(frozen=True)
class MemberFlow:
    member: Member
    given: int
    received: int


@dataclass(frozen=True)
class Reciprocity:
    """Who gave and who received care in the period; the rate is both / active."""

    flows: list[MemberFlow]

    @property
    def gave(self) -> int:
        return sum(1 for f in self.flows if f.given)

    @property
    def received(self) -> int:
        return sum(1 for f in self.flows if f.received)

    @property
    def both(self) -> int:
        return sum(1 for f in self.flows if f.given and f.received)

    @property
    def active(self) -> int:
        return len(self.flows)

    @property
    def rate(self) -> float | None:
        """The reciprocity rate as a fraction (0.5 = 50 %), None when nobody was active."""
        return self.both / self.active if self.active else None


def reciprocity(session: Session, centre_id: int | None, period: Period) -> Reciprocity:
    """Members of the centre who gave (were credited) or received (were debited) a visit."""
    minutes = Posting.minutes
    rows = session.execute(
        sa.select(
            Member,
            sa.func.sum(sa.case((minutes > 0, minutes), else_=0)),
            sa.func.sum(sa.case((minutes < 0, -minutes), else_=0)),
        )
        .join(Account, Account.member_id == Member.id)
        .join(Posting, Posting.account_id == Account.id)
        .join(Transaction, Posting.transaction_id == Transaction.id)
        .where(Transaction.kind == TransactionKind.VISIT, period.holds(Transaction.created_at),
               _not_reversed(), in_centre(centre_id))
        .group_by(Member.id)
        .order_by(Member.name, Member.id)
    ).all()
    return Reciprocity([MemberFlow(member, int(given), int(received)) for member, given, received in rows])


@dataclass(frozen=True)
class UnmatchedNeed:
    post: Post
    days_waiting: int


def unmatched_needs(session: Session, centre_id: int | None, now: datetime) -> list[UnmatchedNeed]:
    """Open, unexpired needs posted at least a week ago that nobody has been accepted for,
    oldest first (whatever the period: they are waiting now)."""
    accepted = sa.exists().where(Exchange.post_id == Post.id,
                                 Exchange.status == ExchangeStatus.ACCEPTED)
    posts = session.scalars(
        sa.select(Post).join(Member, Post.member_id == Member.id)
        .where(Post.kind == PostKind.NEED, Post.status == PostStatus.OPEN, Post.expires_at > now,
               Post.created_at <= now - UNMATCHED_AFTER, ~accepted, in_centre(centre_id))
        .order_by(Post.created_at, Post.id)
    ).all()
    return [UnmatchedNeed(post, (now - post.created_at).days) for post in posts]


def low_balances(session: Session, centre_id: int | None, threshold: int) -> list[Member]:
    """Members whose balance is at or below `threshold` minutes, the lowest first."""
    return list(session.scalars(
        sa.select(Member).join(Account, Account.member_id == Member.id)
        .where(Account.balance_minutes <= threshold, in_centre(centre_id))
        .order_by(Account.balance_minutes, Member.id)
    ))


@dataclass(frozen=True)
class NewMembers:
    per_month: list[tuple[date, int]]
    members: list[Member]


def new_members(session: Session, centre_id: int | None, period: Period) -> NewMembers:
    """Members who joined in the period, counted per month and listed oldest first."""
    members = list(session.scalars(
        sa.select(Member).where(period.holds(Member.created_at), in_centre(centre_id))
        .order_by(Member.created_at, Member.id)
    ))
    joined = Counter(month_of(m.created_at, period.tz) for m in members)
    return NewMembers([(month, joined[month]) for month in period.months], members)


@dataclass
class CentreReport:
    """Every table of a centre's report for one period."""

    period: Period
    by_month: list[MonthHours]
    by_category: list[CategoryHours]
    reciprocity: Reciprocity
    unmatched: list[UnmatchedNeed]
    low: list[Member]
    joined: NewMembers
    low_threshold: int
    totals: dict = field(default_factory=dict)


def centre_report(session: Session, centre_id: int | None, period: Period, *, now: datetime,
                  low_threshold: int) -> CentreReport:
    """All the tables of the report for a centre (None: every centre)."""
    visit_list = visits(session, centre_id, period)
    return CentreReport(
        period=period,
        by_month=hours_by_month(visit_list, period),
        by_category=hours_by_category(visit_list),
        reciprocity=reciprocity(session, centre_id, period),
        unmatched=unmatched_needs(session, centre_id, now),
        low=low_balances(session, centre_id, low_threshold),
        joined=new_members(session, centre_id, period),
        low_threshold=low_threshold,
        totals={"minutes": sum(v.minutes for v in visit_list), "visits": len(visit_list)},
    )


# CSV --------------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def hours(minutes: int) -> Decimal:
    """Minutes as hours with two decimals, for spreadsheets only (the ledger stays in minutes)."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def safe_cell(value):
    """A cell a spreadsheet will not run: text that starts like a formula gets an apostrophe.
    Names and titles are typed by members; numbers are ours and stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: list[str], rows: list[list]) -> str:
    """CSV text with a byte-order mark, so Excel reads the UTF-8 (and the Korean) correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(str(h)) for h in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return "\ufeff" + out.getvalue()


def csv_table(report: CentreReport, table: str) -> tuple[list[str], list[list]]:
    """The header (translated) and rows of one table of the report."""
    return CSV_BUILDERS[table](report)


def _csv_hours_by_month(report: CentreReport):
    header = [_("Month"), _("Minutes"), _("Hours"), _("Visits")]
    return header, [[r.month.strftime("%Y-%m"), r.minutes, hours(r.minutes), r.visits]
                    for r in report.by_month]


def _csv_hours_by_category(report: CentreReport):
    header = [_("Category"), _("Minutes"), _("Hours"), _("Visits")]
    return header, [[r.name, r.minutes, hours(r.minutes), r.visits] for r in report.by_category]


def _csv_reciprocity(report: CentreReport):
    header = [_("Member number"), _("Name"), _("Minutes given"), _("Minutes received"),
              _("Hours given"), _("Hours received"), _("Gave and received")]
    rows = [[f.member.number, f.member.name, f.given, f.received, hours(f.given), hours(f.received),
             _("yes") if f.given and f.received else _("no")] for f in report.reciprocity.flows]
    return header, rows


def _csv_unmatched(report: CentreReport):
    header = [_("Posted on"), _("Days waiting"), _("Member number"), _("Name"), _("Category"),
              _("Title"), _("Minutes")]
    rows = [[n.post.created_at.astimezone(report.period.tz).date().isoformat(), n.days_waiting,
             n.post.member.number, n.post.member.name, category_name(n.post.category),
             n.post.title, n.post.minutes] for n in report.unmatched]
    return header, rows


def _csv_low_balances(report: CentreReport):
    header = [_("Member number"), _("Name"), _("Balance in minutes"), _("Balance in hours")]
    return header, [[m.number, m.name, m.balance_minutes, hours(m.balance_minutes)] for m in report.low]


def _csv_new_members(report: CentreReport):
    header = [_("Joined on"), _("Member number"), _("Name"), _("Neighbourhood")]
    rows = [[m.created_at.astimezone(report.period.tz).date().isoformat(), m.number, m.name,
             m.neighbourhood] for m in report.joined.members]
    return header, rows


CSV_BUILDERS = {
    "hours_by_month": _csv_hours_by_month,
    "hours_by_category": _csv_hours_by_category,
    "reciprocity": _csv_reciprocity,
    "unmatched_needs": _csv_unmatched,
    "low_balances": _csv_low_balances,
    "new_members": _csv_new_members,
}

