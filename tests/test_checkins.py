"""Card check-ins, the services: a visit is counted only with the resident's PIN or the
centre's approval, once, and only for an exchange between the carer and the resident."""
from __future__ import annotations

import secrets
import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from carebank.audit.models import AuditEntry
from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.checkins import services as checkins
from carebank.checkins.models import CardCheckin, CheckinConsent, CheckinStatus
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.core.extensions import db
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Member, Role

PIN = "2468"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def visits(session) -> list[Transaction]:
    session.commit()
    return list(session.scalars(sa.select(Transaction).where(Transaction.kind == TransactionKind.VISIT)))


def checkin_count(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(CardCheckin))


@pytest.fixture
def world(session, make_member, make_exchange):
    """Carer Lee visits Resident Kim (an accepted exchange); Kim has a card and a PIN."""
    coordinator = make_member("Coordinator Park", role=Role.COORDINATOR)
    carer = make_member("Carer Lee")
    resident = make_member("Resident Kim")
    exchange = make_exchange(carer, resident, minutes=90)
    cards.set_pin(session, resident, PIN, coordinator)
    issued = cards.issue_card(session, resident, coordinator)
    session.commit()
    return SimpleNamespace(coordinator=coordinator, carer=carer, resident=resident, exchange=exchange,
                           card=issued.card, token=issued.token)


def pin_checkin(session, world, policy, *, pin=PIN, minutes=90, request_token=None, carer=None,
                exchange_id=None):
    return checkins.check_in_with_pin(
        session, carer or world.carer, world.token, exchange_id or world.exchange.id, minutes, pin,
        request_token or new_token(), policy)


def pending(session, world, policy, **fields):
    fields.setdefault("request_token", new_token())
    checkin = checkins.request_approval(session, world.carer, world.token, world.exchange.id, 60,
                                        fields["request_token"], "Kim has no PIN", policy=policy)
    session.commit()
    return checkin


def card_state(session, card) -> tuple[int, bool]:
    session.commit()
    session.refresh(card)
    return card.pin_failures, card.is_locked


# ---- with the resident's PIN ----------------------------------------------------------------


def test_pin_consent_moves_the_ledger_exactly_once(session, policy, world):
    checkin = pin_checkin(session, world, policy, minutes=90)
    session.commit()

    assert (checkin.status, checkin.consent) == (CheckinStatus.CONFIRMED, CheckinConsent.PIN)
    assert ledger.balance_of(session, world.carer.id) == 90
    assert ledger.balance_of(session, world.resident.id) == -90
    [visit] = visits(session)
    assert visit.id == checkin.transaction_id
    assert (visit.exchange_id, visit.created_by_id, visit.memo) == (world.exchange.id, world.carer.id, "Lunch together")
    assert checkin.decided_by_id == world.resident.id  # the resident consented
    assert ledger.verify(session) == []


def test_the_resident_can_be_the_one_who_gives(session, policy, make_member, make_exchange, world):
    # Kim reads to the carer's mother: the carer received, so the carer is debited.
    exchange = make_exchange(world.resident, world.carer, minutes=30)
    pin_checkin(session, world, policy, minutes=30, exchange_id=exchange.id)
    session.commit()
    assert ledger.balance_of(session, world.resident.id) == 30
    assert ledger.balance_of(session, world.carer.id) == -30


def test_retry_with_the_same_request_token_makes_no_second_transaction(session, policy, world):
    token = new_token()
    first = pin_checkin(session, world, policy, request_token=token)
    session.commit()
    again = pin_checkin(session, world, policy, request_token=token)
    session.commit()

    assert again.id == first.id
    assert len(visits(session)) == 1
    assert ledger.balance_of(session, world.carer.id) == 90


