"""Calendars of visits: the private iCalendar feed a phone subscribes to, read back with
icalendar and expanded as a calendar app would (recurring-ical-events), its secret address,
and the monthly schedule a centre prints for a resident without a phone (read with pdfium).

The visits are made as rows here (a Tue/Thu 10:00 plan in Seoul), not by the plan generator."""
from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pypdfium2
import pytest
import recurring_ical_events
import time_machine
from conftest import logged_in
from dateutil.rrule import rrulestr

# Routes on the API and console blueprints, imported where those blueprints gather them once
# wired; importing them here registers them before any app is made.
from carebank.careplans.models import CarePlan, PlanStatus, VisitPlace
from carebank.members.models import Role
from carebank.visits.models import Visit, VisitStatus

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2027, 9, 1, 9, 0, tzinfo=SEOUL)  # a Wednesday, the week before the plan starts
FIRST = datetime(2027, 9, 7, 10, 0, tzinfo=SEOUL)  # Tuesday 10:00
RULE = "FREQ=WEEKLY;BYDAY=TU,TH"
UNTIL = datetime(2027, 10, 14, 23, 59, tzinfo=SEOUL)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def carer(make_member):
    return make_member("Park Ji-hoon", locale="en")


@pytest.fixture
def resident(make_member):
    return make_member("김영자", locale="ko")


def add_plan(session, exchange, *, place=VisitPlace.HOME) -> tuple[CarePlan, list[Visit]]:
    """An accepted Tue/Thu 10:00 two-hour plan from 2027-09-07 to 10-14, with its 12 visits."""
    plan = CarePlan(exchange_id=exchange.id, rrule=RULE, starts_at=FIRST.astimezone(UTC), minutes=120,
                    until=UNTIL.date(), place=place, status=PlanStatus.ACTIVE,
                    proposed_by_id=exchange.provider_id, accepted_by_id=exchange.receiver_id,
                    accepted_at=NOW.astimezone(UTC))
    session.add(plan)
    session.flush()
    starts = rrulestr(RULE, dtstart=FIRST).between(FIRST, UNTIL, inc=True)
    visits = [Visit(care_plan_id=plan.id, exchange_id=exchange.id, original_start=start.astimezone(UTC),
                    starts_at=start.astimezone(UTC), minutes=120) for start in starts]
    session.add_all(visits)
    session.commit()
    return plan, visits


@pytest.fixture
def plan_visits(session, make_exchange, carer, resident):
    """The carer helps the resident at the resident's home; the visits in start order."""
    _plan, visits = add_plan(session, make_exchange(carer, resident))
    return visits


def feed_path(client) -> str:
    response = client.get("/api/v1/me/calendar")
    assert response.status_code == 200, response.get_data(as_text=True)
    return urlsplit(response.get_json()["url"]).path


def fetch(client, path) -> icalendar.Calendar:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return icalendar.Calendar.from_ical(response.data)


