"""The time ledger: balanced, append-only, floors that hold, corrections by reversal."""
import pytest
import sqlalchemy as sa
from conftest import balance

from carebank.confirmations import services as confirmations
from carebank.core.errors import Conflict, InsufficientBalance, NotAllowed, NotFound, ValidationFailed
from carebank.ledger import services as ledger
from carebank.ledger.models import Account, Posting, Transaction, TransactionKind
from carebank.members.models import Role


def posting_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Posting))



def pool_balance(session) -> int:
    return ledger.pool_account(session).balance_minutes


def confirmed_visit(session, policy, exchange, minutes=60):
    """The provider shows a code and the receiver redeems it."""
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, minutes, policy)
    transaction, _ = confirmations.redeem(session, exchange.receiver, token, policy)
    session.commit()
    return transaction


def credited_visit(session, policy, exchange, minutes, memo=""):
    """The visit's minutes move straight through the ledger (any amount, no code)."""
    return ledger.credit_visit(session, exchange.provider_id, exchange.receiver_id, minutes,
                               exchange_id=exchange.id, created_by_id=exchange.receiver_id,
                               policy=policy, memo=memo)


@pytest.fixture
def fill_pool(session, policy, make_member, earn):
    """A member earns the minutes and donates them to the community pool."""

    def fill(minutes):
        donor = make_member("Donor")
        earn(donor, minutes)
        ledger.donate_to_pool(session, donor, minutes, "", policy)

    return fill


# --- balance and soundness ---------------------------------------------------------------


def test_every_transaction_balances_after_a_mix_of_operations(
    session, policy, make_member, make_exchange, coordinator
):
    alice, bora = make_member("Alice"), make_member("Bora")
    visit = confirmed_visit(session, policy, make_exchange(alice, bora), 60)
    ledger.gift(session, alice, bora.id, 30, "thanks", policy)
    ledger.donate_to_pool(session, alice, 20, "", policy)
    ledger.grant_from_pool(session, coordinator, alice.id, 10, "winter help", policy)
    ledger.reverse(session, coordinator, visit.id, "entered twice")
    session.commit()

    sums = session.execute(
        sa.select(Posting.transaction_id, sa.func.sum(Posting.minutes)).group_by(Posting.transaction_id)
    ).all()
    assert len(sums) == 5
    assert all(total == 0 for _, total in sums)
    assert ledger.verify(session) == []


def test_new_member_starts_at_zero(session, make_member):
    assert balance(session, make_member()) == 0


def test_unbalanced_moves_are_refused_before_anything_is_written(session, make_member):
    alice = make_member()
    account = ledger.account_of(session, alice.id)
    pool = ledger.pool_account(session)
    with pytest.raises(ValueError):
        ledger.record_transaction(session, TransactionKind.GIFT, [
            ledger.Move(account.id, -10, None), ledger.Move(pool.id, 5, None),
        ])
    assert posting_count(session) == 0


# --- gifts -------------------------------------------------------------------------------


def test_gift_moves_minutes_and_shows_in_both_histories(session, policy, make_member, earn):
    alice, bora = make_member("Alice"), make_member("Bora")
    earn(alice, 100)
    transaction = ledger.gift(session, alice, bora.id, 90, "  for the soup  ", policy)
    session.commit()

    assert (balance(session, alice), balance(session, bora)) == (10, 90)
    assert transaction.kind is TransactionKind.GIFT and transaction.created_by_id == alice.id
    sent, _earned = ledger.history(session, alice.id)
    [received] = ledger.history(session, bora.id)
    assert (sent.minutes, sent.counterparty_id, sent.counterparty_name) == (-90, bora.id, "Bora")
    assert (received.minutes, received.counterparty_id, received.memo) == (90, alice.id, "for the soup")


def test_history_is_newest_first_with_signed_minutes(session, policy, make_member, earn):
    alice, bora = make_member("Alice"), make_member("Bora")
    earned = earn(alice, 10)
    earn(bora, 25)
    first = ledger.gift(session, alice, bora.id, 10, "first", policy)
    second = ledger.gift(session, bora, alice.id, 25, "second", policy)
    third = ledger.gift(session, alice, bora.id, 5, "third", policy)
    session.commit()

    entries = ledger.history(session, alice.id)
    assert [e.transaction_id for e in entries] == [third.id, second.id, first.id, earned.id]
    assert [e.minutes for e in entries] == [-5, 25, -10, 10]
    assert [e.memo for e in entries] == ["third", "second", "first", ""]