def test_a_retry_that_raced_the_first_send_returns_the_first_checkin(session, policy, world, monkeypatch):
    # The retry looked before the first send committed; the unique token stops its insert.
    token = new_token()
    first = pin_checkin(session, world, policy, request_token=token)
    session.commit()
    looked = []
    real_existing = checkins._existing

    def first_look_misses(*args):
        looked.append(args)
        return None if len(looked) == 1 else real_existing(*args)

    monkeypatch.setattr(checkins, "_existing", first_look_misses)
    again = pin_checkin(session, world, policy, request_token=token)
    session.commit()

    assert again.id == first.id and len(looked) == 2
    assert len(visits(session)) == 1 and ledger.verify(session) == []
    assert card_state(session, world.card) == (0, False)


def test_wrong_pin_counts_but_changes_nothing_in_the_ledger(session, policy, world):
    with pytest.raises(checkins.WrongPin) as raised:
        pin_checkin(session, world, policy, pin="1111")
    session.commit()  # what the view does: the failed try must stay counted

    assert str(raised.value.message) == "Wrong PIN. 4 tries left."
    assert raised.value.status == 400 and not raised.value.locked
    assert card_state(session, world.card) == (1, False)
    assert visits(session) == [] and checkin_count(session) == 0
    assert ledger.balance_of(session, world.carer.id) == 0
    assert ledger.verify(session) == []


def test_right_pin_resets_the_count_of_wrong_ones(session, policy, world):
    for _ in range(3):
        with pytest.raises(checkins.WrongPin):
            pin_checkin(session, world, policy, pin="0000")
        session.commit()
    pin_checkin(session, world, policy)
    assert card_state(session, world.card) == (0, False)


def test_five_wrong_pins_lock_the_card_even_for_the_right_pin_until_unlocked(session, policy, world):
    messages = []
    for _ in range(cards.MAX_PIN_FAILURES):
        with pytest.raises(checkins.WrongPin) as raised:
            pin_checkin(session, world, policy, pin="9999")
        session.commit()
        messages.append(str(raised.value.message))
    assert messages[-2:] == ["Wrong PIN. 1 try left.",
                             "Wrong PIN. The card is now locked; the centre can unlock it."]
    assert raised.value.locked and raised.value.status == 409
    assert card_state(session, world.card) == (5, True)

    with pytest.raises(Conflict) as refused:
        pin_checkin(session, world, policy)
    assert refused.value.code == "card_locked"
    session.rollback()
    assert visits(session) == []

    cards.unlock_card(session, world.card, world.coordinator)
    session.commit()
    pin_checkin(session, world, policy)
    session.commit()
    assert len(visits(session)) == 1


def test_a_pin_that_is_not_four_digits_is_not_counted(session, policy, world):
    with pytest.raises(ValidationFailed) as raised:
        pin_checkin(session, world, policy, pin="12")
    assert "pin" in raised.value.fields
    session.rollback()
    assert card_state(session, world.card) == (0, False)


def test_resident_without_a_pin_needs_the_centre(session, policy, world):
    cards.set_pin(session, world.resident, "", world.coordinator)
    session.commit()
    with pytest.raises(Conflict) as raised:
        pin_checkin(session, world, policy)
    assert raised.value.code == "no_pin"


def test_carer_who_is_not_a_party_cannot_use_the_card(session, policy, make_member, make_exchange, world):
    stranger = make_member("Stranger")
    with pytest.raises(NotAllowed):
        pin_checkin(session, world, policy, carer=stranger)
    session.rollback()
    # The carer's exchange with someone else is not an exchange with the card's member.
    other = make_exchange(world.carer, make_member("Someone else"))
    with pytest.raises(NotAllowed):
        pin_checkin(session, world, policy, exchange_id=other.id)
    session.rollback()
    assert checkins.agreed_exchanges(session, stranger, world.resident) == []
    assert visits(session) == [] and card_state(session, world.card) == (0, False)


