"""The visit life cycle, the services: check-in, check-out, one confirmation that credits the
visit once (linked to its transaction), cancellations, no-shows and disputes, one-off visits,
and today's confirmation codes and card check-ins crediting the visit they confirm."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import time_machine

from carebank.cards import services as cards
from carebank.careplans.models import CarePlan, PlanStatus
from carebank.checkins import services as checkins
from carebank.confirmations import services as confirmations
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.disputes.models import Dispute, DisputeStatus
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Role
from carebank.members.services import register_resident
from carebank.notifications.models import Notification
from carebank.visits import services as visits
from carebank.visits.models import Visit, VisitStatus

S = VisitStatus
# Tuesday 7 September 2027, 10:00 in Seoul.
START = datetime(2027, 9, 7, 1, 0, tzinfo=UTC)
PIN = "2468"


@pytest.fixture
def clock():
    """The clock, frozen an hour before the visit; `clock.move_to(...)` moves it."""
    with time_machine.travel(START - timedelta(hours=1), tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(session, make_member, make_exchange, coordinator, clock):
    """Carer Lee visits Resident Kim (an accepted exchange); the centre's coordinator."""
    carer = make_member("Carer Lee")
    resident = make_member("Resident Kim")
    exchange = make_exchange(carer, resident, minutes=60)
    return SimpleNamespace(carer=carer, resident=resident, exchange=exchange, coordinator=coordinator)


def add_visit(session, exchange, starts_at=START, minutes=60, **fields) -> Visit:
    """A visit as the care plan's generator (or a one-off agreement) would leave it."""
    visit = Visit(exchange_id=exchange.id, starts_at=starts_at, minutes=minutes, **fields)
    session.add(visit)
    session.commit()
    return visit


def at(clock, moment):
    clock.move_to(moment)
    return moment


def fresh(session, visit) -> Visit:
    session.commit()
    session.refresh(visit)
    return visit


def visit_transactions(session) -> list[Transaction]:
    session.commit()
    return list(session.scalars(sa.select(Transaction).where(Transaction.kind == TransactionKind.VISIT)))


def state(session, visit) -> tuple:
    """Everything a refused request must leave as it was."""
    session.commit()
    row = session.execute(sa.select(Visit.__table__).where(Visit.id == visit.id)).one()
    notices = session.scalar(sa.select(sa.func.count()).select_from(Notification))
    return tuple(row), len(visit_transactions(session)), notices


def checked_out(session, world, clock, minutes_in=90, **fields) -> Visit:
    visit = add_visit(session, world.exchange, **fields)
    visits.check_in(session, world.carer, visit.id, now=START)
    visits.check_out(session, world.carer, visit.id, now=START + timedelta(minutes=minutes_in))
    session.commit()
    return visit


# ---- the life cycle in order ---------------------------------------------------------------


def test_a_visit_is_checked_in_checked_out_and_confirmed_in_order(session, policy, world, clock):
    visit = add_visit(session, world.exchange)

    at(clock, START + timedelta(minutes=3))
    visits.check_in(session, world.carer, visit.id)
    visit = fresh(session, visit)
    assert visit.status is S.CHECKED_IN
    assert (visit.checked_in_at, visit.checked_in_by_id, visit.check_in_method) == (
        START + timedelta(minutes=3), world.carer.id, "app")
    assert visit.late_flagged_at is None

    at(clock, START + timedelta(minutes=93))
    visits.check_out(session, world.carer, visit.id)
    visit = fresh(session, visit)
    assert (visit.status, visit.checked_out_at, visit.checked_out_by_id) == (
        S.CHECKED_OUT, START + timedelta(minutes=93), world.carer.id)

    visits.confirm(session, world.resident, visit.id, policy=policy)
    visit = fresh(session, visit)
    assert (visit.status, visit.confirmed_minutes, visit.confirmed_by_id) == (S.CREDITED, 90, world.resident.id)
    assert visit.confirmed_at == START + timedelta(minutes=93)


