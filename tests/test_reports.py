"""Centre reports on a known data set: exact figures, CSV downloads, SVG charts, scope."""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from carebank.core import database
from carebank.core.errors import ValidationFailed
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.members.models import Role
from carebank.posts import services as posts
from carebank.reports import services as reports
from carebank.reports.charts import bar_chart
from tests.conftest import logged_in

SEOUL = ZoneInfo("Asia/Seoul")
PERIOD = "from=2025-01&to=2025-02"


class FrozenClock(datetime):
    """`utcnow` reads this: every default timestamp (members, posts, transactions)."""

    moment: datetime | None = None

    @classmethod
    def now(cls, tz=None):
        if cls.moment is None:
            return datetime.now(tz)
        return cls.moment.astimezone(tz) if tz else cls.moment.replace(tzinfo=None)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(database, "datetime", FrozenClock)
    yield FrozenClock
    FrozenClock.moment = None


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Builder:
    session: object
    policy: object
    clock: type
    make_member: object

    def member(self, name, when, **fields):
        self.clock.moment = when
        return self.make_member(name, **fields)

    def visit(self, provider, receiver, minutes, category, when):
        """A need posted, answered, accepted and confirmed, all at `when`."""
        self.clock.moment = when
        need = posts.create_post(self.session, receiver, kind="need", category=category,
                                 title="Help", minutes=minutes, policy=self.policy)
        exchange = exchanges.respond(self.session, provider, need.id)
        exchanges.accept(self.session, receiver, exchange.id)
        txn = ledger.credit_visit(self.session, provider.id, receiver.id, minutes,
                                  exchange_id=exchange.id, created_by_id=receiver.id,
                                  policy=self.policy)
        self.session.commit()
        return txn

    def need(self, member, title, days_ago, kind="need"):
        now = datetime.now(UTC)
        post = posts.create_post(self.session, member, kind=kind, category="meals", title=title,
                                 minutes=60, policy=self.policy, now=now - timedelta(days=days_ago))
        self.session.commit()
        return post


@pytest.fixture
def data(session, policy, clock, make_member, make_centre, centre):
    """Centre A: four active members (two give and receive), one who only posts, a reversal,
    a gift, a visit across the Seoul month boundary; centre B with data that must not show."""
    b = Builder(session, policy, clock, make_member)
    other = make_centre("Sangdo Centre")
    coordinator = b.member("Coordinator Oh", utc(2024, 6, 1), role=Role.COORDINATOR)
    other_coordinator = b.member("Coordinator Yu", utc(2024, 6, 1), role=Role.COORDINATOR,
                                 centre_id=other.id)
    ahn, bae, choi = (b.member(n, utc(2024, 12, 1)) for n in ("Ahn", "Bae", "Choi"))
    lee = b.member("Lee", utc(2025, 1, 15))
    kim = b.member("김영희", utc(2025, 2, 5), locale="ko")
    dan, eun = (b.member(n, utc(2025, 1, 10), centre_id=other.id) for n in ("Dan", "Eun"))

    b.visit(ahn, bae, 30, "meals", utc(2024, 12, 20))  # before the period
    b.visit(ahn, bae, 120, "meals", utc(2025, 1, 10, 3))
    b.visit(choi, bae, 60, "companionship", utc(2025, 1, 20, 3))
    b.visit(bae, choi, 90, "meals", utc(2025, 1, 31, 16))  # 1 February, 01:00 in Seoul
    b.visit(ahn, kim, 660, "errands", utc(2025, 2, 10, 3))
    wrong = b.visit(ahn, choi, 45, "companionship", utc(2025, 2, 12, 3))
    clock.moment = utc(2025, 2, 13, 3)
    ledger.reverse(session, coordinator, wrong.id, "Entered twice")
    clock.moment = utc(2025, 2, 14, 3)
    ledger.gift(session, ahn, kim.id, 30, "Thanks", policy)  # not a visit
    session.commit()
    b.visit(dan, eun, 700, "meals", utc(2025, 1, 12, 3))  # centre B only
    clock.moment = None

    old = b.need(lee, '=HYPERLINK("http://evil.example","click")', days_ago=10)
    b.need(lee, "Fresh need", days_ago=2)
    answered = b.need(bae, "Answered need", days_ago=9)
    exchanges.accept(session, bae, exchanges.respond(session, choi, answered.id).id)
    proposed = b.need(choi, "Only proposed", days_ago=8)
    exchanges.respond(session, ahn, proposed.id)
    session.commit()
    b.need(dan, "Other centre need", days_ago=12)
    b.need(ahn, "Old offer", days_ago=10, kind="offer")
    return SimpleNamespace(centre=centre, other=other, coordinator=coordinator,
                           other_coordinator=other_coordinator, ahn=ahn, bae=bae, choi=choi,
                           lee=lee, kim=kim, dan=dan, eun=eun, old=old, proposed=proposed)