def test_exchange_that_is_not_accepted_cannot_be_checked_in(session, policy, make_exchange, world):
    proposed = make_exchange(world.carer, world.resident, accepted=False)
    with pytest.raises(Conflict) as raised:
        pin_checkin(session, world, policy, exchange_id=proposed.id)
    assert raised.value.code == "exchange_not_accepted"


@pytest.mark.parametrize("stop", ["block", "replace"])
def test_blocked_or_replaced_card_is_refused(session, policy, world, stop):
    if stop == "block":
        cards.block_card(session, world.card, world.coordinator, "lost on the bus")
    else:
        cards.issue_card(session, world.resident, world.coordinator)
    session.commit()
    with pytest.raises(Conflict) as raised:
        pin_checkin(session, world, policy)
    assert raised.value.code == {"block": "card_blocked", "replace": "card_replaced"}[stop]
    session.rollback()
    with pytest.raises(Conflict):
        pending(session, world, policy)


def test_unknown_card_is_not_found(session, policy, world):
    with pytest.raises(NotFound):
        checkins.check_in_with_pin(session, world.carer, "0" * 26, world.exchange.id, 60, PIN,
                                   new_token(), policy)


# ---- with the centre's approval -------------------------------------------------------------


def test_approval_request_waits_and_moves_nothing(session, policy, world):
    checkin = pending(session, world, policy)
    assert (checkin.status, checkin.consent) == (CheckinStatus.PENDING, CheckinConsent.COORDINATOR)
    assert checkin.note == "Kim has no PIN" and checkin.transaction_id is None
    assert visits(session) == []
    assert checkins.pending_checkins(session, world.coordinator) == [checkin]


def test_coordinator_approval_moves_the_ledger_and_is_audited(session, policy, world):
    checkin = pending(session, world, policy)
    checkins.approve(session, world.coordinator, checkin.id, policy)
    session.commit()

    [visit] = visits(session)
    assert checkin.status is CheckinStatus.CONFIRMED and checkin.transaction_id == visit.id
    assert checkin.decided_by_id == world.coordinator.id and visit.created_by_id == world.coordinator.id
    assert ledger.balance_of(session, world.carer.id) == 60
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "checkin.approve"))
    assert (entry.actor_id, entry.member_id, entry.exchange_id, entry.transaction_id) == (
        world.coordinator.id, world.resident.id, world.exchange.id, visit.id)
    assert checkins.pending_checkins(session, world.coordinator) == []
    assert ledger.verify(session) == []


def test_rejection_needs_a_reason_moves_nothing_and_is_audited(session, policy, world):
    checkin = pending(session, world, policy)
    with pytest.raises(ValidationFailed):
        checkins.reject(session, world.coordinator, checkin.id, "  ")
    session.rollback()
    checkins.reject(session, world.coordinator, checkin.id, "Kim says the visit was cancelled")
    session.commit()

    assert checkin.status is CheckinStatus.REJECTED and visits(session) == []
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "checkin.reject"))
    assert entry.reason == "Kim says the visit was cancelled" and entry.member_id == world.resident.id


def test_a_decided_checkin_cannot_be_decided_again(session, policy, world):
    checkin = pending(session, world, policy)
    checkins.approve(session, world.coordinator, checkin.id, policy)
    session.commit()
    for decide in (lambda: checkins.approve(session, world.coordinator, checkin.id, policy),
                   lambda: checkins.reject(session, world.coordinator, checkin.id, "no")):
        with pytest.raises(Conflict) as raised:
            decide()
        assert raised.value.code == "checkin_decided"
        session.rollback()
    assert len(visits(session)) == 1


def test_coordinator_of_another_centre_cannot_see_or_decide(session, policy, make_centre, make_member, world):
    elsewhere = make_member("Coordinator Choi", role=Role.COORDINATOR, centre_id=make_centre("Other").id)
    checkin = pending(session, world, policy)
    assert checkins.pending_checkins(session, elsewhere) == []
    for decide in (lambda: checkins.approve(session, elsewhere, checkin.id, policy),
                   lambda: checkins.reject(session, elsewhere, checkin.id, "no")):
        with pytest.raises(NotFound):
            decide()
        session.rollback()
    admin = make_member("Admin", role=Role.ADMIN, centre_id=None)
    assert checkins.pending_checkins(session, admin) == [checkin]


