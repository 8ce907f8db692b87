"""Visits racing through the real app: one visit, one transaction, whatever arrives at once —
double taps, two devices, the receiver and the centre, an offline queue flushing twice.

Each thread has its own test client and is released by a barrier (conftest's `race`). Run on
PostgreSQL too: CAREBANK_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test."""
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import logged_in_clients, race

from carebank.core import idempotency
from carebank.core.database import utcnow
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.visits.models import Visit, VisitStatus

THREADS = 8


def visit_transactions(session) -> list[int]:
    session.commit()
    return list(session.scalars(sa.select(Transaction.id).where(Transaction.kind == TransactionKind.VISIT)))


def add_visit(session, exchange, status=VisitStatus.SCHEDULED, **fields) -> Visit:
    now = utcnow()
    visit = Visit(exchange_id=exchange.id, starts_at=now - timedelta(minutes=65), minutes=60, status=status, **fields)
    session.add(visit)
    session.commit()
    return visit


def checked_out(session, exchange) -> Visit:
    now = utcnow()
    return add_visit(session, exchange, VisitStatus.CHECKED_OUT, checked_in_at=now - timedelta(minutes=60),
                     checked_in_by_id=exchange.provider_id, checked_out_at=now,
                     checked_out_by_id=exchange.provider_id)


@pytest.mark.parametrize("threads", [2, THREADS])
def test_concurrent_confirmations_from_two_devices_credit_the_visit_once(
        app, session, make_exchange, coordinator, threads):
    # The resident's phone and the centre's console, each tapping several times.
    exchange = make_exchange(minutes=60)
    provider_id, receiver_id = exchange.provider_id, exchange.receiver_id
    visit = checked_out(session, exchange)
    clients = (logged_in_clients(app, exchange.receiver, threads // 2)
               + logged_in_clients(app, coordinator, threads - threads // 2))

    answers = race(app, session, clients, f"/api/v1/visits/{visit.id}/confirm", [{"minutes": 60}] * threads)

    assert sorted(status for status, _ in answers) == [200] + [409] * (threads - 1), answers
    assert {body["error"]["code"] for status, body in answers if status == 409} == {"visit_confirmed"}
    [transaction_id] = visit_transactions(session)
    [winner] = [body["visit"] for status, body in answers if status == 200]
    assert winner["transaction_id"] == transaction_id
    session.refresh(visit)
    assert (visit.status, visit.transaction_id, visit.confirmed_minutes) == (
        VisitStatus.CREDITED, transaction_id, 60)
    assert (ledger.balance_of(session, provider_id), ledger.balance_of(session, receiver_id)) == (60, -60)
    assert ledger.verify(session) == []


def test_an_offline_queue_flushing_one_confirmation_at_once_gets_one_answer(app, session, make_exchange):
    exchange = make_exchange(minutes=60)
    visit = checked_out(session, exchange)
    clients = logged_in_clients(app, exchange.receiver, THREADS)

    answers = race(app, session, clients, f"/api/v1/visits/{visit.id}/confirm", [{"minutes": 60}] * THREADS,
                   headers={idempotency.HEADER: str(uuid.uuid4())})

    assert [status for status, _ in answers] == [200] * THREADS, answers
    assert len({str(body) for _, body in answers}) == 1
    assert len(visit_transactions(session)) == 1
    assert ledger.balance_of(session, exchange.receiver_id) == -60


def test_concurrent_check_ins_check_in_once(app, session, make_exchange):
    exchange = make_exchange(minutes=60)
    visit = add_visit(session, exchange)
    clients = logged_in_clients(app, exchange.provider, THREADS)

    answers = race(app, session, clients, f"/api/v1/visits/{visit.id}/check-in", [{}] * THREADS)

    assert sorted(status for status, _ in answers) == [200] + [409] * (THREADS - 1), answers
    session.refresh(visit)
    assert visit.status is VisitStatus.CHECKED_IN
