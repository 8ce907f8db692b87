"""Monthly statements: they reconcile, they are in the member's language, and each member
(or their centre) sees only their own."""
from __future__ import annotations

from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from carebank.ledger import services as ledger
from carebank.ledger.models import TransactionKind
from carebank.members.models import Role
from carebank.statements import services as statements
from tests.conftest import balance, logged_in
from tests.test_reports import Builder, clock, utc  # noqa: F401  (clock is a fixture)

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def data(session, policy, clock, make_member, make_centre, centre):  # noqa: F811
    """Bae's months: December −30; January a visit received and one given; February a visit
    across the Seoul month boundary, a grant from the pool and a reversal."""
    b = Builder(session, policy, clock, make_member)
    other = make_centre("Sangdo Centre")
    coordinator = b.member("Coordinator Oh", utc(2024, 6, 1), role=Role.COORDINATOR)
    stranger = b.member("Coordinator Yu", utc(2024, 6, 1), role=Role.COORDINATOR, centre_id=other.id)
    ahn, bae = b.member("Ahn", utc(2024, 12, 1)), b.member("Bae", utc(2024, 12, 1))
    kim = b.member("김영희", utc(2024, 12, 1), locale="ko")
    b.visit(ahn, bae, 30, "meals", utc(2024, 12, 20))
    b.visit(ahn, bae, 120, "meals", utc(2025, 1, 10, 3))
    given = b.visit(bae, kim, 60, "companionship", utc(2025, 1, 20, 3))
    b.visit(kim, bae, 90, "errands", utc(2025, 1, 31, 16))  # 1 February in Seoul
    clock.moment = utc(2025, 2, 4, 3)
    ledger.donate_to_pool(session, ahn, 100, "For the pool", policy)
    clock.moment = utc(2025, 2, 5, 3)
    ledger.grant_from_pool(session, coordinator, bae.id, 100, "Winter help", policy)
    clock.moment = utc(2025, 2, 6, 3)
    ledger.reverse(session, coordinator, given.id, "Never happened")
    session.commit()
    clock.moment = None
    return SimpleNamespace(coordinator=coordinator, stranger=stranger, ahn=ahn, bae=bae, kim=kim)


def lines_of(result):
    return [(line.day.isoformat(), line.kind, line.counterparty_name, line.minutes, line.balance)
            for line in result.lines]


def test_statement_lists_the_month_with_a_running_balance(app, session, data):
    january = statements.statement(session, data.bae.id, 2025, 1, SEOUL)
    assert january.opening == -30
    assert lines_of(january) == [
        ("2025-01-10", TransactionKind.VISIT, "Ahn", -120, -150),
        ("2025-01-20", TransactionKind.VISIT, "김영희", 60, -90),
    ]
    assert (january.total_in, january.total_out, january.closing) == (60, 120, -90)


def test_statements_reconcile_month_to_month_and_with_the_balance(app, session, data):
    months = [statements.statement(session, data.bae.id, 2025, m, SEOUL) for m in (1, 2, 3)]
    for earlier, later in zip(months, months[1:], strict=False):
        assert later.opening == earlier.closing
    for month in months:
        assert month.opening + sum(line.minutes for line in month.lines) == month.closing
    february = months[1]
    assert lines_of(february) == [
        ("2025-02-01", TransactionKind.VISIT, "김영희", -90, -180),
        ("2025-02-05", TransactionKind.GRANT, "", 100, -80),
        ("2025-02-06", TransactionKind.REVERSAL, "김영희", -60, -140),
    ]
    assert months[2].lines == [] and months[2].closing == balance(session, data.bae) == -140


def test_coordinator_prints_statement_in_the_members_language(app, data):
    page = logged_in(app, data.coordinator).get(f"/console/members/{data.kim.id}/statement?month=2025-02")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert "2025년 2월" in html and "방문" in html and "1시간 30분" in html
    assert "Hyoja Care Centre" in html and "02-123-4567" in html and data.kim.number in html
    assert "css/print.css" in html


def test_month_picker_links_to_the_previous_and_next_month(app, data):
    html = logged_in(app, data.coordinator).get(
        f"/console/members/{data.bae.id}/statement?month=2025-01").get_data(as_text=True)
    assert f"/console/members/{data.bae.id}/statement?month=2024-12" in html
    assert f"/console/members/{data.bae.id}/statement?month=2025-02" in html


def test_coordinator_of_another_centre_gets_404(app, data):
    client = logged_in(app, data.stranger)
    assert client.get(f"/console/members/{data.bae.id}/statement").status_code == 404


def test_member_gets_403_on_a_console_statement(app, data):
    assert logged_in(app, data.ahn).get(f"/console/members/{data.bae.id}/statement").status_code == 403


@pytest.mark.parametrize("month", ["2025-13", "abc", "2025-1", "1999-12", "2025-02-01"])
def test_bad_month_is_a_400_with_a_message(app, data, month):
    for url in (f"/console/members/{data.bae.id}/statement", "/statement"):
        client = logged_in(app, data.coordinator if url.startswith("/console") else data.bae)
        page = client.get(f"{url}?month={month}")
        assert page.status_code == 400
        assert "2025-03" in page.get_data(as_text=True)


def test_my_statement_shows_only_my_entries(app, data):
    client = logged_in(app, data.bae)
    html = client.get("/statement?month=2025-02").get_data(as_text=True)
    assert "Winter help" in html and "Never happened" in html
    assert "For the pool" not in html  # Ahn's donation
    assert client.get("/statement").status_code == 200


def test_visitor_must_log_in_for_a_statement(client):
    assert client.get("/statement").status_code == 302


def test_statement_of_a_month_without_entries_still_shows_the_balance(app, session, data):
    result = statements.statement(session, data.ahn.id, 2030, 1, SEOUL)
    assert result.lines == [] and result.opening == result.closing == balance(session, data.ahn)
    assert result.opening == 30 + 120 - 100  # two visits given, one donation