def test_confirm_credits_the_time_from_check_in_to_check_out_in_the_linked_transaction(
        session, policy, world, clock):
    visit = checked_out(session, world, clock, minutes_in=75)

    visits.confirm(session, world.resident, visit.id, policy=policy)

    visit = fresh(session, visit)
    [transaction] = visit_transactions(session)
    assert visit.transaction_id == transaction.id
    assert (transaction.exchange_id, transaction.created_by_id) == (world.exchange.id, world.resident.id)
    assert visit.confirmed_minutes == 75
    assert ledger.balance_of(session, world.carer.id) == 75
    assert ledger.balance_of(session, world.resident.id) == -75
    assert ledger.verify(session) == []


def test_the_receiver_may_confirm_other_minutes_than_the_checked_in_time(session, policy, world, clock):
    visit = checked_out(session, world, clock, minutes_in=75)
    visits.confirm(session, world.resident, visit.id, 60, policy=policy)
    assert fresh(session, visit).confirmed_minutes == 60
    assert ledger.balance_of(session, world.carer.id) == 60


@pytest.mark.parametrize(("worked", "credited"), [
    (timedelta(minutes=92), 90), (timedelta(minutes=92, seconds=30), 95), (timedelta(minutes=1), 5),
    (timedelta(hours=30), None),
])
def test_the_default_minutes_are_the_checked_in_time_to_five_minutes_within_the_limit(policy, worked, credited):
    visit = Visit(starts_at=START, minutes=60, checked_in_at=START, checked_out_at=START + worked)
    assert visits.default_minutes(visit, policy) == (credited or policy.max_minutes)
    assert visits.default_minutes(Visit(starts_at=START, minutes=60, checked_in_at=START), policy) is None


def test_a_second_confirmation_is_refused_and_moves_nothing(session, policy, world, clock):
    visit = checked_out(session, world, clock)
    visits.confirm(session, world.resident, visit.id, policy=policy)
    session.commit()
    before = state(session, visit)

    with pytest.raises(Conflict) as refused:
        visits.confirm(session, world.resident, visit.id, policy=policy)
    session.rollback()

    assert refused.value.code == "visit_confirmed"
    assert state(session, visit) == before
    assert ledger.balance_of(session, world.carer.id) == 90


def test_a_confirmation_that_lost_the_race_moves_nothing(session, policy, world, clock, monkeypatch):
    # It read the visit before the other request credited it: its claim finds it taken.
    visit = checked_out(session, world, clock)
    visits.confirm(session, world.resident, visit.id, policy=policy)
    session.commit()
    monkeypatch.setattr(visits, "_require_state", lambda visit, states: None)

    with pytest.raises(Conflict) as refused:
        visits.confirm(session, world.coordinator, visit.id, 60, policy=policy)
    session.rollback()

    assert refused.value.code == "visit_confirmed"
    assert len(visit_transactions(session)) == 1
    assert ledger.balance_of(session, world.carer.id) == 90


def test_a_balance_too_low_leaves_the_visit_unconfirmed(session, policy, world, clock):
    visit = checked_out(session, world, clock)
    with pytest.raises(Conflict):
        visits.confirm(session, world.resident, visit.id, -policy.min_balance_minutes + 5, policy=policy)
    session.rollback()
    visit = fresh(session, visit)
    assert (visit.status, visit.transaction_id, visit.confirmed_minutes) == (S.CHECKED_OUT, None, None)


# ---- refused transitions and strangers: nothing changes ---------------------------------------


def _credited(session, world, clock, policy):
    visit = checked_out(session, world, clock)
    visits.confirm(session, world.resident, visit.id, policy=policy)
    return visit


def _cancelled(session, world, clock, policy):
    visit = add_visit(session, world.exchange)
    visits.cancel(session, world.resident, visit.id, "In hospital")
    return visit


