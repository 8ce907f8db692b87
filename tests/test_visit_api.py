"""API v1 visits: the member's list, and check-in, check-out, confirm and cancel with the
answers the PWA relies on (409 for a state that does not allow it, 403 for a stranger, 404 for
an unknown visit, 400 for bad input), and an offline phone's replay answered as the first time."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from conftest import balance, logged_in

from carebank.cards import services as cards
from carebank.core import idempotency
from carebank.core.database import utcnow
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Role
from carebank.members.services import register_resident
from carebank.visits.models import Visit, VisitStatus

PIN = "2468"


@pytest.fixture
def carer(make_member):
    return make_member("Carer Lee")


@pytest.fixture
def resident(make_member):
    return make_member("Resident Kim")


@pytest.fixture
def exchange(make_exchange, carer, resident):
    return make_exchange(carer, resident, minutes=60)


def add_visit(session, exchange, starts_at=None, minutes=60, **fields) -> Visit:
    visit = Visit(exchange_id=exchange.id, starts_at=starts_at or utcnow() - timedelta(minutes=5),
                  minutes=minutes, **fields)
    session.add(visit)
    session.commit()
    return visit


def checked_out(session, exchange, worked=timedelta(minutes=60)) -> Visit:
    """A visit the carer checked in to `worked` ago and just checked out of."""
    now = utcnow()
    return add_visit(session, exchange, starts_at=now - worked, status=VisitStatus.CHECKED_OUT,
                     checked_in_at=now - worked, checked_in_by_id=exchange.provider_id, check_in_method="app",
                     checked_out_at=now, checked_out_by_id=exchange.provider_id)


def visit_transactions(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction)
                          .where(Transaction.kind == TransactionKind.VISIT))


def row(session, visit) -> tuple:
    session.commit()
    return tuple(session.execute(sa.select(Visit.__table__).where(Visit.id == visit.id)).one())


def path(visit, action="") -> str:
    return f"/api/v1/visits/{visit.id}" + (f"/{action}" if action else "")


# ---- the life cycle ------------------------------------------------------------------------------


def test_a_visit_is_checked_in_out_and_confirmed_through_the_api(app, session, carer, resident, exchange):
    visit = add_visit(session, exchange)
    carers_phone, residents_phone = logged_in(app, carer), logged_in(app, resident)

    started = carers_phone.post(path(visit, "check-in"))
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["visit"]["status"] == "checked_in"
    assert started.get_json()["visit"]["checked_in_at"] is not None

    ended = carers_phone.post(path(visit, "check-out"), json={})
    assert ended.status_code == 200 and ended.get_json()["visit"]["status"] == "checked_out"

    confirmed = residents_phone.post(path(visit, "confirm"), json={"minutes": 55})
    assert confirmed.status_code == 200, confirmed.get_json()
    body = confirmed.get_json()["visit"]
    assert (body["id"], body["status"], body["confirmed_minutes"], body["exchange_id"]) == (
        visit.id, "credited", 55, exchange.id)
    assert body["transaction_id"] == session.scalar(sa.select(Transaction.id))
    assert (balance(session, carer), balance(session, resident)) == (55, -55)

    shown = residents_phone.get(path(visit)).get_json()["visit"]
    assert shown == body


def test_confirming_without_minutes_credits_the_checked_in_time(app, session, resident, exchange):
    visit = checked_out(session, exchange, worked=timedelta(minutes=91))
    answer = logged_in(app, resident).post(path(visit, "confirm"), json={})
    assert answer.status_code == 200
    assert answer.get_json()["visit"]["confirmed_minutes"] == 90
    assert balance(session, resident) == -90


def test_a_second_confirmation_answers_409_and_moves_nothing(app, session, resident, exchange):
    visit = checked_out(session, exchange)
    phone = logged_in(app, resident)
    assert phone.post(path(visit, "confirm"), json={"minutes": 60}).status_code == 200
    before = row(session, visit)

    again = phone.post(path(visit, "confirm"), json={"minutes": 60})

    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "visit_confirmed"
    assert row(session, visit) == before and visit_transactions(session) == 1
    assert balance(session, resident) == -60


def test_cancelling_records_why_and_answers_the_visit(app, session, carer, resident, exchange):
    visit = add_visit(session, exchange, starts_at=utcnow() + timedelta(days=3))
    answer = logged_in(app, resident).post(path(visit, "cancel"), json={"reason": "In hospital this week"})
    assert answer.status_code == 200 and answer.get_json()["visit"]["status"] == "cancelled"
    session.commit()
    session.refresh(visit)
    assert (visit.cancelled_by_id, visit.cancel_reason) == (resident.id, "In hospital this week")


# ---- refusals ------------------------------------------------------------------------------------


REFUSED = [
    ("scheduled", "carer", "check-out", None),
    ("scheduled", "resident", "confirm", {"minutes": 60}),
    ("checked_in", "carer", "check-in", None),
    ("checked_in", "resident", "confirm", {"minutes": 60}),
    ("checked_in", "resident", "cancel", {"reason": "Changed my mind"}),
    ("checked_out", "carer", "check-out", None),
    ("cancelled", "carer", "check-in", None),
]


@pytest.mark.parametrize(("status", "who", "action", "payload"), REFUSED)
def test_a_state_that_does_not_allow_it_answers_409_and_changes_nothing(
        app, session, carer, resident, exchange, status, who, action, payload):
    visit = add_visit(session, exchange, status=VisitStatus(status),
                      checked_in_at=utcnow() if status != "scheduled" else None)
    before = row(session, visit)
    answer = logged_in(app, {"carer": carer, "resident": resident}[who]).post(path(visit, action), json=payload)
    assert answer.status_code == 409, answer.get_json()
    assert row(session, visit) == before and visit_transactions(session) == 0


ACTIONS = [("get", ""), ("post", "check-in"), ("post", "check-out"), ("post", "confirm"), ("post", "cancel")]
PAYLOADS = {"confirm": {"minutes": 60}, "cancel": {"reason": "Not mine"}}


@pytest.mark.parametrize(("method", "action"), ACTIONS)
def test_someone_outside_the_visit_gets_403_and_changes_nothing(app, session, make_member, exchange, method, action):
    visit = add_visit(session, exchange)
    before = row(session, visit)
    stranger = logged_in(app, make_member("Neighbour Choi"))
    answer = getattr(stranger, method)(path(visit, action), **({"json": PAYLOADS.get(action, {})} if method == "post" else {}))
    assert answer.status_code == 403
    assert row(session, visit) == before


@pytest.mark.parametrize(("method", "action"), ACTIONS)
def test_an_unknown_visit_is_404(app, session, carer, method, action):
    answer = getattr(logged_in(app, carer), method)(f"/api/v1/visits/999999{'/' + action if action else ''}",
                                                     **({"json": PAYLOADS.get(action, {})} if method == "post" else {}))
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "visit_not_found"


@pytest.mark.parametrize(("method", "action"), ACTIONS)
def test_without_login_every_visit_route_is_401(app, session, exchange, method, action):
    visit = add_visit(session, exchange)
    assert getattr(app.test_client(), method)(path(visit, action)).status_code == 401


@pytest.mark.parametrize(("action", "payload"), [
    ("cancel", {}), ("cancel", {"reason": ""}), ("cancel", {"reason": 7}), ("cancel", {"reason": "x" * 501}),
    ("cancel", ["not", "an", "object"]),
    ("confirm", {"minutes": "lots"}), ("confirm", {"minutes": 0}), ("confirm", {"minutes": 1.5}),
    ("confirm", {"minutes": 100_000}), ("confirm", {"minutes": 60, "card": 5}),
    ("check-in", {"card": "not a card"}), ("check-in", {"pin": ["1"]}),
])
def test_bad_input_answers_400_and_changes_nothing(app, session, carer, resident, exchange, action, payload):
    visit = checked_out(session, exchange) if action == "confirm" else \
        add_visit(session, exchange, starts_at=utcnow() + timedelta(minutes=30))
    before = row(session, visit)
    who = resident if action in ("confirm", "cancel") else carer
    answer = logged_in(app, who).post(path(visit, action), json=payload)
    assert answer.status_code == 400, answer.get_json()
    assert row(session, visit) == before and visit_transactions(session) == 0


# ---- the member's visits ------------------------------------------------------------------------


# Tuesday 7 September 2027, 09:00 in Seoul.
NOW = datetime(2027, 9, 7, 0, 0, tzinfo=UTC)


@pytest.fixture
def schedule(session, exchange):
    """Visits from the day before to ten weeks on (the day before is the 6th in Seoul)."""
    with time_machine.travel(NOW, tick=False):
        yield {name: add_visit(session, exchange, starts_at=NOW + offset) for name, offset in {
            "yesterday": -timedelta(hours=10), "early today": -timedelta(hours=8, minutes=30),
            "later today": timedelta(hours=2), "in seven weeks": timedelta(weeks=7),
            "in eight weeks": timedelta(weeks=8), "in ten weeks": timedelta(weeks=10)}.items()}


def listed(client, query="") -> list[int]:
    answer = client.get(f"/api/v1/visits{query}")
    assert answer.status_code == 200, answer.get_json()
    return [v["id"] for v in answer.get_json()["visits"]]


def test_my_visits_are_from_today_for_eight_weeks_in_start_order(app, session, carer, resident, schedule):
    with time_machine.travel(NOW, tick=False):
        phone = logged_in(app, carer)
        answer = phone.get("/api/v1/visits").get_json()
        assert listed(logged_in(app, resident)) == [v["id"] for v in answer["visits"]]
    ids = [schedule[name].id for name in ("early today", "later today", "in seven weeks")]
    assert [v["id"] for v in answer["visits"]] == ids
    first = answer["visits"][0]
    assert set(first) >= {"id", "care_plan_id", "exchange_id", "starts_at", "ends_at", "minutes", "status"}
    assert (first["care_plan_id"], first["minutes"], first["status"]) == (None, 60, "scheduled")


def test_my_visits_between_dates_include_the_last_day(app, session, carer, schedule):
    with time_machine.travel(NOW, tick=False):
        phone = logged_in(app, carer)
        assert listed(phone, "?from=2027-09-06&to=2027-09-07") == [
            schedule[name].id for name in ("yesterday", "early today", "later today")]
        assert listed(phone, "?from=2027-09-07T10:00:00%2B09:00&to=2027-09-07T12:00:00%2B09:00") == [
            schedule["later today"].id]
        assert listed(phone, "?from=2027-10-27") == [schedule["in eight weeks"].id, schedule["in ten weeks"].id]


def test_a_stranger_lists_none_of_their_visits(app, session, make_member, schedule):
    with time_machine.travel(NOW, tick=False):
        assert listed(logged_in(app, make_member("Neighbour Choi")), "?from=2027-09-01") == []


@pytest.mark.parametrize("query", [
    "?from=yesterday", "?from=2027-13-01", "?to=2027-09-31", "?from=2027-09-07T10:00:00",
    "?from=2027-09-10&to=2027-09-01", "?from=2027-01-01&to=2028-06-01", "?from=9999-12-31", "?to=9999-12-31",
    "?from=0001-01-01T00:00:00%2B14:00", "?from=%00",
])
def test_a_bad_period_answers_400(app, session, carer, query):
    answer = logged_in(app, carer).get(f"/api/v1/visits{query}")
    assert answer.status_code == 400, answer.get_json()


# ---- offline replays --------------------------------------------------------------------------------


def test_a_replayed_confirmation_with_its_key_gets_the_first_answer_and_pays_once(app, session, resident, exchange):
    visit = checked_out(session, exchange)
    phone, key = logged_in(app, resident), str(uuid.uuid4())
    first = phone.post(path(visit, "confirm"), json={"minutes": 60}, headers={idempotency.HEADER: key})
    assert first.status_code == 200

    again = phone.post(path(visit, "confirm"), json={"minutes": 60}, headers={idempotency.HEADER: key})

    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert visit_transactions(session) == 1 and balance(session, resident) == -60
    other = phone.post(path(visit, "confirm"), json={"minutes": 30}, headers={idempotency.HEADER: key})
    assert other.status_code == 422  # the same key for another request: a client bug


def test_a_replayed_check_in_with_its_key_gets_the_first_answer(app, session, carer, exchange):
    visit = add_visit(session, exchange)
    phone, key = logged_in(app, carer), str(uuid.uuid4())
    first = phone.post(path(visit, "check-in"), headers={idempotency.HEADER: key})
    assert first.status_code == 200

    again = phone.post(path(visit, "check-in"), headers={idempotency.HEADER: key})
    without_key = phone.post(path(visit, "check-in"))

    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert without_key.status_code == 409


# ---- a card-only resident -----------------------------------------------------------------------------


@pytest.fixture
def card_world(session, make_member, make_exchange, coordinator, carer):
    resident = register_resident(session, coordinator, name="Grandmother Oh", consent_note="Signed form")
    cards.set_pin(session, resident, PIN, coordinator)
    issued = cards.issue_card(session, resident, coordinator)
    session.commit()
    exchange = make_exchange(carer, resident)
    return resident, issued, exchange


def test_the_carer_checks_in_and_confirms_with_the_residents_card_and_pin(app, session, carer, card_world):
    resident, issued, exchange = card_world
    visit = add_visit(session, exchange)
    phone = logged_in(app, carer)
    card = cards.card_url("https://bank.example", issued.token)

    assert phone.post(path(visit, "check-in")).status_code == 400  # the card is needed
    started = phone.post(path(visit, "check-in"), json={"card": card, "pin": PIN})
    assert started.status_code == 200, started.get_json()
    assert phone.post(path(visit, "check-out")).status_code == 200
    confirmed = phone.post(path(visit, "confirm"), json={"minutes": 30, "card": card, "pin": PIN})

    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["visit"]["status"] == "credited"
    assert balance(session, resident) == -30


def test_a_wrong_pin_answers_400_and_its_try_is_kept(app, session, carer, card_world):
    resident, issued, exchange = card_world
    visit = add_visit(session, exchange)

    answer = logged_in(app, carer).post(path(visit, "check-in"), json={"card": issued.token, "pin": "1111"})

    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "wrong_pin"
    session.commit()
    session.refresh(issued.card)
    assert issued.card.pin_failures == 1
    assert row(session, visit)[list(Visit.__table__.c.keys()).index("status")] == "scheduled"


def test_the_centre_confirms_a_residents_visit_after_a_phone_call(app, session, console, card_world):
    resident, _, exchange = card_world
    visit = add_visit(session, exchange)
    answer = console.post(path(visit, "confirm"), json={"minutes": 45})
    assert answer.status_code == 200, answer.get_json()
    assert balance(session, resident) == -45


def test_a_coordinator_of_another_centre_gets_403(app, session, make_member, make_centre, card_world):
    _, _, exchange = card_world
    visit = add_visit(session, exchange)
    elsewhere = make_member("Coordinator Elsewhere", role=Role.COORDINATOR, centre_id=make_centre().id)
    assert logged_in(app, elsewhere).post(path(visit, "confirm"), json={"minutes": 45}).status_code == 403
