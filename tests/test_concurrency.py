"""Requests racing each other through the real app: a code pays once, a balance holds.

Each thread has its own test client (its own cookies, and its own app context and database
session per request), and all of them are released at the same moment by a barrier.
"""
import pytest
import sqlalchemy as sa
from conftest import logged_in_clients, race

from carebank.confirmations import services as confirmations
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind

THREADS = 8


def visit_count(session) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(Transaction).where(Transaction.kind == TransactionKind.VISIT)
    )


@pytest.mark.parametrize("threads", [2, THREADS])
def test_same_code_redeemed_at_once_pays_exactly_once(app, session, policy, make_exchange, threads):
    exchange = make_exchange(minutes=60)
    provider_id, receiver_id = exchange.provider_id, exchange.receiver_id
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    clients = logged_in_clients(app, exchange.receiver, threads)

    answers = race(app, session, clients, "/api/v1/confirmations", [{"code": token}] * threads)

    assert all(status in (200, 201) for status, _ in answers), answers
    assert sorted(status for status, _ in answers) == [200] * (threads - 1) + [201]
    assert len({body["transaction"]["id"] for _, body in answers}) == 1
    assert visit_count(session) == 1
    assert (ledger.balance_of(session, provider_id), ledger.balance_of(session, receiver_id)) == (60, -60)
    assert ledger.verify(session) == []


def test_concurrent_gifts_never_give_more_than_the_giver_has(app, session, policy, make_member, earn):
    # Recipients on both sides of the giver's account id, so lock order is exercised both ways.
    before = make_member("Before")
    giver = make_member("Giver")
    after = make_member("After")
    earn(giver, 1200)
    clients = logged_in_clients(app, giver, THREADS)
    payloads = [{"to_member_id": (before, after)[i % 2].id, "minutes": 300} for i in range(THREADS)]

    answers = race(app, session, clients, "/api/v1/transfers", payloads)

    assert all(status in (201, 409) for status, _ in answers), answers
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 4 + [409] * (THREADS - 4), answers
    refused = [body["error"]["code"] for status, body in answers if status == 409]
    assert set(refused) == {"insufficient_balance"}
    assert ledger.balance_of(session, giver.id) == 0
    assert ledger.balance_of(session, before.id) + ledger.balance_of(session, after.id) == 1200
    assert ledger.verify(session) == []


def test_opposite_gifts_at_once_all_go_through(app, session, make_member, earn):
    # Two members giving to each other at the same moment must not deadlock.
    alice, bora = make_member("Alice"), make_member("Bora")
    earn(alice, 100)
    earn(bora, 100)
    half = THREADS // 2
    clients = logged_in_clients(app, alice, half) + logged_in_clients(app, bora, half)
    payloads = [{"to_member_id": bora.id, "minutes": 10}] * half + \
               [{"to_member_id": alice.id, "minutes": 25}] * half

    answers = race(app, session, clients, "/api/v1/transfers", payloads)

    assert [status for status, _ in answers] == [201] * THREADS, answers
    assert ledger.balance_of(session, alice.id) == 100 + half * (25 - 10)
    assert ledger.balance_of(session, bora.id) == 100 + half * (10 - 25)
    assert ledger.verify(session) == []
