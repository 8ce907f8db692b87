"""Real concurrent requests against the app served by its own process on loopback: threads
and separate processes, each a logged-in phone, released at the same instant.

Unlike test_concurrency.py (threads through the test client, inside this process), these go
through sockets, the threaded server and separate interpreters, as production requests do.
"""
import pytest
import sqlalchemy as sa
from conftest import PASSWORD, balance
from livesrv import Client, LiveServer, fire_processes, fire_threads

from carebank.confirmations import services as confirmations
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.posts.models import Post, PostStatus

THREADS = 16
PROCESSES, REQUESTS_PER_PROCESS = 4, 4
ACCEPTS = 8


@pytest.fixture
def live(app, database_url, tmp_path):
    """The app in its own process, on the test's database (emptied by `app` first)."""
    with LiveServer(database_url, tmp_path / "server.log") as server:
        yield server


def phone(live, member) -> Client:
    return Client(live.url).login(member.email, PASSWORD)


def count_of(session, kind: TransactionKind) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction).where(Transaction.kind == kind))


def test_one_code_sent_by_16_threads_pays_exactly_once(live, session, policy, make_exchange):
    exchange = make_exchange(minutes=60)
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    session.commit()
    receiver = phone(live, exchange.receiver)

    answers = fire_threads([receiver.clone() for _ in range(THREADS)], "/api/v1/confirmations",
                           [{"code": token}] * THREADS)

    assert sorted(status for status, _ in answers) == [200] * (THREADS - 1) + [201], answers
    assert len({body["transaction"]["id"] for _, body in answers}) == 1
    assert count_of(session, TransactionKind.VISIT) == 1
    assert (balance(session, exchange.provider_id), balance(session, exchange.receiver_id)) == (60, -60)
    assert ledger.verify(session) == []


def test_gifts_from_four_processes_stop_exactly_at_zero(live, session, policy, make_member, earn):
    # Recipients on both sides of the giver's account id: lock order is exercised both ways.
    before, giver, after = make_member("Before"), make_member("Giver"), make_member("After")
    earn(giver, 1200)  # what four of the sixteen gifts take
    payloads = [[{"to_member_id": (before, after)[(p + i) % 2].id, "minutes": 300}
                 for i in range(REQUESTS_PER_PROCESS)] for p in range(PROCESSES)]

    answers = [a for process in fire_processes(phone(live, giver), "/api/v1/transfers", payloads)
               for a in process]

    statuses = [status for status, _ in answers]
    assert set(statuses) <= {201, 409}, answers
    assert statuses.count(201) * 300 == 1200
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"insufficient_balance"}
    assert balance(session, giver) == 0
    assert balance(session, before) + balance(session, after) == 1200
    assert ledger.verify(session) == []


def test_parallel_accepts_of_one_response_accept_it_once(live, session, make_exchange):
    exchange = make_exchange(accepted=False)
    owner = phone(live, exchange.receiver)  # the need's poster answers the response

    answers = fire_threads([owner.clone() for _ in range(ACCEPTS)],
                           f"/api/v1/exchanges/{exchange.id}/accept", [None] * ACCEPTS)

    assert sorted(status for status, _ in answers) == [200] + [409] * (ACCEPTS - 1), answers
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"already_decided"}
    session.commit()
    decided = session.get(Exchange, exchange.id)
    assert decided.status is ExchangeStatus.ACCEPTED and decided.decided_at is not None
    assert session.get(Post, decided.post_id).status is PostStatus.MATCHED
    assert ledger.verify(session) == []


def test_accept_and_decline_at_once_only_one_answer_counts(live, session, make_exchange):
    exchange = make_exchange(accepted=False)
    owner = phone(live, exchange.receiver)
    actions = ["accept", "decline"] * (ACCEPTS // 2)

    answers = fire_threads([owner.clone() for _ in actions],
                           [f"/api/v1/exchanges/{exchange.id}/{a}" for a in actions], [None] * ACCEPTS)

    winners = [action for action, (status, _) in zip(actions, answers, strict=True) if status == 200]
    assert len(winners) == 1 and sum(status == 409 for status, _ in answers) == ACCEPTS - 1, answers
    session.commit()
    final = session.get(Exchange, exchange.id).status
    assert final is (ExchangeStatus.ACCEPTED if winners == ["accept"] else ExchangeStatus.DECLINED)