def _checked_in(session, world, clock, policy):
    visit = add_visit(session, world.exchange)
    visits.check_in(session, world.carer, visit.id, now=START)
    return visit


def _scheduled(session, world, clock, policy):
    return add_visit(session, world.exchange)


def _checked_out(session, world, clock, policy):
    return checked_out(session, world, clock)


REFUSED = {
    "check-out before check-in": (_scheduled, lambda s, w, v, p: visits.check_out(s, w.carer, v.id, now=START)),
    "confirm before check-in": (_scheduled, lambda s, w, v, p: visits.confirm(s, w.resident, v.id, 60, policy=p)),
    "confirm before check-out": (_checked_in, lambda s, w, v, p: visits.confirm(s, w.resident, v.id, 60, policy=p)),
    "check-in twice": (_checked_in, lambda s, w, v, p: visits.check_in(s, w.carer, v.id, now=START)),
    "check-in a credited visit": (_credited, lambda s, w, v, p: visits.check_in(s, w.carer, v.id, now=START)),
    "check-in a cancelled visit": (_cancelled, lambda s, w, v, p: visits.check_in(s, w.carer, v.id, now=START)),
    "check-out a credited visit": (_credited, lambda s, w, v, p: visits.check_out(s, w.carer, v.id)),
    "cancel a visit in progress": (_checked_in, lambda s, w, v, p: visits.cancel(s, w.resident, v.id, "Ill")),
    "cancel a credited visit": (_credited, lambda s, w, v, p: visits.cancel(s, w.resident, v.id, "Ill")),
    "cancel twice": (_cancelled, lambda s, w, v, p: visits.cancel(s, w.resident, v.id, "Ill")),
    "no-show of a visit in progress": (
        _checked_in, lambda s, w, v, p: visits.mark_no_show(s, w.coordinator, v.id, "provider")),
    "no-show before the start": (_scheduled, lambda s, w, v, p: visits.mark_no_show(
        s, w.coordinator, v.id, "provider", now=START - timedelta(minutes=1))),
    "check-in hours early": (
        _scheduled, lambda s, w, v, p: visits.check_in(s, w.carer, v.id, now=START - timedelta(minutes=61))),
    "dispute a cancelled visit": (_cancelled, lambda s, w, v, p: visits.dispute(s, w.resident, v.id, "Odd")),
    "dispute a visit still to come": (
        _scheduled, lambda s, w, v, p: visits.dispute(s, w.resident, v.id, "Odd", now=START - timedelta(hours=2))),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_transition_the_state_does_not_allow_is_a_conflict_and_changes_nothing(
        session, policy, world, clock, case):
    make, act = REFUSED[case]
    visit = make(session, world, clock, policy)
    before = state(session, visit)

    with pytest.raises(Conflict):
        act(session, world, visit, policy)
    session.rollback()

    assert state(session, visit) == before


STRANGER = {
    "check in": lambda s, m, v, p: visits.check_in(s, m, v.id, now=START),
    "check out": lambda s, m, v, p: visits.check_out(s, m, v.id, now=START),
    "confirm": lambda s, m, v, p: visits.confirm(s, m, v.id, 60, policy=p),
    "cancel": lambda s, m, v, p: visits.cancel(s, m, v.id, "Not for me"),
    "mark a no-show": lambda s, m, v, p: visits.mark_no_show(s, m, v.id, "provider", now=START + timedelta(hours=1)),
    "dispute": lambda s, m, v, p: visits.dispute(s, m, v.id, "Odd", now=START + timedelta(hours=1)),
    "see": lambda s, m, v, p: visits.visit_for(s, m, v.id),
}


@pytest.mark.parametrize("action", STRANGER)
@pytest.mark.parametrize("who", ["neighbour", "other centre's coordinator"])
def test_someone_outside_the_visit_is_refused_and_nothing_changes(
        session, policy, world, make_member, make_centre, action, who):
    if who == "neighbour":
        outsider = make_member("Neighbour Choi")
    else:
        outsider = make_member("Coordinator Elsewhere", role=Role.COORDINATOR, centre_id=make_centre().id)
    visit = add_visit(session, world.exchange)
    before = state(session, visit)

    with pytest.raises(NotAllowed):
        STRANGER[action](session, outsider, visit, policy)
    session.rollback()

    assert state(session, visit) == before


PARTY_REFUSED = {
    "receiver checks in": (_scheduled, lambda s, w, v, p: visits.check_in(s, w.resident, v.id, now=START)),
    "coordinator checks in": (_scheduled, lambda s, w, v, p: visits.check_in(s, w.coordinator, v.id, now=START)),
    "receiver checks out": (_checked_in, lambda s, w, v, p: visits.check_out(s, w.resident, v.id)),
    "carer confirms alone": (_checked_out, lambda s, w, v, p: visits.confirm(s, w.carer, v.id, 60, policy=p)),
}


@pytest.mark.parametrize("case", PARTY_REFUSED)
def test_only_the_carer_checks_in_and_out_and_never_confirms_alone(session, policy, world, clock, case):
    make, act = PARTY_REFUSED[case]
    visit = make(session, world, clock, policy)
    before = state(session, visit)
    with pytest.raises(NotAllowed):
        act(session, world, visit, policy)
    session.rollback()
    assert state(session, visit) == before


def test_an_unknown_visit_is_not_found(session, world):
    with pytest.raises(NotFound):
        visits.visit_for(session, world.carer, 999_999)
    with pytest.raises(NotFound):
        visits.check_in(session, world.carer, "7")


def test_a_visit_of_an_ended_exchange_cannot_start(session, world, clock):
    visit = add_visit(session, world.exchange)
    exchanges.cancel(session, world.resident, world.exchange.id)
    session.commit()
    with pytest.raises(Conflict) as refused:
        visits.check_in(session, world.carer, visit.id, now=START)
    assert refused.value.code == "exchange_not_accepted"


# ---- late check-ins ------------------------------------------------------------------------------


def test_checking_in_20_minutes_late_flags_the_visit(session, world, clock):
    visit = add_visit(session, world.exchange)
    late = at(clock, START + timedelta(minutes=20))

    visits.check_in(session, world.carer, visit.id)

    visit = fresh(session, visit)
    assert (visit.status, visit.late_flagged_at) == (S.CHECKED_IN, late)


def test_checking_in_19_minutes_after_the_start_is_not_late(session, world, clock):
    visit = add_visit(session, world.exchange)
    at(clock, START + timedelta(minutes=19, seconds=59))

    visits.check_in(session, world.carer, visit.id)

    assert fresh(session, visit).late_flagged_at is None


def test_a_visit_flagged_as_not_started_can_still_be_checked_in_and_keeps_its_flag(session, world, clock):
    # The no-show task flagged it at start + 30 min; the carer arrives at + 40.
    flagged = START + timedelta(minutes=30)
    visit = add_visit(session, world.exchange, late_flagged_at=flagged)
    at(clock, START + timedelta(minutes=40))

    visits.check_in(session, world.carer, visit.id)

    visit = fresh(session, visit)
    assert (visit.status, visit.late_flagged_at) == (S.CHECKED_IN, flagged)


def test_a_carer_marked_missing_who_comes_after_all_checks_in_and_the_mark_stays(session, world, clock):
    visit = add_visit(session, world.exchange)
    visits.mark_no_show(session, world.coordinator, visit.id, "provider", now=START + timedelta(minutes=35))
    session.commit()

    visits.check_in(session, world.carer, visit.id, now=START + timedelta(minutes=45))

    visit = fresh(session, visit)
    assert (visit.status, visit.no_show_party) == (S.CHECKED_IN, "provider")
    assert visit.late_flagged_at == START + timedelta(minutes=45)


def test_a_carer_may_check_in_up_to_an_hour_early(session, world):
    visit = add_visit(session, world.exchange)
    visits.check_in(session, world.carer, visit.id, now=START - timedelta(hours=1))
    assert fresh(session, visit).status is S.CHECKED_IN


# ---- a card-only resident ---------------------------------------------------------------------


@pytest.fixture
def resident_world(session, make_member, make_exchange, coordinator, clock):
    """Carer Lee visits Grandmother Oh, whom the centre registered: no login, a card and a PIN."""
    carer = make_member("Carer Lee")
    resident = register_resident(session, coordinator, name="Grandmother Oh", consent_note="Signed form")
    cards.set_pin(session, resident, PIN, coordinator)
    issued = cards.issue_card(session, resident, coordinator)
    session.commit()
    exchange = make_exchange(carer, resident, minutes=60)
    visit = add_visit(session, exchange)
    return SimpleNamespace(carer=carer, resident=resident, exchange=exchange, coordinator=coordinator,
                           card=issued.card, token=issued.token, visit=visit)


def card_state(session, card) -> tuple[int, bool]:
    session.commit()
    session.refresh(card)
    return card.pin_failures, card.is_locked


def test_a_card_only_residents_visit_needs_their_card_to_check_in(session, resident_world):
    w = resident_world
    with pytest.raises(ValidationFailed) as refused:
        visits.check_in(session, w.carer, w.visit.id, now=START)
    assert refused.value.code == "card_required"
    session.rollback()
    assert fresh(session, w.visit).status is S.SCHEDULED


def test_the_carer_checks_in_with_the_residents_card_and_pin(session, resident_world):
    w = resident_world
    visits.check_in(session, w.carer, w.visit.id, card=cards.card_url("https://bank.example", w.token),
                    pin=PIN, now=START)
    visit = fresh(session, w.visit)
    assert (visit.status, visit.check_in_method) == (S.CHECKED_IN, "pin")


def test_the_card_alone_checks_in_too(session, resident_world):
    w = resident_world
    visits.check_in(session, w.carer, w.visit.id, card=w.token, now=START)
    assert fresh(session, w.visit).check_in_method == "card"


def test_a_wrong_pin_at_check_in_counts_towards_the_cards_lock(session, resident_world):
    w = resident_world
    for _ in range(cards.MAX_PIN_FAILURES):
        with pytest.raises(checkins.WrongPin) as wrong:
            visits.check_in(session, w.carer, w.visit.id, card=w.token, pin="1111", now=START)
        session.commit()  # what the API does: the counted try stays
    assert wrong.value.locked
    assert card_state(session, w.card) == (cards.MAX_PIN_FAILURES, True)
    assert fresh(session, w.visit).status is S.SCHEDULED

    with pytest.raises(Conflict) as locked:
        visits.check_in(session, w.carer, w.visit.id, card=w.token, pin=PIN, now=START)
    assert locked.value.code == "card_locked"


def test_someone_elses_card_does_not_check_in(session, resident_world, coordinator):
    w = resident_world
    other = register_resident(session, coordinator, name="Grandfather Yu", consent_note="Signed form")
    issued = cards.issue_card(session, other, coordinator)
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        visits.check_in(session, w.carer, w.visit.id, card=issued.token, now=START)
    assert refused.value.code == "wrong_card"


def test_the_resident_confirms_on_the_carers_phone_with_card_and_pin(session, policy, resident_world):
    w = resident_world
    visits.check_in(session, w.carer, w.visit.id, card=w.token, now=START)
    visits.check_out(session, w.carer, w.visit.id, now=START + timedelta(minutes=60))

    visits.confirm(session, w.carer, w.visit.id, card=w.token, pin=PIN, policy=policy)

    visit = fresh(session, w.visit)
    assert (visit.status, visit.confirmed_minutes, visit.confirmed_by_id) == (S.CREDITED, 60, w.resident.id)
    assert ledger.balance_of(session, w.carer.id) == 60


def test_a_wrong_pin_at_confirmation_is_counted_and_credits_nothing(session, policy, resident_world):
    w = resident_world
    visits.check_in(session, w.carer, w.visit.id, card=w.token, now=START)
    visits.check_out(session, w.carer, w.visit.id, now=START + timedelta(minutes=60))
    session.commit()

    with pytest.raises(checkins.WrongPin):
        visits.confirm(session, w.carer, w.visit.id, card=w.token, pin="0000", policy=policy)
    session.commit()

    assert card_state(session, w.card) == (1, False)
    assert fresh(session, w.visit).status is S.CHECKED_OUT
    assert visit_transactions(session) == []


def test_the_centre_confirms_for_a_resident_after_a_phone_call(session, policy, resident_world, clock):
    w = resident_world
    with pytest.raises(Conflict) as early:  # not a visit still to come
        visits.confirm(session, w.coordinator, w.visit.id, 45, policy=policy)
    assert early.value.code == "visit_scheduled"
    session.rollback()
    at(clock, START + timedelta(hours=2))
    with pytest.raises(ValidationFailed):  # not checked out: the centre says how long
        visits.confirm(session, w.coordinator, w.visit.id, policy=policy)
    session.rollback()

    visits.confirm(session, w.coordinator, w.visit.id, 45, policy=policy)

    visit = fresh(session, w.visit)
    assert (visit.status, visit.confirmed_minutes, visit.confirmed_by_id) == (S.CREDITED, 45, w.coordinator.id)
    assert ledger.balance_of(session, w.carer.id) == 45


# ---- cancelling ----------------------------------------------------------------------------------


def notices(session, member, kind="visit_cancelled") -> list[Notification]:
    session.commit()
    return list(session.scalars(sa.select(Notification).where(
        Notification.member_id == member.id, Notification.kind == kind)))


def test_a_cancellation_less_than_a_day_ahead_is_urgent_for_the_other_party(session, world):
    visit = add_visit(session, world.exchange)
    visits.cancel(session, world.carer, visit.id, "  My child is ill  ", now=START - timedelta(hours=23, minutes=59))

    visit = fresh(session, visit)
    assert (visit.status, visit.cancelled_by_id, visit.cancel_reason) == (S.CANCELLED, world.carer.id, "My child is ill")
    assert visit.cancelled_at == START - timedelta(hours=23, minutes=59)
    [notice] = notices(session, world.resident)
    assert notice.urgent and notice.params["reason"] == "My child is ill"
    assert notices(session, world.carer) == []


def test_a_cancellation_a_day_or_more_ahead_is_not_urgent(session, world):
    visit = add_visit(session, world.exchange)
    visits.cancel(session, world.resident, visit.id, "Away that week", now=START - timedelta(hours=24))
    [notice] = notices(session, world.carer)
    assert not notice.urgent


def test_the_centre_can_cancel_and_both_parties_hear_of_it(session, world):
    visit = add_visit(session, world.exchange)
    visits.cancel(session, world.coordinator, visit.id, "Typhoon warning", now=START - timedelta(hours=3))
    assert [n.urgent for n in notices(session, world.carer) + notices(session, world.resident)] == [True, True]


@pytest.mark.parametrize("reason", ["", "   ", None, 42, "x" * 501])
def test_a_cancellation_needs_a_reason_of_at_most_500_characters(session, world, reason):
    visit = add_visit(session, world.exchange)
    before = state(session, visit)
    with pytest.raises(ValidationFailed) as refused:
        visits.cancel(session, world.resident, visit.id, reason, now=START - timedelta(days=2))
    session.rollback()
    assert "reason" in refused.value.fields
    assert state(session, visit) == before


# ---- no-shows and disputes --------------------------------------------------------------------------


def test_the_centre_marks_who_did_not_come_after_the_start(session, world):
    visit = add_visit(session, world.exchange)
    visits.mark_no_show(session, world.coordinator, visit.id, "receiver", now=START + timedelta(minutes=31))
    visit = fresh(session, visit)
    assert (visit.status, visit.no_show_party) == (S.NO_SHOW, "receiver")


def test_the_other_party_marks_a_no_show_but_not_their_own(session, world):
    visit = add_visit(session, world.exchange)
    later = START + timedelta(minutes=40)
    with pytest.raises(NotAllowed):
        visits.mark_no_show(session, world.carer, visit.id, "provider", now=later)
    with pytest.raises(ValidationFailed):
        visits.mark_no_show(session, world.carer, visit.id, "nobody", now=later)
    session.rollback()
    visits.mark_no_show(session, world.resident, visit.id, "provider", now=later)
    assert fresh(session, visit).no_show_party == "provider"


def test_reporting_a_problem_disputes_the_visit_and_opens_a_dispute_with_its_transaction(
        session, policy, world, clock):
    visit = checked_out(session, world, clock)
    visits.confirm(session, world.resident, visit.id, policy=policy)
    session.commit()

    visits.dispute(session, world.resident, visit.id, "The carer left after half an hour.")

    visit = fresh(session, visit)
    [dispute] = session.scalars(sa.select(Dispute)).all()
    assert visit.status is S.DISPUTED and visit.transaction_id is not None
    assert (dispute.exchange_id, dispute.transaction_id, dispute.raised_by_id, dispute.status) == (
        world.exchange.id, visit.transaction_id, world.resident.id, DisputeStatus.OPEN)
    with pytest.raises(Conflict):  # disputed: it cannot be credited again
        visits.confirm(session, world.coordinator, visit.id, 30, policy=policy)


def test_a_dispute_needs_a_reason(session, world, clock):
    visit = add_visit(session, world.exchange)
    with pytest.raises(ValidationFailed):
        visits.dispute(session, world.carer, visit.id, " ", now=START + timedelta(hours=2))
    session.rollback()
    assert fresh(session, visit).status is S.SCHEDULED


# ---- one-off visits --------------------------------------------------------------------------------


def test_a_one_off_exchange_gets_one_live_visit(session, policy, world, clock):
    visit = visits.schedule_one_off(session, world.resident, world.exchange.id, START, 90, policy=policy)
    session.commit()
    assert (visit.care_plan_id, visit.exchange_id, visit.starts_at, visit.minutes, visit.status) == (
        None, world.exchange.id, START, 90, S.SCHEDULED)

    with pytest.raises(Conflict) as refused:
        visits.schedule_one_off(session, world.carer, world.exchange.id, START + timedelta(days=1), 90, policy=policy)
    assert refused.value.code == "one_off_exists"
    session.rollback()

    visits.cancel(session, world.carer, visit.id, "Moved to Thursday")
    again = visits.schedule_one_off(session, world.carer, world.exchange.id, START + timedelta(days=2), 90,
                                    policy=policy)
    assert again.id != visit.id


@pytest.mark.parametrize("starts_at", [START - timedelta(hours=2), START.replace(tzinfo=None), "tomorrow",
                                       START + timedelta(days=400)])
def test_a_one_off_visit_needs_a_time_in_the_coming_year(session, policy, world, starts_at):
    with pytest.raises(ValidationFailed) as refused:
        visits.schedule_one_off(session, world.resident, world.exchange.id, starts_at, 60, policy=policy)
    assert "starts_at" in refused.value.fields


def test_an_exchange_with_a_care_plan_gets_no_one_off_visit(session, policy, world):
    session.add(CarePlan(exchange_id=world.exchange.id, rrule="FREQ=WEEKLY;BYDAY=TU", starts_at=START,
                         minutes=60, until=START.date() + timedelta(days=60), status=PlanStatus.ACTIVE,
                         proposed_by_id=world.carer.id))
    session.commit()
    with pytest.raises(Conflict) as refused:
        visits.schedule_one_off(session, world.resident, world.exchange.id, START, 60, policy=policy)
    assert refused.value.code == "has_care_plan"


# ---- today's codes and card check-ins confirm the visit of the day ------------------------------------


def redeem_code(session, policy, world, minutes=60):
    _, token = confirmations.make_code(session, world.carer, world.exchange.id, minutes, policy)
    transaction, _ = confirmations.redeem(session, world.resident, token, policy)
    session.commit()
    return transaction


def test_a_redeemed_code_credits_the_visit_of_that_day(session, policy, world, clock):
    earlier = add_visit(session, world.exchange, starts_at=START - timedelta(days=7))
    visit = add_visit(session, world.exchange, starts_at=START)
    visits.check_in(session, world.carer, visit.id, now=START)
    session.commit()
    at(clock, START + timedelta(minutes=70))

    transaction = redeem_code(session, policy, world, minutes=70)

    visit = fresh(session, visit)
    assert (visit.status, visit.transaction_id, visit.confirmed_minutes) == (S.CREDITED, transaction.id, 70)
    assert visit.confirmed_by_id == world.resident.id
    assert fresh(session, earlier).status is S.SCHEDULED
    with pytest.raises(Conflict):  # credited by the code: never a second transaction
        visits.confirm(session, world.coordinator, visit.id, 70, policy=policy)


def test_of_two_visits_that_day_the_code_credits_the_nearest(session, policy, world, clock):
    morning = add_visit(session, world.exchange, starts_at=START)
    afternoon = add_visit(session, world.exchange, starts_at=START + timedelta(hours=5))
    at(clock, START + timedelta(hours=6))

    redeem_code(session, policy, world)

    assert (fresh(session, morning).status, fresh(session, afternoon).status) == (S.SCHEDULED, S.CREDITED)


def test_a_code_on_a_day_without_a_visit_credits_no_visit(session, policy, world, clock):
    # 23:30 in Seoul the day before; the visit is the next morning there.
    visit = add_visit(session, world.exchange, starts_at=START)
    at(clock, START - timedelta(hours=10, minutes=30))

    transaction = redeem_code(session, policy, world)

    assert transaction is not None
    visit = fresh(session, visit)
    assert (visit.status, visit.transaction_id) == (S.SCHEDULED, None)


def test_a_pin_check_in_credits_the_visit_of_that_day(session, policy, resident_world, clock):
    w = resident_world
    at(clock, START + timedelta(minutes=50))

    checkin = checkins.check_in_with_pin(session, w.carer, w.token, w.exchange.id, 50, PIN,
                                         secrets.token_urlsafe(24), policy)
    session.commit()

    visit = fresh(session, w.visit)
    assert (visit.status, visit.transaction_id, visit.confirmed_minutes) == (
        S.CREDITED, checkin.transaction_id, 50)


# ---- reading ---------------------------------------------------------------------------------------


def test_my_visits_are_the_members_as_carer_or_receiver_in_start_order(session, world, make_member, make_exchange):
    other = make_exchange(world.resident, make_member("Neighbour Choi"))  # Kim helps Choi
    third = add_visit(session, world.exchange, starts_at=START + timedelta(days=2))
    first = add_visit(session, other, starts_at=START)
    second = add_visit(session, world.exchange, starts_at=START + timedelta(days=1))
    add_visit(session, world.exchange, starts_at=START + timedelta(days=9))  # outside

    mine = visits.my_visits(session, world.resident, START, START + timedelta(days=3))
    carers = visits.my_visits(session, world.carer, START, START + timedelta(days=3))

    assert [v.id for v in mine] == [first.id, second.id, third.id]
    assert [v.id for v in carers] == [second.id, third.id]