def test_coordinator_cannot_approve_a_visit_they_are_part_of(session, policy, make_member, make_exchange, world):
    world.carer = make_member("Coordinator carer", role=Role.COORDINATOR)
    world.exchange = make_exchange(world.carer, world.resident)
    checkin = pending(session, world, policy)
    with pytest.raises(NotAllowed):
        checkins.approve(session, world.carer, checkin.id, policy)


def test_member_cannot_list_or_decide_checkins(session, policy, world):
    checkin = pending(session, world, policy)
    with pytest.raises(NotAllowed):
        checkins.pending_checkins(session, world.carer)
    with pytest.raises(NotAllowed):
        checkins.approve(session, world.carer, checkin.id, policy)


def test_pending_checkins_are_listed_oldest_first(session, policy, world):
    first = pending(session, world, policy)
    second = pending(session, world, policy)
    assert checkins.pending_checkins(session, world.coordinator) == [first, second]


# ---- races ----------------------------------------------------------------------------------


def run_at_once(app, count, work):
    """Run work(session, i) in `count` threads released together, each with its own session;
    the result or the raised error of each, in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        with app.app_context():
            own = db.sessionmaker()
            try:
                barrier.wait()
                results[i] = work(own, i)
                own.commit()
            except Exception as error:  # reported to the test, thread by thread
                own.rollback()
                results[i] = error
            finally:
                own.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_concurrent_approvals_make_exactly_one_transaction(app, session, policy, make_member, world):
    colleague = make_member("Coordinator Jung", role=Role.COORDINATOR)
    checkin_id = pending(session, world, policy).id
    ids = [world.coordinator.id, colleague.id]  # read here: threads must not touch the test's session

    def approve(own, i):
        return checkins.approve(own, own.get(Member, ids[i]), checkin_id, policy).id

    results = run_at_once(app, 2, approve)

    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"], results
    assert len(visits(session)) == 1
    assert ledger.balance_of(session, world.carer.id) == 60
    assert ledger.verify(session) == []


def test_double_tap_with_one_request_token_makes_one_transaction(app, session, policy, world):
    token, carer_id, exchange_id = new_token(), world.carer.id, world.exchange.id

    def tap(own, _i):
        carer = own.get(Member, carer_id)
        return checkins.check_in_with_pin(own, carer, world.token, exchange_id, 90, PIN, token, policy).id

    results = run_at_once(app, 2, tap)

    assert all(isinstance(r, int) for r in results) and results[0] == results[1], results
    assert len(visits(session)) == 1 and checkin_count(session) == 1
    assert ledger.balance_of(session, world.carer.id) == 90


def test_wrong_pins_at_once_never_test_more_than_the_limit(app, session, policy, world):
    carer_id, exchange_id = world.carer.id, world.exchange.id

    def guess(own, i):
        carer = own.get(Member, carer_id)
        try:
            return checkins.check_in_with_pin(own, carer, world.token, exchange_id, 60,
                                              f"{1000 + i}", new_token(), policy)
        except checkins.WrongPin as error:
            own.commit()  # as the view does
            return error

    results = run_at_once(app, 8, guess)

    wrong = [r for r in results if isinstance(r, checkins.WrongPin)]
    refused = [r for r in results if isinstance(r, Conflict) and r.code == "card_locked"]
    assert len(wrong) == cards.MAX_PIN_FAILURES and len(refused) == 3, results
    assert card_state(session, world.card) == (5, True)
    assert session.scalar(sa.select(MemberCard.locked_at).where(MemberCard.id == world.card.id)) is not None
    assert visits(session) == []