def test_history_of_a_donation_has_no_member_counterparty(session, policy, make_member, earn):
    alice = make_member()
    earn(alice, 15)
    ledger.donate_to_pool(session, alice, 15, "", policy)
    entry = ledger.history(session, alice.id)[0]
    assert (entry.kind, entry.minutes, entry.counterparty_id) == (TransactionKind.DONATION, -15, None)


def test_gift_to_self_is_refused(session, policy, make_member):
    alice = make_member()
    with pytest.raises(ValidationFailed) as refused:
        ledger.gift(session, alice, alice.id, 30, "", policy)
    assert refused.value.code == "self_transfer"
    assert posting_count(session) == 0


def test_gift_to_unknown_member_is_not_found(session, policy, make_member):
    alice = make_member()
    with pytest.raises(NotFound):
        ledger.gift(session, alice, alice.id + 999, 30, "", policy)
    assert posting_count(session) == 0


@pytest.mark.parametrize("minutes", [0, -5, 1441, 1.5, "60", True, None])
def test_gift_of_invalid_minutes_is_refused_and_writes_nothing(session, policy, make_member, minutes):
    alice, bora = make_member(), make_member()
    with pytest.raises(ValidationFailed) as refused:
        ledger.gift(session, alice, bora.id, minutes, "", policy)
    assert "minutes" in refused.value.fields
    session.commit()
    assert posting_count(session) == 0
    assert (balance(session, alice), balance(session, bora)) == (0, 0)


def test_gift_of_the_largest_allowed_transfer_is_accepted(session, policy, make_member, earn):
    alice, bora = make_member(), make_member()
    earn(alice, 1200)
    earn(alice, 240)  # exactly the largest transfer, no more
    ledger.gift(session, alice, bora.id, policy.max_minutes, "", policy)
    assert balance(session, bora) == policy.max_minutes == 1440


def test_gift_memo_longer_than_200_characters_is_refused(session, policy, make_member):
    alice, bora = make_member(), make_member()
    with pytest.raises(ValidationFailed) as refused:
        ledger.gift(session, alice, bora.id, 10, "x" * 201, policy)
    assert "memo" in refused.value.fields
    assert posting_count(session) == 0


# --- the balance floor -------------------------------------------------------------------


def test_member_can_receive_care_down_exactly_to_the_floor(session, policy, make_member, make_exchange):
    alice, bora = make_member(), make_member()
    credited_visit(session, policy, make_exchange(bora, alice), 1200)
    session.commit()
    assert balance(session, alice) == policy.min_balance_minutes == -1200


def test_member_cannot_receive_care_one_minute_below_the_floor(session, policy, make_member, make_exchange):
    alice, bora = make_member(), make_member()
    exchange = make_exchange(bora, alice)
    with pytest.raises(InsufficientBalance) as refused:
        credited_visit(session, policy, exchange, 1201)
    assert refused.value.code == "insufficient_balance"
    assert refused.value.floor_minutes == policy.min_balance_minutes
    session.commit()
    assert (balance(session, alice), balance(session, bora)) == (0, 0)
    assert posting_count(session) == 0


def test_member_can_give_exactly_what_they_have(session, policy, make_member, earn):
    alice, bora = make_member(), make_member()
    earn(alice, 90)
    ledger.gift(session, alice, bora.id, 90, "", policy)
    session.commit()
    assert (balance(session, alice), balance(session, bora)) == (0, 90)


def test_member_at_zero_cannot_give_one_more_minute(session, policy, make_member, earn):
    alice, bora = make_member(), make_member()
    earn(alice, 90)
    ledger.gift(session, alice, bora.id, 90, "", policy)
    session.commit()
    with pytest.raises(InsufficientBalance) as refused:
        ledger.gift(session, alice, bora.id, 1, "", policy)
    assert refused.value.floor_minutes == 0
    session.commit()
    assert (balance(session, alice), balance(session, bora)) == (0, 90)
    assert posting_count(session) == 4  # the earning visit and the gift


def test_donation_spends_only_time_the_member_has(session, policy, make_member, earn):
    alice = make_member()
    earn(alice, 10)
    with pytest.raises(InsufficientBalance):
        ledger.donate_to_pool(session, alice, 11, "", policy)
    assert balance(session, alice) == 10 and pool_balance(session) == 0


# --- the community pool ------------------------------------------------------------------


def test_donation_moves_minutes_into_the_pool(session, policy, make_member, earn):
    alice = make_member()
    earn(alice, 50)
    transaction = ledger.donate_to_pool(session, alice, 40, "for neighbours", policy)
    session.commit()
    assert (balance(session, alice), pool_balance(session)) == (10, 40)
    assert transaction.kind is TransactionKind.DONATION and transaction.memo == "for neighbours"


