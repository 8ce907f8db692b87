"""Care plans: the recurrence (presets, validation, holidays, DST, plain words) and the plan's
life (propose, agree, generate the rolling window, end, edit "this and following", override
"only this one", the centre's closure days)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from carebank.careplans import delivery, recurrence
from carebank.careplans import services as careplans
from carebank.careplans.models import CarePlan, PlanStatus
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.members.services import register_resident
from carebank.notifications.models import Notification
from carebank.visits.models import Visit, VisitStatus

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")
BEFORE = datetime(2027, 9, 1, tzinfo=UTC)  # a week before the plans below start
CHUSEOK = (date(2027, 9, 14), date(2027, 9, 15), date(2027, 9, 16))
TUE_THU = "FREQ=WEEKLY;BYDAY=TU,TH"
TWELVE_TUE_THU = [date(2027, 9, d) for d in (7, 9, 14, 16, 21, 23, 28, 30)] + [
    date(2027, 10, d) for d in (5, 7, 12, 14)]


def plan_like(**fields):
    values = dict(rrule=TUE_THU, starts_at=datetime(2027, 9, 7, 10, tzinfo=SEOUL), timezone="Asia/Seoul",
                  minutes=120, until=date(2027, 10, 14), place="home", holiday_policy="skip")
    return SimpleNamespace(**(values | fields))


def local_days(starts, zone=SEOUL) -> list[date]:
    return [s.astimezone(zone).date() for s in starts]


def all_of(plan) -> list:
    return recurrence.occurrences(plan, datetime(2027, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))


@pytest.fixture
def clock():
    with time_machine.travel(BEFORE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def exchange(make_exchange, clock):
    return make_exchange()


def propose(session, policy, actor, exchange, **changes):
    values = dict(rrule=TUE_THU, starts_at=datetime(2027, 9, 7, 10, tzinfo=SEOUL), minutes=120,
                  until=date(2027, 10, 14), place="home", holiday_policy="skip") | changes
    plan = careplans.propose_plan(session, actor, exchange.id, policy=policy, **values)
    session.commit()
    return plan


def agreed(session, policy, exchange, **changes) -> CarePlan:
    """A plan the carer proposed and the receiver agreed."""
    plan = propose(session, policy, exchange.provider, exchange, **changes)
    careplans.accept_plan(session, exchange.receiver, plan.id)
    session.commit()
    return plan


def visits_of(session, plan) -> list[Visit]:
    return list(session.scalars(sa.select(Visit).where(Visit.care_plan_id == plan.id)
                                .order_by(Visit.starts_at, Visit.id)))


def going_ahead(session, plan) -> list[Visit]:
    return [v for v in visits_of(session, plan) if v.status is not VisitStatus.CANCELLED]


# ---- presets and validation ------------------------------------------------------------------

def test_presets_make_the_expected_rules():
    assert recurrence.weekly(["TH", "TU"]) == "FREQ=WEEKLY;BYDAY=TU,TH"
    assert recurrence.every_other_week(["TU", "TH"]) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"
    assert recurrence.weekdays() == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert recurrence.monthly_nth("TU", 2) == "FREQ=MONTHLY;BYDAY=2TU"
    assert recurrence.monthly_nth("FR", -1) == "FREQ=MONTHLY;BYDAY=-1FR"
    for rule in ("FREQ=WEEKLY;BYDAY=TU,TH", "FREQ=MONTHLY;BYDAY=2TU"):
        assert recurrence.validate_rrule(rule) == rule


def test_a_rule_sent_loosely_is_kept_in_its_normal_form():
    assert recurrence.validate_rrule(" rrule:freq=weekly;interval=1;byday=th,tu; ") == TUE_THU


@pytest.mark.parametrize("rule, words", [
    ("FREQ=WEEKLY;BYDAY=TU;COUNT=5", "COUNT and UNTIL"),
    ("FREQ=WEEKLY;UNTIL=20271231T000000Z", "COUNT and UNTIL"),
    ("FREQ=SECONDLY", "daily, weekly or monthly"),
    ("FREQ=YEARLY", "daily, weekly or monthly"),
    ("FREQ=WEEKLY;INTERVAL=5", "every 1 to 4"),
    ("FREQ=WEEKLY;INTERVAL=0", "every 1 to 4"),
    ("FREQ=WEEKLY;BYHOUR=3", "only use FREQ, INTERVAL and BYDAY"),
    ("FREQ=WEEKLY;BYDAY=XX", "MO, TU"),
    ("FREQ=WEEKLY;BYDAY=2TU", "without a number"),
    ("FREQ=MONTHLY;BYDAY=TU", "names the weekday"),
    ("FREQ=DAILY;BYDAY=MO", "weekly one"),
    ("garbage", "could not be read"),
    ("FREQ=WEEKLY;FREQ=DAILY", "could not be read"),
    ("", "could not be read"),
    (42, "could not be read"),
])
def test_bad_rules_are_refused_with_a_reason(rule, words):
    with pytest.raises(ValidationFailed) as refused:
        recurrence.validate_rrule(rule)
    assert words in str(refused.value.fields["rrule"])


# ---- occurrences -----------------------------------------------------------------------------

def test_skip_gives_ten_visits_and_none_on_chuseok():
    found = all_of(plan_like())
    days = local_days(o.starts_at for o in found)
    assert len(found) == 10
    assert not set(days) & set(CHUSEOK)
    assert days == [d for d in TWELVE_TUE_THU if d not in CHUSEOK]


def test_move_puts_the_chuseok_visits_on_later_working_days_and_keeps_the_others():
    found = all_of(plan_like(holiday_policy="move"))
    stayed = [o for o in found if not o.moved]
    moved = [o for o in found if o.moved]
    assert local_days(o.starts_at for o in stayed) == [d for d in TWELVE_TUE_THU if d not in CHUSEOK]
    assert all(o.starts_at == o.original_start for o in stayed)
    assert local_days(o.original_start for o in moved) == [date(2027, 9, 14), date(2027, 9, 16)]
    assert local_days(o.starts_at for o in moved) == [date(2027, 9, 17), date(2027, 9, 20)]
    for o in moved:
        day = o.starts_at.astimezone(SEOUL)
        assert day > o.original_start and day.weekday() < 5 and day.date() not in recurrence.korean_holidays(2027)
        assert (day.hour, day.minute) == (10, 0)
    assert len(set(local_days(o.starts_at for o in found))) == 12  # never two on one day


def test_a_closure_day_is_skipped_or_moved_like_a_holiday():
    closed = {date(2027, 9, 9)}
    window = (datetime(2027, 9, 1, tzinfo=UTC), datetime(2027, 9, 13, tzinfo=UTC))
    skipped = recurrence.occurrences(plan_like(), *window, closed)
    moved = recurrence.occurrences(plan_like(holiday_policy="move"), *window, closed)
    assert local_days(o.starts_at for o in skipped) == [date(2027, 9, 7)]
    assert local_days(o.starts_at for o in moved) == [date(2027, 9, 7), date(2027, 9, 10)]


def test_a_plan_in_new_york_keeps_ten_oclock_across_the_dst_change():
    plan = plan_like(rrule="FREQ=WEEKLY;BYDAY=SU", timezone="America/New_York",
                     starts_at=datetime(2027, 10, 24, 10, tzinfo=NEW_YORK), until=date(2027, 11, 21))
    starts = [o.starts_at for o in all_of(plan)]
    assert [s.astimezone(NEW_YORK).strftime("%m-%d %H:%M") for s in starts] == [
        "10-24 10:00", "10-31 10:00", "11-07 10:00", "11-14 10:00", "11-21 10:00"]
    assert [s.hour for s in starts] == [14, 14, 15, 15, 15]  # UTC moves by the hour DST gives back


def test_monthly_nth_weekday_and_last_weekday():
    second = all_of(plan_like(rrule="FREQ=MONTHLY;BYDAY=2TU", until=date(2027, 12, 31)))
    last = all_of(plan_like(rrule="FREQ=MONTHLY;BYDAY=-1FR", until=date(2027, 12, 31)))
    # 14 September, the second Tuesday, is Chuseok: skipped.
    assert local_days(o.starts_at for o in second) == [date(2027, 10, 12), date(2027, 11, 9), date(2027, 12, 14)]
    assert local_days(o.starts_at for o in last) == [
        date(2027, 9, 24), date(2027, 10, 29), date(2027, 11, 26), date(2027, 12, 31)]


# ---- plain words -----------------------------------------------------------------------------

def test_summary_in_english(app):
    with app.app_context():
        assert recurrence.summary(plan_like(), "en") == (
            "Every Tue and Thu at 10:00 AM, 2 h, at home, until Oct 14, 2027")
        assert recurrence.summary(plan_like(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"), "en", short=True) == (
            "Every other week on Tue at 10:00 AM, 2 h")
        assert recurrence.summary(plan_like(rrule=recurrence.weekdays(), minutes=90), "en", short=True) == (
            "Weekdays at 10:00 AM, 1 h 30 min")
        assert recurrence.summary(plan_like(rrule="FREQ=MONTHLY;BYDAY=2TU"), "en", short=True) == (
            "The second Tuesday of every month at 10:00 AM, 2 h")


def test_summary_in_korean(app):
    with app.app_context():
        assert recurrence.summary(plan_like(), "ko", short=True) == "매주 화·목 오전 10시, 2시간"
        assert recurrence.summary(plan_like(place="centre"), "ko") == (
            "매주 화·목 오전 10시, 2시간, 센터에서, 2027. 10. 14.까지")
        assert recurrence.summary(plan_like(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"), "ko", short=True) == (
            "격주 화 오전 10시, 2시간")
        assert recurrence.summary(plan_like(rrule=recurrence.weekdays()), "ko", short=True) == "평일 오전 10시, 2시간"
        assert recurrence.summary(plan_like(rrule="FREQ=MONTHLY;BYDAY=2TU",
                                            starts_at=datetime(2027, 9, 7, 14, 30, tzinfo=SEOUL)),
                                  "ko", short=True) == "매월 둘째 화요일 오후 2:30, 2시간"


# ---- proposing and agreeing ------------------------------------------------------------------

def test_a_plan_is_proposed_and_the_other_party_is_told(session, policy, exchange):
    plan = propose(session, policy, exchange.provider, exchange)
    assert plan.status is PlanStatus.PROPOSED and visits_of(session, plan) == []
    kinds = session.scalars(sa.select(Notification.kind).where(Notification.member_id == exchange.receiver_id))
    assert "care_plan_proposed" in list(kinds)


def test_skip_plan_generates_ten_visits_and_none_on_chuseok(session, policy, exchange):
    plan = agreed(session, policy, exchange)
    visits = visits_of(session, plan)
    assert plan.status is PlanStatus.ACTIVE and len(visits) == 10
    assert not set(local_days(v.starts_at for v in visits)) & set(CHUSEOK)
    assert all(v.status is VisitStatus.SCHEDULED and v.minutes == 120 for v in visits)


def test_move_plan_moves_the_chuseok_visits_and_keeps_the_other_ten(session, policy, exchange):
    visits = visits_of(session, agreed(session, policy, exchange, holiday_policy="move"))
    moved = [v for v in visits if v.moved_for_holiday]
    assert len(visits) == 12
    assert [v.starts_at for v in visits if not v.moved_for_holiday] == [
        v.original_start for v in visits if not v.moved_for_holiday]
    assert local_days(v.starts_at for v in moved) == [date(2027, 9, 17), date(2027, 9, 20)]


def test_generating_twice_adds_nothing(session, policy, exchange):
    plan = agreed(session, policy, exchange, holiday_policy="move")
    before = [(v.id, v.starts_at) for v in visits_of(session, plan)]
    plan.generated_until = None  # as if the window were lost: the unique occurrences still hold
    assert careplans.generate_visits(session, plan, BEFORE) == []
    assert careplans.extend_all(session, BEFORE + timedelta(days=1)) == 0
    session.commit()
    assert [(v.id, v.starts_at) for v in visits_of(session, plan)] == before


def test_the_first_eight_weeks_exist_when_accept_returns(session, policy, exchange):
    plan = agreed(session, policy, exchange, until=date(2028, 6, 30))
    visits = visits_of(session, plan)
    first = datetime(2027, 9, 7, 10, tzinfo=SEOUL)
    assert visits[0].starts_at == first
    assert visits[-1].starts_at < first + timedelta(weeks=8) <= visits[-1].starts_at + timedelta(days=5)
    assert len(visits) == 16 - 2  # Tue and Thu for 8 weeks, less the two Chuseok days


def test_the_rolling_window_moves_on_with_the_clock(session, policy, exchange, clock):
    plan = agreed(session, policy, exchange, rrule="FREQ=WEEKLY;BYDAY=TU", until=date(2028, 6, 30))
    assert len(visits_of(session, plan)) == 8 - 1  # 9-14 is Chuseok
    later = BEFORE + timedelta(weeks=4)
    clock.move_to(later)
    assert careplans.extend_all(session, later) == 4
    session.commit()
    starts = [v.starts_at for v in visits_of(session, plan)]
    assert starts[-1] < later + timedelta(weeks=8) <= starts[-1] + timedelta(weeks=1)
    clock.move_to(later + timedelta(days=1))
    assert careplans.extend_all(session, later + timedelta(days=1)) == 0


def test_the_worker_task_extends_plans_and_ends_finished_ones(app, session, policy, exchange, clock):
    long = agreed(session, policy, exchange, rrule="FREQ=WEEKLY;BYDAY=TU", until=date(2028, 6, 30))
    clock.move_to(BEFORE + timedelta(weeks=4))
    with app.app_context():
        delivery.extend_plans()
    session.commit()  # read what the task committed
    assert len(visits_of(session, long)) == 11
    clock.move_to(datetime(2028, 7, 1, 12, tzinfo=UTC))
    with app.app_context():
        delivery.extend_plans()
    session.commit()
    assert session.get(CarePlan, long.id).status is PlanStatus.ENDED


def test_the_proposer_cannot_accept_their_own_plan(session, policy, exchange):
    plan = propose(session, policy, exchange.provider, exchange)
    with pytest.raises(NotAllowed) as refused:
        careplans.accept_plan(session, exchange.provider, plan.id)
    assert refused.value.code == "own_plan"
    session.rollback()
    assert session.get(CarePlan, plan.id).status is PlanStatus.PROPOSED


def test_a_stranger_cannot_accept(session, policy, exchange, make_member):
    plan = propose(session, policy, exchange.provider, exchange)
    with pytest.raises(NotAllowed):
        careplans.accept_plan(session, make_member("Stranger"), plan.id)


def test_a_plan_is_agreed_once(session, policy, exchange):
    plan = agreed(session, policy, exchange)
    with pytest.raises(Conflict) as refused:
        careplans.accept_plan(session, exchange.receiver, plan.id)
    assert refused.value.code == "plan_active"


def test_the_centre_agrees_for_a_card_only_resident(session, policy, coordinator, make_member, make_post,
                                                    clock):
    from carebank.exchanges import services as exchanges

    resident = register_resident(session, coordinator, name="Kim Soon-ja", consent_note="Signed form")
    carer = make_member("Carer")
    need = make_post(resident, kind="need")
    exchange = exchanges.respond(session, carer, need.id)
    exchanges.accept(session, resident, exchange.id)
    session.commit()
    plan = propose(session, policy, carer, exchange)
    careplans.accept_plan(session, coordinator, plan.id)
    assert plan.status is PlanStatus.ACTIVE and plan.accepted_by_id == coordinator.id
    assert len(visits_of(session, plan)) == 10


def test_a_coordinator_may_propose_for_a_resident_and_a_party_agrees(session, policy, exchange, coordinator):
    plan = propose(session, policy, coordinator, exchange)
    careplans.accept_plan(session, exchange.provider, plan.id)
    assert plan.status is PlanStatus.ACTIVE


def test_a_plan_needs_an_accepted_exchange(session, policy, make_exchange, clock):
    pending = make_exchange(accepted=False)
    with pytest.raises(Conflict) as refused:
        propose(session, policy, pending.provider, pending)
    assert refused.value.code == "exchange_not_accepted"


@pytest.mark.parametrize("changes, field", [
    ({"minutes": 0}, "minutes"),
    ({"minutes": 100_000}, "minutes"),
    ({"starts_at": datetime(2027, 8, 1, 10, tzinfo=SEOUL)}, "starts_at"),
    ({"starts_at": datetime(2027, 9, 7, 10)}, "starts_at"),
    ({"until": date(2027, 9, 1)}, "until"),
    ({"until": date(2030, 1, 1)}, "until"),
    ({"until": "next year"}, "until"),
    ({"until": date(2027, 9, 8), "rrule": "FREQ=MONTHLY;BYDAY=2TU"}, "until"),
    ({"place": "park"}, "place"),
    ({"holiday_policy": "ignore"}, "holiday_policy"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"rrule": "FREQ=WEEKLY;COUNT=3"}, "rrule"),
])
def test_bad_values_are_refused_and_nothing_is_saved(session, policy, exchange, changes, field):
    with pytest.raises(ValidationFailed) as refused:
        propose(session, policy, exchange.provider, exchange, **changes)
    assert field in refused.value.fields
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(CarePlan)) == 0


def test_only_one_proposal_waits_at_a_time(session, policy, exchange):
    propose(session, policy, exchange.provider, exchange)
    with pytest.raises(Conflict) as refused:
        propose(session, policy, exchange.receiver, exchange, minutes=60)
    assert refused.value.code == "plan_pending"


def test_a_new_proposal_replaces_the_active_plan_when_agreed(session, policy, exchange):
    old = agreed(session, policy, exchange)
    new = propose(session, policy, exchange.receiver, exchange, rrule="FREQ=WEEKLY;BYDAY=WE",
                  starts_at=datetime(2027, 9, 22, 10, tzinfo=SEOUL))
    assert new.replaces_id == old.id and old.status is PlanStatus.ACTIVE
    careplans.accept_plan(session, exchange.provider, new.id)
    session.commit()
    assert old.status is PlanStatus.ENDED and old.until == date(2027, 9, 21)
    assert local_days(v.starts_at for v in going_ahead(session, old)) == [
        date(2027, 9, 7), date(2027, 9, 9), date(2027, 9, 21)]
    assert local_days(v.starts_at for v in going_ahead(session, new))[0] == date(2027, 9, 22)


# ---- ending, editing, overriding -------------------------------------------------------------

def test_ending_a_plan_cancels_only_its_future_visits(session, policy, exchange, clock):
    plan = agreed(session, policy, exchange)
    now = datetime(2027, 9, 22, tzinfo=UTC)
    clock.move_to(now)
    careplans.end_plan(session, exchange.receiver, plan.id)
    session.commit()
    visits = visits_of(session, plan)
    past = [v for v in visits if v.starts_at < now]
    future = [v for v in visits if v.starts_at > now]
    assert plan.status is PlanStatus.ENDED
    assert past and all(v.status is VisitStatus.SCHEDULED and v.cancel_reason == "" for v in past)
    assert future and all(v.status is VisitStatus.CANCELLED and v.cancel_reason == "plan ended" for v in future)
    with pytest.raises(Conflict):
        careplans.end_plan(session, exchange.receiver, plan.id)


def test_edit_this_and_following_from_the_fifth_visit_leaves_the_first_four(session, policy, exchange):
    plan = agreed(session, policy, exchange)
    visits = visits_of(session, plan)
    first_four = [(v.id, v.starts_at, v.minutes, v.status) for v in visits[:4]]
    fifth = visits[4]
    new = careplans.edit_from(session, exchange.provider, plan.id, fifth.id, policy=policy, minutes=90)
    session.commit()
    visits = visits_of(session, plan)
    assert [(v.id, v.starts_at, v.minutes, v.status) for v in visits[:4]] == first_four
    assert all(v.status is VisitStatus.CANCELLED and v.cancel_reason == "plan changed" for v in visits[4:])
    assert plan.status is PlanStatus.ENDED and plan.until == date(2027, 9, 27)
    fresh = visits_of(session, new)
    assert new.status is PlanStatus.ACTIVE and new.replaces_id == plan.id
    assert [v.starts_at for v in fresh] == [v.starts_at for v in visits[4:]]
    assert {v.minutes for v in fresh} == {90}


def test_edit_from_a_visit_of_another_plan_is_not_found(session, policy, exchange, make_exchange):
    plan = agreed(session, policy, exchange)
    other = agreed(session, policy, make_exchange())
    with pytest.raises(NotFound) as refused:
        careplans.edit_from(session, exchange.provider, plan.id, visits_of(session, other)[0].id,
                            policy=policy, minutes=90)
    assert refused.value.code == "visit_not_found"


def test_only_this_one_is_never_touched_by_generating_again(session, policy, exchange):
    plan = agreed(session, policy, exchange)
    visit = visits_of(session, plan)[1]
    moved = datetime(2027, 9, 10, 15, tzinfo=SEOUL)
    careplans.override_visit(session, exchange.receiver, visit.id, starts_at=moved, minutes=45,
                             policy=policy)
    session.commit()
    plan.generated_until = None
    assert careplans.generate_visits(session, plan, BEFORE) == []
    session.commit()
    session.refresh(visit)
    assert (visit.starts_at, visit.minutes, visit.overridden) == (moved, 45, True)


# ---- the centre's closure days ---------------------------------------------------------------

def test_a_closure_day_is_kept_by_the_visits_made_after_it(session, policy, exchange, coordinator):
    careplans.add_closure(session, coordinator, date(2027, 9, 9), "Centre picnic")
    session.commit()
    days = local_days(v.starts_at for v in visits_of(session, agreed(session, policy, exchange)))
    assert date(2027, 9, 9) not in days and len(days) == 9


def test_a_new_closure_cancels_or_moves_the_visits_already_scheduled(session, policy, exchange, coordinator,
                                                                    make_exchange):
    skipping = agreed(session, policy, exchange)
    moving = agreed(session, policy, make_exchange(), holiday_policy="move")
    careplans.add_closure(session, coordinator, "2027-09-21", "Typhoon")
    session.commit()
    off = [v for v in visits_of(session, skipping) if v.starts_at.astimezone(SEOUL).date() == date(2027, 9, 21)]
    assert [(v.status, v.cancel_reason) for v in off] == [(VisitStatus.CANCELLED, "centre closed: Typhoon")]
    told = session.scalars(sa.select(Notification.member_id).where(Notification.kind == "visit_cancelled"))
    assert set(told) == {exchange.provider_id, exchange.receiver_id}
    days = local_days(v.starts_at for v in going_ahead(session, moving))
    assert date(2027, 9, 21) not in days and date(2027, 9, 22) in days


def test_only_coordinators_set_closures_once_a_day(session, exchange, coordinator):
    with pytest.raises(NotAllowed):
        careplans.add_closure(session, exchange.provider, date(2027, 9, 21), "")
    careplans.add_closure(session, coordinator, date(2027, 9, 21), "")
    with pytest.raises(Conflict):
        careplans.add_closure(session, coordinator, date(2027, 9, 21), "again")
    careplans.remove_closure(session, coordinator, date(2027, 9, 21))
    assert careplans.closures(session, coordinator) == []


def test_a_plan_in_new_york_generates_ten_oclock_visits_across_dst(session, policy, exchange):
    plan = agreed(session, policy, exchange, rrule="FREQ=WEEKLY;BYDAY=SU", timezone="America/New_York",
                  starts_at=datetime(2027, 10, 24, 10, tzinfo=NEW_YORK), until=date(2027, 11, 21))
    starts = [v.starts_at.astimezone(NEW_YORK) for v in visits_of(session, plan)]
    assert [s.strftime("%H:%M") for s in starts] == ["10:00"] * 5
    assert starts[2].date() == date(2027, 11, 7)  # the day DST ends


def test_a_schedule_made_in_two_windows_is_the_one_made_in_one():
    plan = plan_like(holiday_policy="move", until=date(2027, 12, 31))
    start, cut, end = (datetime(2027, 9, 1, tzinfo=UTC), datetime(2027, 9, 15, 3, tzinfo=UTC),
                       datetime(2028, 1, 1, tzinfo=UTC))
    closed = {date(2027, 9, 17)}  # the day after Chuseok too: the moves chain further
    whole = recurrence.occurrences(plan, start, end, closed)
    first = recurrence.occurrences(plan, start, cut, closed)
    second = recurrence.occurrences(plan, cut, end, closed, existing={o.original_start for o in first},
                                    taken_days=set(local_days(o.starts_at for o in first)))
    assert sorted(first + second) == sorted(whole)