def events(calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(visit) -> str:
    return f"visit-{visit.id}@carebank"


def expanded_starts(calendar) -> list[datetime]:
    """What a phone calendar shows: every occurrence in the year around the plan, in UTC."""
    shown = recurring_ical_events.of(calendar).between(datetime(2027, 1, 1, tzinfo=UTC),
                                                       datetime(2028, 1, 1, tzinfo=UTC))
    return sorted(event.start.astimezone(UTC) for event in shown)


# The feed ------------------------------------------------------------------------------------

def test_feed_expands_to_the_start_time_of_every_visit_at_ten_in_seoul(app, resident, plan_visits):
    calendar = fetch(app.test_client(), feed_path(logged_in(app, resident)))
    assert expanded_starts(calendar) == [visit.starts_at for visit in plan_visits]
    first = events(calendar)[uid(plan_visits[0])]
    # The wall-clock time with its zone, and the zone's rules, so phones show 10:00 Seoul time.
    assert first.start == FIRST and first.start.tzinfo.key == "Asia/Seoul"
    assert first.end == FIRST + timedelta(hours=2)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Seoul"]


def test_feed_is_text_calendar_for_phones_to_cache_privately(app, resident, plan_visits):
    response = app.test_client().get(feed_path(logged_in(app, resident)))
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=900"


def test_feed_speaks_the_members_language_and_names_the_other_person(app, carer, resident, plan_visits):
    resident_feed = fetch(app.test_client(), feed_path(logged_in(app, resident)))
    carer_feed = fetch(app.test_client(), feed_path(logged_in(app, carer)))
    assert str(carer_feed["X-WR-CALNAME"]) == "Carebank visits" and resident_feed["X-WR-CALNAME"]
    theirs, mine = events(resident_feed)[uid(plan_visits[0])], events(carer_feed)[uid(plan_visits[0])]
    assert str(theirs["SUMMARY"]) == "“Lunch together” — Park Ji-hoon 님이 나를 도와요"
    assert str(mine["SUMMARY"]) == "“Lunch together” — you help 김영자"
    assert str(mine["LOCATION"]).startswith("At the home of 김영자")
    assert "Visit length: 2 h" in mine["DESCRIPTION"]


def test_a_moved_visit_keeps_its_uid_and_carries_its_new_time_and_a_higher_sequence(
        app, session, carer, plan_visits):
    client, path = app.test_client(), feed_path(logged_in(app, carer))
    before = events(fetch(client, path))
    moved = plan_visits[2]
    new_start = moved.starts_at + timedelta(days=1, hours=4)  # Tue 10:00 → Wed 14:00
    session.get(Visit, moved.id).starts_at = new_start
    session.get(Visit, moved.id).overridden = True
    after = events(fetch(client, path))
    assert after.keys() == before.keys()
    event = after[uid(moved)]
    assert event.start == new_start and event.start.hour == 14
    assert event["SEQUENCE"] > before[uid(moved)]["SEQUENCE"]
    # One event per visit, no recurring master: nothing for a RECURRENCE-ID to point at.
    assert all("RECURRENCE-ID" not in e and "RRULE" not in e for e in after.values())
    assert "Moved from Tue, Sep 14 10:00 AM" in event["DESCRIPTION"]


def test_a_cancelled_visit_is_cancelled_in_the_calendar_and_has_no_reminder(
        app, session, resident, plan_visits):
    cancelled = session.get(Visit, plan_visits[1].id)
    cancelled.status, cancelled.cancelled_at = VisitStatus.CANCELLED, NOW.astimezone(UTC)
    found = events(fetch(app.test_client(), feed_path(logged_in(app, resident))))
    assert found[uid(cancelled)]["STATUS"] == "CANCELLED"
    assert found[uid(cancelled)]["SEQUENCE"] > found[uid(plan_visits[0])]["SEQUENCE"]
    assert not found[uid(cancelled)].walk("VALARM")
    assert {str(e["STATUS"]) for u, e in found.items() if u != uid(cancelled)} == {"CONFIRMED"}


def test_every_visit_to_come_has_a_reminder_the_day_before(app, resident, plan_visits):
    found = events(fetch(app.test_client(), feed_path(logged_in(app, resident))))
    assert len(found) == len(plan_visits)
    for event in found.values():
        alarm, = event.walk("VALARM")
        assert alarm["ACTION"] == "DISPLAY" and alarm["TRIGGER"].dt == timedelta(days=-1)
        assert alarm["DESCRIPTION"]


def test_uids_stay_the_same_on_a_second_fetch(app, resident, plan_visits):
    client, path = app.test_client(), feed_path(logged_in(app, resident))
    first, second = events(fetch(client, path)), events(fetch(client, path))
    assert first.keys() == second.keys() == {uid(visit) for visit in plan_visits}


def test_visits_from_four_weeks_ago_on_are_in_the_feed(app, session, make_exchange, carer, resident):
    exchange = make_exchange(carer, resident)
    old, recent = (Visit(exchange_id=exchange.id, starts_at=(NOW - age).astimezone(UTC), minutes=60,
                         status=VisitStatus.CREDITED) for age in (timedelta(weeks=4, days=1), timedelta(weeks=3)))
    session.add_all([old, recent])
    session.commit()
    found = events(fetch(app.test_client(), feed_path(logged_in(app, resident))))
    assert found.keys() == {uid(recent)}


def test_another_members_visits_never_appear(app, session, make_member, make_exchange, carer, resident,
                                             plan_visits):
    _plan, theirs = add_plan(session, make_exchange(make_member("Stranger One"), make_member("Stranger Two")))
    found = events(fetch(app.test_client(), feed_path(logged_in(app, resident))))
    assert found.keys() == {uid(visit) for visit in plan_visits}
    assert not found.keys() & {uid(visit) for visit in theirs}
    assert "Stranger" not in fetch(app.test_client(), feed_path(logged_in(app, carer))).to_ical().decode()


# The address ---------------------------------------------------------------------------------

@pytest.mark.parametrize("token", [
    base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=").lower(), "a" * 52, "A" * 52, "x", "a" * 5000, "%00" + "a" * 49, "ü" * 52,
    "..%2F..%2Fetc%2Fpasswd", "%ED%A0%80" * 10,
])
def test_an_unknown_or_malformed_address_is_not_found(client, resident, token):
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_new_address_stops_the_old_one(app, resident, plan_visits):
    phone, calendar_app = logged_in(app, resident), app.test_client()
    old = feed_path(phone)
    assert calendar_app.get(old).status_code == 200
    response = phone.post("/api/v1/me/calendar")
    assert response.status_code == 201
    new = urlsplit(response.get_json()["url"]).path
    assert new != old and feed_path(phone) == new
    assert calendar_app.get(old).status_code == 404
    assert calendar_app.get(new).status_code == 200


def test_the_address_is_the_same_each_time_and_only_for_a_logged_in_member(app, client, resident):
    phone = logged_in(app, resident)
    url = phone.get("/api/v1/me/calendar").get_json()["url"]
    assert url.startswith("http://localhost/calendar/") and url.endswith(".ics")
    assert phone.get("/api/v1/me/calendar").get_json() == {"url": url}
    assert client.get("/api/v1/me/calendar").status_code == 401
    assert client.post("/api/v1/me/calendar").status_code == 401


def test_a_new_secret_key_retires_the_old_address(app, resident, plan_visits):
    old = feed_path(logged_in(app, resident))
    app.config["SECRET_KEY"] = "a secret key after a leak"
    assert app.test_client().get(old).status_code == 404
    new = feed_path(logged_in(app, resident))
    assert new != old and app.test_client().get(new).status_code == 200


def test_a_deactivated_members_feed_is_not_found(app, session, resident, plan_visits):
    path = feed_path(logged_in(app, resident))
    session.get(type(resident), resident.id).deactivated_at = NOW.astimezone(UTC)
    assert app.test_client().get(path).status_code == 404


def test_calendar_page_gives_the_address_and_makes_a_new_one(app, client, resident):
    assert client.get("/calendar").status_code == 302  # to the login page
    phone = logged_in(app, resident)
    page = phone.get("/calendar").get_data(as_text=True)
    path = feed_path(phone)
    assert f"http://localhost{path}" in page and f"webcal://localhost{path}" in page
    response = phone.post("/calendar/new", follow_redirects=True)
    assert response.status_code == 200
    assert path not in response.get_data(as_text=True)
    assert feed_path(phone) in response.get_data(as_text=True)
    assert app.test_client().get(path).status_code == 404


# The printed month -------------------------------------------------------------------------

def pdf_text(data: bytes) -> str:
    return "\n".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(data))