def test_coordinator_grants_from_the_pool(session, policy, make_member, coordinator, fill_pool):
    fill_pool(100)
    elder = make_member("Elder")
    transaction = ledger.grant_from_pool(session, coordinator, elder.id, 60, "winter help", policy)
    session.commit()
    assert (balance(session, elder), pool_balance(session)) == (60, 40)
    assert transaction.kind is TransactionKind.GRANT and transaction.created_by_id == coordinator.id


def test_admin_can_grant_too(session, policy, make_member, fill_pool):
    fill_pool(10)
    admin, elder = make_member(role=Role.ADMIN), make_member()
    ledger.grant_from_pool(session, admin, elder.id, 10, "winter help", policy)
    assert balance(session, elder) == 10


def test_plain_member_cannot_grant(session, policy, make_member, fill_pool):
    fill_pool(100)
    alice = make_member()
    with pytest.raises(NotAllowed):
        ledger.grant_from_pool(session, alice, alice.id, 30, "winter help", policy)
    assert (balance(session, alice), pool_balance(session)) == (0, 100)


def test_pool_cannot_go_below_zero(session, policy, make_member, coordinator, fill_pool):
    fill_pool(30)
    elder = make_member()
    with pytest.raises(InsufficientBalance):
        ledger.grant_from_pool(session, coordinator, elder.id, 31, "winter help", policy)
    session.commit()
    assert (balance(session, elder), pool_balance(session)) == (0, 30)


def test_grant_to_unknown_member_is_not_found(session, policy, make_member, coordinator, fill_pool):
    fill_pool(30)
    with pytest.raises(NotFound):
        ledger.grant_from_pool(session, coordinator, coordinator.id + 999, 10, "winter help", policy)
    assert pool_balance(session) == 30


# --- reversals ---------------------------------------------------------------------------


def test_reversal_restores_both_balances_and_links_the_original(
    session, policy, make_member, coordinator, earn
):
    alice, bora = make_member(), make_member()
    earn(alice, 50)
    original = ledger.gift(session, alice, bora.id, 50, "", policy)
    reversal = ledger.reverse(session, coordinator, original.id, "sent by mistake")
    session.commit()

    assert (balance(session, alice), balance(session, bora)) == (50, 0)
    assert reversal.kind is TransactionKind.REVERSAL and reversal.reverses_id == original.id
    assert reversal.memo == "sent by mistake" and reversal.created_by_id == coordinator.id
    assert ledger.verify(session) == []


def test_reversal_of_a_visit_keeps_the_exchange_link(session, policy, make_exchange, coordinator):
    exchange = make_exchange(minutes=60)
    visit = confirmed_visit(session, policy, exchange)
    reversal = ledger.reverse(session, coordinator, visit.id, "entered by mistake")
    assert reversal.exchange_id == exchange.id


def test_reversal_may_take_a_member_below_the_floor(
    session, policy, make_member, make_exchange, coordinator, earn
):
    # A correction must be possible even after the credited member spent the minutes.
    alice, bora, chul = make_member(), make_member(), make_member()
    earn(alice, 100)
    credited_visit(session, policy, make_exchange(chul, bora), 1200)
    original = ledger.gift(session, alice, bora.id, 100, "", policy)
    credited_visit(session, policy, make_exchange(chul, bora), 100)  # spent on more care
    ledger.reverse(session, coordinator, original.id, "entered by mistake")
    session.commit()
    assert balance(session, bora) == -1300
    assert ledger.verify(session) == []


def test_transaction_cannot_be_reversed_twice(session, policy, make_member, coordinator, earn):
    alice, bora = make_member(), make_member()
    earn(alice, 50)
    original = ledger.gift(session, alice, bora.id, 50, "", policy)
    ledger.reverse(session, coordinator, original.id, "entered by mistake")
    session.commit()
    with pytest.raises(Conflict) as refused:
        ledger.reverse(session, coordinator, original.id, "entered by mistake")
    assert refused.value.code == "already_reversed"
    assert balance(session, alice) == 50 and posting_count(session) == 6


def test_reversal_cannot_be_reversed(session, policy, make_member, coordinator, earn):
    alice, bora = make_member(), make_member()
    earn(alice, 50)
    reversal = ledger.reverse(session, coordinator, ledger.gift(session, alice, bora.id, 50, "", policy).id, "sent twice")
    with pytest.raises(ValidationFailed):
        ledger.reverse(session, coordinator, reversal.id, "entered by mistake")
    assert posting_count(session) == 6


