"""The care plan API v1: proposing, agreeing, reading a plan and its visits, and every refusal
with its status (400 bad input, 403 not allowed, 404 unknown, 409 not in this state)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from conftest import logged_in

from carebank.careplans.models import CarePlan
from carebank.visits.models import Visit

API = "/api/v1"
BEFORE = datetime(2027, 9, 1, tzinfo=UTC)
PLAN_KEYS = {"id", "exchange_id", "rrule", "starts_at", "minutes", "until", "place", "holiday_policy",
             "status", "summary"}
VISIT_KEYS = {"id", "care_plan_id", "exchange_id", "starts_at", "ends_at", "minutes", "status"}
TUE_THU = {"rrule": "FREQ=WEEKLY;BYDAY=TU,TH", "starts_at": "2027-09-07T10:00:00+09:00", "minutes": 120,
           "until": "2027-10-14", "place": "home", "holiday_policy": "skip"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(BEFORE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def exchange(make_exchange):
    return make_exchange()


@pytest.fixture
def carer(app, exchange):
    return logged_in(app, exchange.provider)


@pytest.fixture
def receiver(app, exchange):
    return logged_in(app, exchange.receiver)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def proposed(client, exchange, **changes) -> dict:
    response = client.post(f"{API}/exchanges/{exchange.id}/care-plans", json=TUE_THU | changes)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["care_plan"]


def plans_saved(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(CarePlan))


def test_proposing_answers_the_plan_with_its_summary(carer, exchange):
    plan = proposed(carer, exchange)
    assert set(plan) >= PLAN_KEYS
    assert plan["status"] == "proposed" and plan["exchange_id"] == exchange.id
    assert (plan["rrule"], plan["minutes"], plan["until"]) == ("FREQ=WEEKLY;BYDAY=TU,TH", 120, "2027-10-14")
    assert datetime.fromisoformat(plan["starts_at"]) == datetime(2027, 9, 7, 1, tzinfo=UTC)
    assert plan["summary"].startswith("Every Tue and Thu at 10:00 AM, 2 h")


@pytest.mark.parametrize("rrule", [
    "FREQ=WEEKLY;BYDAY=TU;COUNT=10",
    "FREQ=WEEKLY;BYDAY=TU;UNTIL=20271231T000000Z",
    "FREQ=SECONDLY",
    "nonsense;;==",
    ["FREQ=WEEKLY"],
])
def test_bad_rrules_are_400_and_nothing_is_saved(carer, exchange, session, rrule):
    response = carer.post(f"{API}/exchanges/{exchange.id}/care-plans", json=TUE_THU | {"rrule": rrule})
    error = error_of(response, 400)
    assert error["fields"]["rrule"]
    assert plans_saved(session) == 0


@pytest.mark.parametrize("field, value", [
    ("starts_at", "2027-09-07T10:00:00"), ("starts_at", None), ("minutes", "120"), ("minutes", 0),
    ("until", 20271014), ("until", "2027-02-30"), ("place", "park"), ("holiday_policy", True),
    ("timezone", "Nowhere/Else"),
])
def test_bad_values_are_400_naming_the_field(carer, exchange, session, field, value):
    response = carer.post(f"{API}/exchanges/{exchange.id}/care-plans", json=TUE_THU | {field: value})
    assert field in error_of(response, 400)["fields"]
    assert plans_saved(session) == 0


def test_the_first_eight_weeks_exist_when_accept_returns(carer, receiver, exchange):
    plan = proposed(carer, exchange, until="2028-06-30")
    response = receiver.post(f"{API}/care-plans/{plan['id']}/accept")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["care_plan"]["status"] == "active"
    visits = receiver.get(f"{API}/care-plans/{plan['id']}/visits").get_json()["visits"]
    starts = [datetime.fromisoformat(v["starts_at"]) for v in visits]
    assert all(set(v) == VISIT_KEYS for v in visits)
    assert starts == sorted(starts) and starts[0] == datetime(2027, 9, 7, 1, tzinfo=UTC)
    assert len(visits) == 14  # Tue and Thu for 8 weeks, less 14 and 16 September (Chuseok)
    assert starts[-1] < starts[0] + timedelta(weeks=8)
    first = visits[0]
    assert (first["care_plan_id"], first["exchange_id"], first["minutes"], first["status"]) == (
        plan["id"], exchange.id, 120, "scheduled")
    assert datetime.fromisoformat(first["ends_at"]) - starts[0] == timedelta(hours=2)


def test_the_proposer_cannot_accept_their_own_plan(carer, exchange, session):
    plan = proposed(carer, exchange)
    assert error_of(carer.post(f"{API}/care-plans/{plan['id']}/accept"), 403)["code"] == "own_plan"
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def test_a_stranger_cannot_accept_or_read_a_plan(app, carer, exchange, make_member):
    plan = proposed(carer, exchange)
    stranger = logged_in(app, make_member("Stranger"))
    assert error_of(stranger.post(f"{API}/care-plans/{plan['id']}/accept"), 403)
    assert error_of(stranger.get(f"{API}/care-plans/{plan['id']}"), 403)
    assert error_of(stranger.get(f"{API}/care-plans/{plan['id']}/visits"), 403)
    assert error_of(stranger.post(f"{API}/exchanges/{exchange.id}/care-plans", json=TUE_THU), 403)


def test_accepting_twice_is_409(carer, receiver, exchange):
    plan = proposed(carer, exchange)
    assert receiver.post(f"{API}/care-plans/{plan['id']}/accept").status_code == 200
    assert error_of(receiver.post(f"{API}/care-plans/{plan['id']}/accept"), 409)["code"] == "plan_active"


def test_a_second_proposal_while_one_waits_is_409(carer, receiver, exchange):
    proposed(carer, exchange)
    response = receiver.post(f"{API}/exchanges/{exchange.id}/care-plans", json=TUE_THU)
    assert error_of(response, 409)["code"] == "plan_pending"


def test_a_plan_for_an_exchange_not_yet_accepted_is_409(app, make_exchange):
    pending = make_exchange(accepted=False)
    client = logged_in(app, pending.provider)
    response = client.post(f"{API}/exchanges/{pending.id}/care-plans", json=TUE_THU)
    assert error_of(response, 409)["code"] == "exchange_not_accepted"


def test_unknown_plans_and_exchanges_are_404(carer):
    assert error_of(carer.get(f"{API}/care-plans/999999"), 404)["code"] == "care_plan_not_found"
    assert error_of(carer.post(f"{API}/care-plans/999999/accept"), 404)
    assert error_of(carer.post(f"{API}/exchanges/999999/care-plans", json=TUE_THU), 404)


def test_the_coordinator_reads_a_plan_of_their_centre(console, carer, exchange):
    plan = proposed(carer, exchange)
    response = console.get(f"{API}/care-plans/{plan['id']}")
    assert response.status_code == 200 and response.get_json()["care_plan"]["id"] == plan["id"]


def test_the_summary_is_in_the_readers_language(carer, receiver, exchange):
    plan = proposed(carer, exchange)
    korean = receiver.get(f"{API}/care-plans/{plan['id']}", headers={"Accept-Language": "ko"})
    assert "오전 10시" in korean.get_json()["care_plan"]["summary"]


def test_login_is_needed(client, carer, exchange):
    plan = proposed(carer, exchange)
    assert client.get(f"{API}/care-plans/{plan['id']}").status_code == 401