def test_monthly_schedule_prints_the_resident_the_korean_month_and_each_visit(
        app, session, console, centre, resident, plan_visits):
    cancelled = session.get(Visit, plan_visits[1].id)  # Thursday 9 September
    cancelled.status = VisitStatus.CANCELLED
    response = console.get(f"/console/members/{resident.id}/schedule.pdf?month=2027-09")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "김영자" in text and resident.number in text
    assert "2027년 9월" in text and centre.name in text and centre.phone in text
    for day in ("9월 7일 (화)", "9월 9일 (목)", "9월 30일 (목)"):
        assert day in text
    assert "10월" not in text  # only the month asked for
    assert text.count("오전 10:00") == 8 and "Park Ji-hoon" in text
    assert "취소됨" in text  # the cancelled Thursday is marked


def test_monthly_schedule_in_english_for_a_resident_who_reads_english(app, session, console, make_member,
                                                                      make_exchange, carer):
    reader = make_member("Grace Lee", locale="en")
    add_plan(session, make_exchange(carer, reader), place=VisitPlace.CENTRE)
    text = pdf_text(console.get(f"/console/members/{reader.id}/schedule.pdf?month=2027-10").data)
    assert "October 2027" in text and "Tue, Oct 5" in text and "10:00 AM" in text
    assert "At Hyoja Care Centre" in text


def test_a_coordinator_of_another_centre_cannot_print_the_schedule(app, make_centre, make_member, resident,
                                                                  plan_visits):
    elsewhere = make_centre("Distant Centre", neighbourhoods="Far-dong")
    stranger = make_member("Quentin Faraway", role=Role.COORDINATOR, centre_id=elsewhere.id)
    response = logged_in(app, stranger).get(f"/console/members/{resident.id}/schedule.pdf?month=2027-09")
    assert response.status_code == 404 and response.mimetype == "text/html"


@pytest.mark.parametrize("month", ["2027-13", "September", "2027-9x", "0000-01", "%00"])
def test_a_bad_month_is_a_400_page(console, resident, month):
    response = console.get(f"/console/members/{resident.id}/schedule.pdf?month={month}")
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_a_month_without_visits_prints_one_page_with_no_rows(console, resident):
    document = pypdfium2.PdfDocument(console.get(f"/console/members/{resident.id}/schedule.pdf?month=2027-09").data)
    page, = document
    text = page.get_textpage().get_text_range()
    assert "김영자" in text and "2027년 9월" in text and "9월 7일" not in text
