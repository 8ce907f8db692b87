"""The demo tells a believable month: its history is spread over the past five weeks at the
hours people keep, in the order it happened, and the ledger's chain still verifies."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest
import sqlalchemy as sa

from carebank.core.database import utcnow
from carebank.exchanges.models import Exchange
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Member
from carebank.messages.models import ExchangeMessage
from carebank.posts.models import Post

SEOUL = timezone(timedelta(hours=9))


def invoke(app, session, *args):
    session.commit()  # the command runs beside the test's session: hold no lock it waits for
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def demo(app, session):
    result = invoke(app, session, "demo")
    assert result.exit_code == 0, result.output
    return utcnow()


def _moments(session, column) -> list:
    return list(session.scalars(sa.select(column).order_by(column)))


@pytest.mark.parametrize("column", [Transaction.created_at, ExchangeMessage.created_at, Post.created_at,
                                    Exchange.created_at, Member.created_at])
def test_demo_history_spreads_over_past_weeks(demo, session, column):
    moments = _moments(session, column)
    assert len(moments) >= 2
    assert all(moment <= demo for moment in moments)
    assert demo - moments[0] >= timedelta(days=21 if column is not Exchange.created_at else 28)
    assert len({m.replace(second=0, microsecond=0) for m in moments}) > len(moments) // 2


def test_demo_visits_each_have_their_own_time_at_a_waking_hour(demo, session):
    visits = list(session.scalars(sa.select(Transaction.created_at)
                                  .where(Transaction.kind == TransactionKind.VISIT)))
    minutes = {v.replace(second=0, microsecond=0) for v in visits}
    assert len(minutes) == len(visits) >= 5  # never every visit in the same minute
    assert len({v.astimezone(SEOUL).date() for v in visits}) >= 5
    assert all(8 <= v.astimezone(SEOUL).hour < 21 for v in visits)
    assert max(visits) - min(visits) >= timedelta(days=21)


def test_demo_weekly_chat_is_on_thursdays(demo, session):
    weekly = session.execute(
        sa.select(Transaction.exchange_id, sa.func.count()).where(Transaction.kind == TransactionKind.VISIT)
        .group_by(Transaction.exchange_id).order_by(sa.func.count().desc())
    ).first()
    moments = session.scalars(sa.select(Transaction.created_at).where(Transaction.exchange_id == weekly[0]))
    assert {m.astimezone(SEOUL).weekday() for m in moments} == {3}
    assert weekly[1] >= 4


def test_demo_ledger_reads_in_the_order_it_happened(demo, session):
    rows = session.execute(sa.select(Transaction.id, Transaction.created_at).order_by(Transaction.id)).all()
    assert [moment for _id, moment in rows] == sorted(moment for _id, moment in rows)


def test_demo_things_happen_after_what_they_answer(demo, session):
    for exchange in session.scalars(sa.select(Exchange)):
        assert exchange.post.created_at <= exchange.created_at
        assert exchange.decided_at is None or exchange.created_at <= exchange.decided_at
        for transaction in session.scalars(sa.select(Transaction).where(Transaction.exchange_id == exchange.id)):
            assert exchange.decided_at <= transaction.created_at


def test_demo_history_keeps_the_ledger_chain_whole(app, demo, session):
    result = invoke(app, session, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert "ledger ok" in result.output
