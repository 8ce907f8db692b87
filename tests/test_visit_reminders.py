"""Reminders and lone-visit safety (carebank/visits/safety.py, run by the worker's minute task
in carebank/visits/delivery.py), on frozen clocks: both parties hear of a visit 24 h and 2 h
before, each once, in their own language; the receiver is asked to confirm 2 h after the
check-out; no check-in by the start + 30 min flags the visit and tells both parties and the
centre; no check-out by the end + 30 min alerts the centre at once, quiet hours or not."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from carebank.core import tasks
from carebank.core.database import utcnow
from carebank.notifications import preferences
from carebank.notifications.models import Delivery, Notification
from carebank.visits import delivery, safety
from carebank.visits.models import Visit, VisitStatus

SEOUL = timedelta(hours=9)
START = datetime(2027, 9, 7, 11, 0, tzinfo=UTC) - SEOUL  # a Tuesday, 11:00 in Seoul
HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)


@pytest.fixture
def carer(make_member):
    return make_member("Park Min-su", locale="en", email="minsu@example.org")


@pytest.fixture
def resident(make_member):
    return make_member("김순자", locale="ko", email="soonja@example.org")


@pytest.fixture
def make_visit(session, make_exchange, carer, resident):
    """A visit of an accepted exchange in which `carer` helps `resident`, planned two weeks
    ahead unless told otherwise."""
    exchange = make_exchange(carer, resident)

    def make(starts_at=START, *, minutes=60, status=VisitStatus.SCHEDULED, created_at=None, **fields):
        visit = Visit(exchange_id=exchange.id, starts_at=starts_at, minutes=minutes, status=status,
                      created_at=created_at or starts_at - timedelta(days=14), **fields)
        session.add(visit)
        session.commit()
        return visit

    return make


def run(session, rule, at: datetime) -> list[int]:
    """One run of a rule at `at`, committed as the worker commits it."""
    with time_machine.travel(at, tick=False):
        told = rule(session, utcnow())
        session.commit()
    return told


def told(session, member, kind=None) -> list[Notification]:
    """What the member was told of visits (of `kind`, if given)."""
    session.commit()
    query = sa.select(Notification).where(Notification.member_id == member.id)
    query = query.where(Notification.kind == kind if kind else Notification.kind.startswith("visit_"))
    return list(session.scalars(query.order_by(Notification.id)))


def check_and_send(app, session, at: datetime) -> None:
    """The worker's minute: the visit check, then every delivery it queued."""
    session.commit()
    with time_machine.travel(at, tick=False):
        with app.app_context():
            delivery.check_visits()
        tasks.run_pending(app)


def by_address(inbox) -> dict:
    return {message["To"]: message for message in inbox}


def text_of(message) -> str:
    # CLDR puts a narrow no-break space before AM/PM.
    return message.get_body(preferencelist=("plain",)).get_content().replace("\u202f", " ")


# ---- 24 h and 2 h before -------------------------------------------------------------------------


def test_both_parties_are_reminded_a_day_and_two_hours_before_once_each_in_their_language(
        app, session, make_visit, inbox):
    make_visit()
    tasks.run_pending(app)  # what making the exchange sent
    inbox.clear()
    check_and_send(app, session, START - 24 * HOUR)
    mails = by_address(inbox)
    assert sorted(mails) == ["minsu@example.org", "soonja@example.org"]
    english, korean = mails["minsu@example.org"], mails["soonja@example.org"]
    assert (english["Subject"], english["Content-Language"]) == ("A visit tomorrow", "en")
    assert "11:00 AM" in text_of(english) and "김순자" in text_of(english)
    assert korean["Content-Language"] == "ko"
    assert "김순자 님" in text_of(korean) and "27. 9. 7." in text_of(korean)  # Korean date order
    assert "Park Min-su" in text_of(korean)

    check_and_send(app, session, START - 24 * HOUR + MINUTE)  # the next minute: nothing again
    check_and_send(app, session, START - 3 * HOUR)
    assert len(inbox) == 2

    check_and_send(app, session, START - 2 * HOUR)
    assert len(inbox) == 4
    assert by_address(inbox[2:])["minsu@example.org"]["Subject"] == "A visit in two hours"
    assert by_address(inbox[2:])["soonja@example.org"]["Content-Language"] == "ko"
    check_and_send(app, session, START - 2 * HOUR + MINUTE)
    check_and_send(app, session, START - HOUR)
    assert len(inbox) == 4