def test_member_cannot_reverse(session, policy, make_member, earn):
    alice, bora = make_member(), make_member()
    earn(alice, 50)
    original = ledger.gift(session, alice, bora.id, 50, "", policy)
    with pytest.raises(NotAllowed):
        ledger.reverse(session, alice, original.id, "entered by mistake")
    assert balance(session, alice) == 0


def test_reversing_an_unknown_transaction_is_not_found(session, coordinator):
    with pytest.raises(NotFound):
        ledger.reverse(session, coordinator, 999_999, "entered by mistake")


# --- append-only storage -----------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE postings SET minutes = minutes * 2",
    "DELETE FROM postings",
    "UPDATE ledger_transactions SET memo = 'rewritten'",
    "DELETE FROM ledger_transactions",
])
def test_database_refuses_to_change_recorded_time(session, policy, make_exchange, statement):
    credited_visit(session, policy, make_exchange(), 50, memo="original")
    session.commit()

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        session.execute(sa.text(statement))
    session.rollback()

    assert session.scalars(sa.select(Posting.minutes).order_by(Posting.id)).all() == [-50, 50]
    assert session.scalars(sa.select(Transaction.memo)).all() == ["original"]


def test_verify_reports_a_tampered_cached_balance(session, policy, make_member, make_exchange):
    alice, bora = make_member(), make_member()
    credited_visit(session, policy, make_exchange(bora, alice), 50)
    session.commit()
    bora_account = ledger.account_of(session, bora.id)

    session.execute(sa.text("UPDATE accounts SET balance_minutes = 500 WHERE id = :id"),
                    {"id": bora_account.id})
    problems = ledger.verify(session)

    assert problems == [f"account {bora_account.id}: cached balance 500 but postings sum to 50"]


def test_verify_reports_a_missing_pool(session):
    session.execute(sa.delete(Account).where(Account.kind == "pool"))
    assert ledger.verify(session) == ["0 community pool accounts, expected exactly 1"]


# --- visit statistics --------------------------------------------------------------------


def test_given_and_received_counts_visits_only(
    session, policy, make_member, make_exchange, coordinator
):
    alice, bora, chul = make_member(), make_member(), make_member()
    confirmed_visit(session, policy, make_exchange(alice, bora), 60)
    confirmed_visit(session, policy, make_exchange(bora, alice), 15)
    ledger.gift(session, alice, bora.id, 30, "", policy)
    ledger.donate_to_pool(session, alice, 10, "", policy)
    ledger.grant_from_pool(session, coordinator, bora.id, 5, "winter help", policy)
    session.commit()

    counted = ledger.given_and_received(session, [alice.id, bora.id, chul.id])

    assert counted == {alice.id: (60, 15), bora.id: (15, 60), chul.id: (0, 0)}


def test_given_and_received_leaves_out_reversed_visits(
    session, policy, make_member, make_exchange, coordinator
):
    alice, bora = make_member(), make_member()
    visit = confirmed_visit(session, policy, make_exchange(alice, bora), 60)
    confirmed_visit(session, policy, make_exchange(alice, bora), 20)
    ledger.reverse(session, coordinator, visit.id, "never happened")
    session.commit()

    assert ledger.given_and_received(session, [alice.id, bora.id]) == {
        alice.id: (20, 0), bora.id: (0, 20),
    }


def test_given_and_received_of_nobody_is_empty(session):
    assert ledger.given_and_received(session, []) == {}


def test_reversing_a_gift_leaves_the_visit_totals_alone(
    session, policy, make_member, make_exchange, coordinator
):
    alice, bora = make_member(), make_member()
    confirmed_visit(session, policy, make_exchange(alice, bora), 45)
    gift = ledger.gift(session, alice, bora.id, 30, "", policy)
    ledger.reverse(session, coordinator, gift.id, "sent twice")
    session.commit()

    assert ledger.given_and_received(session, [alice.id, bora.id]) == {
        alice.id: (45, 0), bora.id: (0, 45),
    }
    assert ledger.verify(session) == []


def test_verify_reports_tampered_visit_totals(session, policy, make_member, make_exchange):
    alice, bora = make_member(), make_member()
    confirmed_visit(session, policy, make_exchange(alice, bora), 60)
    session.commit()
    account = ledger.account_of(session, alice.id)

    session.execute(sa.text("UPDATE accounts SET given_minutes = 600 WHERE id = :id"), {"id": account.id})

    assert ledger.verify(session) == [
        f"account {account.id}: cached visit totals given 600 / received 0 but postings say 60 / 0"
    ]