def centre_report(session, centre_id):
    period = reports.parse_period("2025-01", "2025-02", SEOUL, datetime.now(UTC))
    return reports.centre_report(session, centre_id, period, now=datetime.now(UTC),
                                 low_threshold=-600)


def test_hours_per_month_count_visits_net_of_reversals_in_seoul_months(app, session, data):
    report = centre_report(session, data.centre.id)
    assert [(r.month.isoformat(), r.minutes, r.visits) for r in report.by_month] == [
        ("2025-01-01", 180, 2), ("2025-02-01", 750, 2)]
    assert report.totals == {"minutes": 930, "visits": 4}


def test_hours_per_category(app, session, data):
    report = centre_report(session, data.centre.id)
    assert [(r.category, r.minutes, r.visits) for r in report.by_category] == [
        ("errands", 660, 1), ("meals", 210, 2), ("companionship", 60, 1)]


def test_gave_received_both_and_reciprocity_rate(app, session, data):
    rec = centre_report(session, data.centre.id).reciprocity
    flows = {f.member.name: (f.given, f.received) for f in rec.flows}
    assert flows == {"Ahn": (780, 0), "Bae": (90, 180), "Choi": (60, 90), "김영희": (0, 660)}
    assert (rec.gave, rec.received, rec.both, rec.active) == (3, 3, 2, 4)
    assert rec.rate == 0.5


def test_unmatched_needs_are_week_old_open_needs_without_an_accepted_exchange(app, session, data):
    unmatched = centre_report(session, data.centre.id).unmatched
    assert [(n.post.id, n.days_waiting) for n in unmatched] == [(data.old.id, 10), (data.proposed.id, 8)]


def test_low_balances_and_new_members(app, session, data):
    report = centre_report(session, data.centre.id)
    assert [(m.name, m.balance_minutes) for m in report.low] == [("김영희", -630)]
    assert [(m.isoformat(), n) for m, n in report.joined.per_month] == [("2025-01-01", 1), ("2025-02-01", 1)]
    assert [m.name for m in report.joined.members] == ["Lee", "김영희"]


def test_all_centres_report_includes_every_centre(app, session, data):
    report = centre_report(session, None)
    assert [r.minutes for r in report.by_month] == [180 + 700, 750]
    assert [m.name for m in report.low] == ["Eun", "김영희"]
    assert [m.name for m in report.joined.members] == ["Dan", "Eun", "Lee", "김영희"]


