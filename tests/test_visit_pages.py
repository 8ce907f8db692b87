"""The visit and care plan pages: planning regular visits on the exchange page (the presets make
the stored rule), agreeing them, the next visits with what each person may do (check in, check
out, confirm once, cancel with a reason, report a problem, move one, change from one on), the
one-off visit, "My visits" in both languages, and strangers refused on every action."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import time_machine
from conftest import balance, logged_in

import carebank.visits.schedule_console  # noqa: F401  (the console's schedule route, for its link)
from carebank.careplans import services as careplans
from carebank.careplans.models import CarePlan, PlanStatus
from carebank.exchanges import services as exchanges
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.services import register_resident
from carebank.notifications.models import Notification
from carebank.visits import services as visits
from carebank.visits.models import Visit, VisitStatus

S = VisitStatus
# Monday 6 September 2027, 09:00 in Seoul: the plans below start the next morning.
MONDAY = datetime(2027, 9, 6, 0, 0, tzinfo=UTC)
FIRST = datetime(2027, 9, 7, 1, 0, tzinfo=UTC)  # Tuesday 7 September, 10:00 in Seoul
TUE_THU = "FREQ=WEEKLY;BYDAY=TU,TH"
# The first six Tuesdays and Thursdays from 7 September, Chuseok (14–16 September) skipped.
NEXT_SIX = ["Tuesday, September 7, 2027", "Thursday, September 9, 2027", "Tuesday, September 21, 2027",
            "Thursday, September 23, 2027", "Tuesday, September 28, 2027", "Thursday, September 30, 2027"]


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(app, make_member, make_exchange, clock):
    """Carer Lee visits Resident Kim (an accepted exchange of 2 h), each on their own phone."""
    carer, resident = make_member("Carer Lee"), make_member("Resident Kim")
    exchange = make_exchange(carer, resident, minutes=120)
    return SimpleNamespace(carer=carer, resident=resident, exchange=exchange,
                           carer_phone=logged_in(app, carer), resident_phone=logged_in(app, resident))


def plan_form(prefix: str = "plan", **changes) -> dict:
    """What a person fills in on the "Plan regular visits" form: Tue and Thu at 10:00 for 2 h."""
    values = {"preset": "weekly", "days": ["TU", "TH"], "nth": "1", "month_day": "MO",
              "starts_at": "2027-09-07T10:00", "hours": "2", "extra_minutes": "0", "until": "2027-10-14",
              "place": "home", "holiday_policy": "skip"} | changes
    return {f"{prefix}-{name}": value for name, value in values.items() if value is not None}


def plans(session) -> list[CarePlan]:
    session.commit()
    return list(session.scalars(sa.select(CarePlan).order_by(CarePlan.id)))


def agreed(session, policy, world, **changes) -> CarePlan:
    """A Tue/Thu plan the carer proposed and the resident agreed (through the services)."""
    values = dict(rrule=TUE_THU, starts_at=FIRST, minutes=120, until=date(2027, 10, 14)) | changes
    plan = careplans.propose_plan(session, world.carer, world.exchange.id, policy=policy, **values)
    careplans.accept_plan(session, world.resident, plan.id)
    session.commit()
    return plan


def visits_of(session, plan) -> list[Visit]:
    session.commit()
    return list(session.scalars(sa.select(Visit).where(Visit.care_plan_id == plan.id)
                                .order_by(Visit.starts_at, Visit.id)))


def fresh(session, row):
    session.commit()
    session.refresh(row)
    return row


def page(client, path: str, **kwargs) -> str:
    """The page's HTML; Babel's narrow no-break spaces ("10:00\u202fAM") read as spaces."""
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return text_of(response)


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("\u202f", " ")


def exchange_page(world, client) -> str:
    return page(client, f"/exchanges/{world.exchange.id}")


def visit_transactions(session) -> list[Transaction]:
    session.commit()
    return list(session.scalars(sa.select(Transaction).where(Transaction.kind == TransactionKind.VISIT)))


def snapshot(session) -> tuple:
    """Every row a refused request must leave as it was."""
    session.commit()
    rows = [tuple(r) for table in (CarePlan.__table__, Visit.__table__)
            for r in session.execute(sa.select(table).order_by(table.c.id))]
    notices = session.scalar(sa.select(sa.func.count()).select_from(Notification))
    return rows, len(visit_transactions(session)), notices


# ---- planning regular visits on the exchange page ---------------------------------------------


@pytest.mark.parametrize(("changes", "rule"), [
    ({}, TUE_THU),
    ({"preset": "every_other_week"}, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"),
    ({"preset": "weekdays", "days": None}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ({"preset": "monthly", "days": None, "nth": "2", "month_day": "TU"}, "FREQ=MONTHLY;BYDAY=2TU"),
    ({"preset": "monthly", "nth": "-1", "month_day": "FR"}, "FREQ=MONTHLY;BYDAY=-1FR"),  # the days are ignored
])
def test_the_plan_form_stores_the_rule_of_the_chosen_preset(session, world, changes, rule):
    response = world.carer_phone.post(f"/exchanges/{world.exchange.id}/care-plans", data=plan_form(**changes))
    assert response.status_code == 302 and response.location == f"/exchanges/{world.exchange.id}#visits"
    [plan] = plans(session)
    assert plan.rrule == rule
    assert (plan.status, plan.proposed_by_id, plan.exchange_id) == (PlanStatus.PROPOSED, world.carer.id,
                                                                    world.exchange.id)


def test_the_plan_form_keeps_the_time_length_end_place_and_holiday_choice(session, world):
    form = plan_form(hours="1", extra_minutes="30", place="centre", holiday_policy="move")
    world.carer_phone.post(f"/exchanges/{world.exchange.id}/care-plans", data=form)
    [plan] = plans(session)
    # 10:00 typed in the member's zone (Seoul) is 01:00 UTC.
    assert (plan.starts_at, plan.minutes, plan.until) == (FIRST, 90, date(2027, 10, 14))
    assert (plan.place.value, plan.holiday_policy.value, plan.timezone) == ("centre", "move", "Asia/Seoul")


def test_the_proposer_is_told_who_has_to_agree_and_the_other_party_sees_agree(session, world):
    world.carer_phone.post(f"/exchanges/{world.exchange.id}/care-plans", data=plan_form())
    [plan] = plans(session)
    mine = exchange_page(world, world.carer_phone)
    assert "Every Tue and Thu at 10:00 AM, 2 h, at home, until Oct 14, 2027" in mine
    assert "You proposed these visits. Waiting for Resident Kim to agree." in mine
    assert f'action="/care-plans/{plan.id}/accept"' not in mine
    theirs = exchange_page(world, world.resident_phone)
    assert "Carer Lee proposed these visits." in theirs
    assert f'action="/care-plans/{plan.id}/accept"' in theirs


def test_the_other_party_agrees_on_the_page_and_sees_the_next_visits(session, world):
    world.carer_phone.post(f"/exchanges/{world.exchange.id}/care-plans", data=plan_form())
    [plan] = plans(session)
    response = world.resident_phone.post(f"/care-plans/{plan.id}/accept")
    assert response.status_code == 302 and response.location == f"/exchanges/{world.exchange.id}#visits"
    assert fresh(session, plan).status is PlanStatus.ACTIVE
    shown = exchange_page(world, world.resident_phone)
    assert "Agreed. The visits are planned" in shown
    found = re.findall(r'class="visit-when">([^<]+?) · ', shown)
    assert found == NEXT_SIX  # the next six, in order; none on Chuseok
    assert "10:00 AM–12:00 PM" in shown and "Planned" in shown
    assert exchange_page(world, world.carer_phone).count('class="card visit-card') == 6


def test_the_proposer_cannot_agree_their_own_plan(session, world):
    world.carer_phone.post(f"/exchanges/{world.exchange.id}/care-plans", data=plan_form())
    [plan] = plans(session)
    before = snapshot(session)
    response = world.carer_phone.post(f"/care-plans/{plan.id}/accept")
    assert response.status_code == 302
    assert "You proposed this plan: the other person agrees it." in exchange_page(world, world.carer_phone)
    assert snapshot(session) == before
    assert fresh(session, plan).status is PlanStatus.PROPOSED and not visits_of(session, plan)


def test_the_other_party_may_say_no_and_the_proposer_may_withdraw(session, world):
    world.carer_phone.post(f"/exchanges/{world.exchange.id}/care-plans", data=plan_form())
    world.resident_phone.post(f"/care-plans/{plans(session)[0].id}/end")
    assert "You said no to these visits." in exchange_page(world, world.resident_phone)
    world.carer_phone.post(f"/exchanges/{world.exchange.id}/care-plans", data=plan_form())
    second = plans(session)[1]
    world.carer_phone.post(f"/care-plans/{second.id}/end")
    assert "Your proposal is withdrawn." in exchange_page(world, world.carer_phone)
    assert [p.status for p in plans(session)] == [PlanStatus.ENDED, PlanStatus.ENDED]


@pytest.mark.parametrize(("changes", "message"), [
    ({"days": None}, "Choose one or more days of the week."),
    ({"until": "2027-09-01"}, "The end date cannot be before the first visit."),
    ({"starts_at": ""}, "Choose the date and time of the first visit."),
    ({"starts_at": "2026-09-07T10:00"}, "The first visit cannot be in the past."),
    ({"hours": "0", "extra_minutes": "0"}, "The time must be between 1 minute and 24 h."),
    ({"preset": "yearly"}, "Not a valid choice"),
])
def test_bad_plan_input_is_a_400_with_the_error_under_its_field_and_nothing_saved(
        session, world, changes, message):
    before = snapshot(session)
    response = world.carer_phone.post(f"/exchanges/{world.exchange.id}/care-plans", data=plan_form(**changes))
    assert response.status_code == 400
    shown = text_of(response)
    error = re.search(r'<p class="error" id="([^"]+-error)">([^<]*)</p>', shown)
    assert error and message in error.group(2)
    # The field (or each choice of a group) names its error for screen readers.
    assert re.search(rf'aria-describedby="[^"]*\b{re.escape(error.group(1))}\b', shown)
    assert snapshot(session) == before


def test_an_ended_plan_leaves_the_past_and_cancels_what_is_to_come(session, policy, world, clock):
    plan = agreed(session, policy, world)
    clock.move_to(FIRST + timedelta(days=3))  # after the first two visits
    response = world.resident_phone.post(f"/care-plans/{plan.id}/end")
    assert response.status_code == 302
    statuses = [v.status for v in visits_of(session, plan)]
    assert statuses[:2] == [S.SCHEDULED, S.SCHEDULED] and set(statuses[2:]) == {S.CANCELLED}
    assert fresh(session, plan).status is PlanStatus.ENDED


# ---- a visit's life on the page ---------------------------------------------------------------


def test_a_carer_checks_in_and_out_and_the_receiver_confirms_one_transaction(session, policy, world, clock):
    plan = agreed(session, policy, world)
    first = visits_of(session, plan)[0]
    clock.move_to(FIRST + timedelta(minutes=3))
    assert f'action="/visits/{first.id}/check-in"' in exchange_page(world, world.carer_phone)
    assert f'action="/visits/{first.id}/check-in"' not in exchange_page(world, world.resident_phone)

    back = f"/exchanges/{world.exchange.id}#visit-{first.id}"
    response = world.carer_phone.post(f"/visits/{first.id}/check-in", data={"next": back})
    assert response.status_code == 302 and response.location == back
    assert fresh(session, first).status is S.CHECKED_IN
    assert "Checked in at 10:03 AM." in exchange_page(world, world.carer_phone)

    clock.move_to(FIRST + timedelta(minutes=95))
    world.carer_phone.post(f"/visits/{first.id}/check-out", data={"next": back})
    assert fresh(session, first).status is S.CHECKED_OUT
    shown = exchange_page(world, world.resident_phone)
    assert "Ended at 11:35 AM: please confirm the time" in shown
    assert "Confirm 1 h 30 min" in shown  # 92 minutes checked in, rounded to 5

    response = world.resident_phone.post(f"/visits/{first.id}/confirm", data={"next": back})
    assert response.status_code == 302
    first = fresh(session, first)
    [transaction] = visit_transactions(session)
    assert (first.status, first.confirmed_minutes, first.transaction_id) == (S.CREDITED, 90, transaction.id)
    assert (balance(session, world.carer), balance(session, world.resident)) == (90, -90)

    again = world.resident_phone.post(f"/visits/{first.id}/confirm", data={"next": back})  # a double tap
    assert again.status_code == 302
    assert "This visit was already confirmed. Nothing more was counted." in exchange_page(world, world.resident_phone)
    assert len(visit_transactions(session)) == 1 and balance(session, world.carer) == 90


def test_the_receiver_may_confirm_a_different_time(session, policy, world, clock):
    first = visits_of(session, agreed(session, policy, world))[0]
    visits.check_in(session, world.carer, first.id, now=FIRST)
    visits.check_out(session, world.carer, first.id, now=FIRST + timedelta(minutes=92))
    session.commit()
    clock.move_to(FIRST + timedelta(minutes=100))
    prefix = f"confirm-{first.id}"
    world.resident_phone.post(f"/visits/{first.id}/confirm", data={f"{prefix}-hours": "1", f"{prefix}-extra_minutes": "15"})
    assert fresh(session, first).confirmed_minutes == 75
    assert balance(session, world.carer) == 75


def test_only_the_carer_checks_in_and_a_refusal_is_said_without_changing_anything(session, policy, world, clock):
    first = visits_of(session, agreed(session, policy, world))[0]
    clock.move_to(FIRST)
    before = snapshot(session)
    response = world.resident_phone.post(f"/visits/{first.id}/check-in")
    assert response.status_code == 302
    assert snapshot(session) == before
    assert "Only the carer of this visit can check in and out." in page(world.resident_phone, response.location)


def test_cancelling_needs_a_reason(session, policy, world):
    second = visits_of(session, agreed(session, policy, world))[1]
    before = snapshot(session)
    field = f"cancel-{second.id}-reason"
    refused = world.resident_phone.post(f"/visits/{second.id}/cancel", data={field: "  "})
    assert refused.status_code == 400
    shown = text_of(refused)
    assert f'<p class="error" id="{field}-error">Please say why the visit is cancelled.</p>' in shown
    assert f'aria-describedby="{field}-hint {field}-error"' in shown
    assert snapshot(session) == before

    back = f"/exchanges/{world.exchange.id}#visit-{second.id}"
    done = world.resident_phone.post(f"/visits/{second.id}/cancel", data={field: "Hospital check-up", "next": back})
    assert done.status_code == 302 and done.location == back
    second = fresh(session, second)
    assert (second.status, second.cancel_reason, second.cancelled_by_id) == (
        S.CANCELLED, "Hospital check-up", world.resident.id)
    mine = page(world.carer_phone, "/visits")
    assert "Cancelled" in mine and "Hospital check-up" in mine


def test_a_problem_is_reported_after_the_visit(session, policy, world, clock):
    first = visits_of(session, agreed(session, policy, world))[0]
    clock.move_to(FIRST + timedelta(hours=3))  # due, and never checked in
    field = f"report-{first.id}-reason"
    assert f'name="{field}"' in exchange_page(world, world.resident_phone)
    world.resident_phone.post(f"/visits/{first.id}/dispute", data={field: "Nobody came."})
    assert fresh(session, first).status is S.DISPUTED


def test_move_only_this_visit(session, policy, world):
    plan = agreed(session, policy, world)
    second = visits_of(session, plan)[1]
    prefix = f"move-{second.id}"
    world.carer_phone.post(f"/visits/{second.id}/move", data={
        f"{prefix}-starts_at": "2027-09-10T14:30", f"{prefix}-hours": "1", f"{prefix}-extra_minutes": "0"})
    second = fresh(session, second)
    assert (second.starts_at, second.minutes, second.overridden) == (
        datetime(2027, 9, 10, 5, 30, tzinfo=UTC), 60, True)
    assert [v.overridden for v in visits_of(session, plan)].count(True) == 1


def test_change_from_this_visit_on(session, policy, world):
    plan = agreed(session, policy, world)
    before = visits_of(session, plan)
    third = before[2]
    # The form shows the plan as it is, from this visit.
    shown = exchange_page(world, world.carer_phone)
    assert re.search(rf'<input id="change-{third.id}-starts_at" [^>]*value="2027-09-21T10:00"', shown)
    response = world.carer_phone.post(f"/care-plans/{plan.id}/change", data={
        "visit_id": third.id, **plan_form(f"change-{third.id}", days=["WE"], starts_at="2027-09-22T09:00")})
    assert response.status_code == 302
    old, new = plans(session)
    assert (old.status, new.status, new.replaces_id, new.rrule) == (
        PlanStatus.ENDED, PlanStatus.ACTIVE, old.id, "FREQ=WEEKLY;BYDAY=WE")
    kept = visits_of(session, plan)
    assert [(v.starts_at, v.status) for v in kept[:2]] == [(v.starts_at, S.SCHEDULED) for v in before[:2]]
    assert visits_of(session, new)[0].starts_at == datetime(2027, 9, 22, 0, 0, tzinfo=UTC)


def test_a_change_without_a_day_is_a_400_on_its_own_page_and_nothing_changes(session, policy, world):
    plan = agreed(session, policy, world)
    third = visits_of(session, plan)[2]
    before = snapshot(session)
    response = world.carer_phone.post(f"/care-plans/{plan.id}/change", data={
        "visit_id": third.id, **plan_form(f"change-{third.id}", days=None)})
    assert response.status_code == 400
    shown = text_of(response)
    assert f'<p class="error" id="change-{third.id}-days-error">Choose one or more days of the week.</p>' in shown
    assert f'name="visit_id" value="{third.id}"' in shown  # sent again, it changes the same visit on
    assert snapshot(session) == before


def test_the_carer_of_a_card_only_resident_is_sent_to_scan_their_card(
        session, policy, app, make_member, make_post, coordinator, clock):
    resident = register_resident(session, coordinator, name="Grandma Choi", consent_note="Signed form")
    carer = make_member("Carer Lee")
    exchange = exchanges.respond(session, carer, make_post(resident, kind="need").id)
    exchanges.accept(session, resident, exchange.id)
    plan = careplans.propose_plan(session, carer, exchange.id, rrule=TUE_THU, starts_at=FIRST, minutes=60,
                                  until=date(2027, 10, 14), policy=policy)
    careplans.accept_plan(session, coordinator, plan.id)
    session.commit()
    clock.move_to(FIRST)
    shown = page(logged_in(app, carer), f"/exchanges/{exchange.id}")
    assert "Check in by scanning their card" in shown and 'href="/scan"' in shown
    assert "/check-in" not in shown


# ---- one-off visits ------------------------------------------------------------------------------


def test_a_one_off_visit_is_agreed_on_the_page(session, world):
    assert "Agree a time for one visit" in exchange_page(world, world.resident_phone)
    response = world.resident_phone.post(f"/exchanges/{world.exchange.id}/visits", data={
        "one-off-starts_at": "2027-09-08T15:00", "one-off-hours": "1", "one-off-extra_minutes": "30"})
    assert response.status_code == 302
    session.commit()
    [visit] = session.scalars(sa.select(Visit)).all()
    assert (visit.care_plan_id, visit.starts_at, visit.minutes) == (None, datetime(2027, 9, 8, 6, 0, tzinfo=UTC), 90)
    shown = exchange_page(world, world.carer_phone)
    assert "Wednesday, September 8, 2027" in shown and "Agree a time for one visit" not in shown


def test_a_one_off_visit_in_the_past_is_a_400_and_nothing_is_saved(session, world):
    before = snapshot(session)
    response = world.resident_phone.post(f"/exchanges/{world.exchange.id}/visits", data={
        "one-off-starts_at": "2027-09-01T15:00", "one-off-hours": "1", "one-off-extra_minutes": "0"})
    assert response.status_code == 400
    assert "Choose a time in the coming year." in response.get_data(as_text=True)
    assert snapshot(session) == before


# ---- My visits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Tuesday, September 7, 2027", "10:00 AM–12:00 PM", "You help Resident Kim"]),
    ("ko", ["2027년 9월 7일 화요일", "오전 10:00–오후 12:00"]),
])
def test_my_visits_lists_todays_visits_in_the_members_language(session, policy, world, clock, language, words):
    agreed(session, policy, world)
    clock.move_to(FIRST - timedelta(hours=2))  # Tuesday, 08:00 in Seoul
    shown = page(world.carer_phone, "/visits", headers={"Accept-Language": language})
    assert f'<html lang="{language}">' in shown
    today = shown.split("<h2", 2)[1]  # the first day listed
    for word in words:
        assert word in today
    assert "Lunch together" in today and f'href="/exchanges/{world.exchange.id}#visits"' in today
    # Today and the next two weeks: 7, 9 and 21 September (14 and 16 are Chuseok).
    assert shown.count('class="card visit-card') == 3
    assert 'href="/calendar"' in shown


def test_my_visits_needs_a_login(client):
    response = client.get("/visits")
    assert response.status_code == 302 and "/login" in response.location


def test_the_home_page_links_my_visits_and_the_profile_links_the_calendar(world):
    assert 'href="/visits"' in page(world.carer_phone, "/")
    assert 'href="/calendar"' in page(world.carer_phone, "/profile")


def test_the_console_member_page_links_the_printable_schedule(world, console):
    shown = page(console, f"/console/members/{world.resident.id}")
    assert f'href="/console/members/{world.resident.id}/schedule.pdf"' in shown
    assert "Print this month&#39;s visit schedule" in shown or "Print this month's visit schedule" in shown


# ---- strangers -----------------------------------------------------------------------------------


def _actions(world, plan, visit) -> list[tuple[str, dict]]:
    return [
        (f"/exchanges/{world.exchange.id}/care-plans", plan_form()),
        (f"/exchanges/{world.exchange.id}/visits", {"one-off-starts_at": "2027-09-08T15:00", "one-off-hours": "1"}),
        (f"/care-plans/{plan.id}/accept", {}),
        (f"/care-plans/{plan.id}/end", {}),
        (f"/care-plans/{plan.id}/change", {"visit_id": visit.id, **plan_form(f"change-{visit.id}")}),
        (f"/visits/{visit.id}/check-in", {}),
        (f"/visits/{visit.id}/check-out", {}),
        (f"/visits/{visit.id}/confirm", {}),
        (f"/visits/{visit.id}/cancel", {f"cancel-{visit.id}-reason": "No reason"}),
        (f"/visits/{visit.id}/dispute", {f"report-{visit.id}-reason": "No reason"}),
        (f"/visits/{visit.id}/move", {f"move-{visit.id}-starts_at": "2027-09-10T10:00", f"move-{visit.id}-hours": "1"}),
    ]


def test_a_stranger_is_refused_every_action_and_nothing_changes(app, session, policy, world, make_member, clock):
    plan = agreed(session, policy, world)
    visit = visits_of(session, plan)[1]
    stranger = logged_in(app, make_member("Stranger Park"))
    before = snapshot(session)
    for path, data in _actions(world, plan, visit):
        response = stranger.post(path, data=data)
        assert response.status_code in (403, 404), (path, response.status_code)
    assert stranger.get(f"/visits/{visit.id}").status_code in (403, 404)
    assert "Resident Kim" not in page(stranger, "/visits")
    assert snapshot(session) == before


def test_an_unknown_visit_or_plan_is_404_saying_so(world):
    for path, said in [("/visits/999999/check-in", "That visit does not exist."),
                       ("/visits/999999/cancel", "That visit does not exist."),
                       ("/care-plans/999999/accept", "That care plan does not exist.")]:
        response = world.carer_phone.post(path)
        assert response.status_code == 404 and said in response.get_data(as_text=True), path