def test_a_worker_down_for_ten_minutes_still_sends_each_reminder_once(session, make_visit, carer, resident):
    visit = make_visit()
    assert run(session, safety.remind_day_before, START - 24 * HOUR + 10 * MINUTE) == [visit.id]
    assert run(session, safety.remind_soon, START - 2 * HOUR + 10 * MINUTE) == [visit.id]
    for at in (START - 23 * HOUR, START - 90 * MINUTE):
        assert run(session, safety.remind_day_before, at) == run(session, safety.remind_soon, at) == []
    for member in (carer, resident):
        assert [n.kind for n in told(session, member)] == ["visit_tomorrow", "visit_soon"]


def test_no_day_before_reminder_for_a_visit_an_hour_away(session, make_visit, carer):
    """The worker was down all day: "a visit tomorrow" would be wrong an hour before."""
    visit = make_visit()
    assert run(session, safety.remind_day_before, START - HOUR) == []
    assert run(session, safety.remind_soon, START - HOUR) == [visit.id]
    assert [n.kind for n in told(session, carer)] == ["visit_soon"]


def test_a_visit_arranged_less_than_a_day_ahead_gets_only_the_two_hour_reminder(session, make_visit, resident):
    make_visit(created_at=START - 22 * HOUR)
    assert run(session, safety.remind_day_before, START - 21 * HOUR) == []
    assert run(session, safety.remind_soon, START - 2 * HOUR) != []
    assert [n.kind for n in told(session, resident)] == ["visit_soon"]


def test_no_reminder_for_a_cancelled_visit(session, make_visit, carer, resident):
    make_visit(status=VisitStatus.CANCELLED)
    assert run(session, safety.remind_day_before, START - 24 * HOUR) == []
    assert run(session, safety.remind_soon, START - 2 * HOUR) == []
    assert told(session, carer) == told(session, resident) == []


def test_a_worker_that_read_the_visit_before_another_claimed_it_tells_nobody(session, make_visit):
    """The claim is a conditional UPDATE: what another worker marked meanwhile is not ours."""
    visit = make_visit()
    assert run(session, safety.remind_soon, START - 2 * HOUR) == [visit.id]  # the first worker
    calls = []
    with time_machine.travel(START - 2 * HOUR, tick=False):
        stale = session.get(Visit, visit.id)  # as the second worker read it before that commit
        assert safety._tell(session, [stale], Visit.reminded_soon_at, utcnow(), calls.append) == []
    assert calls == []


# ---- no check-in ------------------------------------------------------------------------------------


def test_no_check_in_by_start_plus_30_minutes_flags_it_and_tells_both_parties_and_the_centre(
        session, make_visit, carer, resident, coordinator):
    visit = make_visit()
    assert run(session, safety.flag_not_started, START + 29 * MINUTE) == []
    assert run(session, safety.flag_not_started, START + 30 * MINUTE) == [visit.id]
    assert run(session, safety.flag_not_started, START + 31 * MINUTE) == []
    session.refresh(visit)
    # Flagged, still scheduled: a carer who is only late can check in.
    assert visit.late_flagged_at == START + 30 * MINUTE and visit.status is VisitStatus.SCHEDULED
    for member in (carer, resident, coordinator):
        assert len(told(session, member, "visit_not_started")) == 1, member.name


def test_a_checked_in_visit_is_not_flagged(session, make_visit, carer):
    make_visit(status=VisitStatus.CHECKED_IN, checked_in_at=START + 5 * MINUTE)
    assert run(session, safety.flag_not_started, START + HOUR) == []
    assert told(session, carer) == []


# ---- lone-visit safety -------------------------------------------------------------------------------