def test_coordinator_sees_own_centre_report_with_accessible_charts(app, data):
    page = logged_in(app, data.coordinator).get(f"/console/reports?{PERIOD}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hyoja Care Centre" in html and "50%" in html and "Only proposed" in html
    for name in ("Dan", "Eun", "Other centre need", "Sangdo"):
        assert name not in html
    charts = [ET.fromstring(svg) for svg in _svgs(html)]
    assert len(charts) == 2
    months = charts[0]
    assert months.get("role") == "img" and "12 h 30 min" in months.get("aria-label")
    assert months.find("{http://www.w3.org/2000/svg}title").text == "Hours exchanged per month"
    assert months.get("viewBox").startswith("0 0 ")


def _svgs(html: str) -> list[str]:
    parts = html.split("<svg ")[1:]
    return ["<svg " + part.split("</svg>")[0] + "</svg>" for part in parts]


def test_coordinator_cannot_report_on_another_centre(app, data):
    html = logged_in(app, data.other_coordinator).get(
        f"/console/reports?{PERIOD}&centre={data.centre.id}").get_data(as_text=True)
    assert "Sangdo Centre" in html and "Eun" in html
    assert "Ahn" not in html and "김영희" not in html


def test_admin_may_choose_a_centre_or_all(app, data, make_member):
    admin = make_member("Admin", role=Role.ADMIN)
    client = logged_in(app, admin)
    one = client.get(f"/console/reports?{PERIOD}&centre={data.other.id}").get_data(as_text=True)
    assert "Eun" in one and "김영희" not in one
    every = client.get(f"/console/reports?{PERIOD}").get_data(as_text=True)
    assert "Eun" in every and "김영희" in every
    assert client.get(f"/console/reports?{PERIOD}&centre=9999").status_code == 404


@pytest.mark.parametrize("url", ["/console/reports", "/console/reports/low_balances.csv"])
def test_member_cannot_see_reports(app, make_member, url):
    assert logged_in(app, make_member("Plain")).get(url).status_code == 403


def test_visitor_is_sent_to_log_in(client):
    assert client.get("/console/reports").status_code == 302


@pytest.mark.parametrize("query", ["from=2025-13", "to=soon", "from=2025-03&to=2025-01",
                                   "from=2000-01&to=2025-01"])
def test_bad_period_is_a_400_with_a_message(app, make_member, query):
    coordinator = make_member("Coordinator", role=Role.COORDINATOR)
    client = logged_in(app, coordinator)
    page = client.get(f"/console/reports?{query}")
    assert page.status_code == 400
    assert 'class="error"' in page.get_data(as_text=True)
    assert client.get(f"/console/reports/hours_by_month.csv?{query}").status_code == 400


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_has_bom_header_and_korean_names_intact(app, data):
    response = logged_in(app, data.coordinator).get(f"/console/reports/reciprocity.csv?{PERIOD}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="carebank-reciprocity-2025-01-2025-02.csv"'
    assert response.data.startswith("\ufeff".encode())
    rows = read_csv(response)
    assert rows[0][:4] == ["Member number", "Name", "Minutes given", "Minutes received"]
    assert [data.kim.number, "김영희", "0", "660", "0.00", "11.00", "no"] in rows


def test_csv_header_follows_the_coordinators_language(app, data):
    response = logged_in(app, data.coordinator).get(
        f"/console/reports/hours_by_month.csv?{PERIOD}", headers={"Accept-Language": "ko"})
    rows = read_csv(response)
    assert rows[1:] == [["2025-01", "180", "3.00", "2"], ["2025-02", "750", "12.50", "2"]]
    assert rows[0][0] != "" and len(rows[0]) == 4


def test_csv_neutralises_formulas_but_keeps_negative_numbers(app, data):
    client = logged_in(app, data.coordinator)
    needs = read_csv(client.get(f"/console/reports/unmatched_needs.csv?{PERIOD}"))
    assert needs[1][5] == "'" + data.old.title
    low = read_csv(client.get(f"/console/reports/low_balances.csv?{PERIOD}"))
    assert low[1] == [data.kim.number, "김영희", "-630", "-10.50"]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"])
def test_formula_like_text_gets_an_apostrophe(text):
    assert reports.safe_cell(text) == "'" + text
    assert reports.safe_cell(-5) == -5 and reports.safe_cell("Kim") == "Kim"


def test_unknown_csv_table_is_404(app, data):
    assert logged_in(app, data.coordinator).get("/console/reports/passwords.csv").status_code == 404


def test_every_table_downloads(app, data):
    client = logged_in(app, data.coordinator)
    for table in reports.TABLES:
        response = client.get(f"/console/reports/{table}.csv?{PERIOD}")
        assert response.status_code == 200 and len(read_csv(response)) >= 1, table


def test_chart_escapes_labels_and_is_well_formed(app):
    with app.test_request_context():
        svg = bar_chart("Hours & <more>", [('Kim "K" <b>', 90), ("Empty", 0)])
    root = ET.fromstring(str(svg))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == 'Kim "K" <b>' and root.get("aria-label").startswith("Hours & <more>.")
    widths = [int(r.get("width")) for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert widths[0] > 0 and widths[1] == 0


def test_default_period_is_the_last_twelve_months():
    period = reports.parse_period(None, None, SEOUL, utc(2025, 3, 31, 16))  # 1 April in Seoul
    assert (period.first.isoformat(), period.last.isoformat()) == ("2024-05-01", "2025-04-01")
    assert len(period.months) == 12
    assert period.starts_at == utc(2024, 4, 30, 15)


def test_period_is_at_most_sixty_months():
    with pytest.raises(ValidationFailed):
        reports.parse_period("2020-01", "2025-01", SEOUL, utc(2025, 3, 1))