def test_no_check_out_by_end_plus_30_minutes_alerts_the_centre_at_once_even_in_quiet_hours(
        app, session, make_visit, carer, resident, coordinator, inbox):
    """The issue's "Done means": a carer checked in at 21:00 for an hour, no check-out at 22:30."""
    evening = datetime(2027, 9, 7, 21, 0, tzinfo=UTC) - SEOUL
    visit = make_visit(evening, status=VisitStatus.CHECKED_IN, checked_in_at=evening)
    tasks.run_pending(app)  # what making the exchange sent
    inbox.clear()
    check_and_send(app, session, evening + 89 * MINUTE)
    assert told(session, coordinator) == []

    alarm = evening + 90 * MINUTE  # 22:30 in Seoul: quiet hours
    assert preferences.hold_until(session, coordinator, alarm) > alarm  # a plain notice would wait
    check_and_send(app, session, alarm)
    [alert] = told(session, coordinator, "visit_not_ended")
    assert alert.urgent and alert.url == "/console/visits/today"
    mail = session.scalar(sa.select(Delivery).where(Delivery.notification_id == alert.id,
                                                   Delivery.channel == "email"))
    assert (mail.status, mail.sent_at) == ("sent", alarm)  # at 22:30, not held until 08:00
    assert [m["To"] for m in inbox] == [coordinator.email]
    assert told(session, carer) == told(session, resident) == []
    session.refresh(visit)
    assert visit.overdue_alerted_at == alarm

    check_and_send(app, session, alarm + MINUTE)
    check_and_send(app, session, alarm + 3 * HOUR)
    assert len(told(session, coordinator, "visit_not_ended")) == 1 and len(inbox) == 1


def test_a_late_check_in_moves_the_alert_with_it(session, make_visit, coordinator):
    """Checked in 40 minutes late for an hour: a worry 30 minutes after that hour, not before."""
    visit = make_visit(status=VisitStatus.CHECKED_IN, checked_in_at=START + 40 * MINUTE)
    assert run(session, safety.alert_not_ended, START + 129 * MINUTE) == []
    assert run(session, safety.alert_not_ended, START + 130 * MINUTE) == [visit.id]


def test_a_checked_out_visit_raises_no_alert(session, make_visit, coordinator):
    make_visit(status=VisitStatus.CHECKED_OUT, checked_in_at=START, checked_out_at=START + HOUR)
    assert run(session, safety.alert_not_ended, START + 3 * HOUR) == []
    assert told(session, coordinator) == []


def test_a_failing_check_does_not_hold_back_the_alert(app, session, make_visit, coordinator, monkeypatch):
    def broken(session, now):
        raise RuntimeError("a reminder rule failed")

    monkeypatch.setattr(safety, "RULES", (broken, *safety.RULES))
    make_visit(status=VisitStatus.CHECKED_IN, checked_in_at=START)
    check_and_send(app, session, START + 2 * HOUR)
    assert len(told(session, coordinator, "visit_not_ended")) == 1


# ---- waiting for the confirmation ----------------------------------------------------------------------


def test_the_receiver_is_asked_to_confirm_two_hours_after_the_check_out_once(session, make_visit, carer, resident):
    out = START + HOUR
    visit = make_visit(status=VisitStatus.CHECKED_OUT, checked_in_at=START, checked_out_at=out)
    assert run(session, safety.nudge_to_confirm, out + 119 * MINUTE) == []
    assert run(session, safety.nudge_to_confirm, out + 2 * HOUR) == [visit.id]
    assert run(session, safety.nudge_to_confirm, out + 3 * HOUR) == []
    assert len(told(session, resident, "visit_to_confirm")) == 1
    assert told(session, carer) == []


def test_a_confirmed_visit_is_not_nudged(session, make_visit, resident):
    make_visit(status=VisitStatus.CREDITED, checked_in_at=START, checked_out_at=START + HOUR)
    assert run(session, safety.nudge_to_confirm, START + 4 * HOUR) == []
    assert told(session, resident) == []


def test_the_check_runs_every_minute(app):
    queue = tasks.tasks_of(app).huey
    for n in range(3):
        assert "check_visits" in {t.name for t in queue.read_periodic(START + n * MINUTE)}
