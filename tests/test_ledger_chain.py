"""The ledger's hash chain and the database's own guards: a row changed, removed or added
behind the app's back is named by `ledger verify`; an unbalanced transaction cannot be sealed
(nor, on PostgreSQL, committed); concurrent writers leave one straight chain."""
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from conftest import _throwaway_postgres, logged_in_clients, race

from carebank import create_app
from carebank.confirmations import services as confirmations
from carebank.core.database import alembic_config, upgrade_database, utcnow
from carebank.core.extensions import db
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger import services as ledger
from carebank.ledger.models import Account, LedgerSeal, Posting, Transaction, TransactionKind
from carebank.members.models import Member
from config import TestConfig

# SQLite's append-only triggers, dropped the way an attacker with the database file would.
SQLITE_GUARDS = [f"{table}_no_{action}" for table in ("postings", "ledger_transactions", "ledger_seals")
                 for action in ("update", "delete")]


def is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def invoke_verify(app, session):
    """`flask ledger verify`, run as an operator would, beside the test's session."""
    session.commit()
    return app.test_cli_runner().invoke(args=["ledger", "verify"])


def problems_in(result) -> list[str]:
    return [line.removeprefix("PROBLEM ") for line in result.output.splitlines()
            if line.startswith("PROBLEM")]


def tamper(session, statement: str, **params) -> None:
    """Change rows with raw SQL after switching the append-only guards off, and commit."""
    if is_postgres(session):
        # Only for this transaction: user triggers (and the deferred zero-sum one) stay silent.
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        for trigger in SQLITE_GUARDS:
            session.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}"))
    session.execute(sa.text(statement), params)
    session.commit()


def seals(session) -> list[LedgerSeal]:
    return list(session.scalars(sa.select(LedgerSeal).order_by(LedgerSeal.transaction_id)))


def insert_transaction(session, moves: dict[int, int], memo: str = "",
                       kind=TransactionKind.GIFT, reverses_id: int | None = None) -> int:
    """A transaction written straight into the tables, past record_transaction (and unsealed)."""
    transaction_id = session.execute(
        sa.insert(Transaction).values(kind=kind, memo=memo, created_at=utcnow(), reverses_id=reverses_id)
        .returning(Transaction.id)
    ).scalar_one()
    for account_id, minutes in moves.items():
        session.execute(sa.insert(Posting).values(transaction_id=transaction_id,
                                                  account_id=account_id, minutes=minutes))
    return transaction_id


@pytest.fixture
def gifts(session, policy, make_member, make_exchange):
    """Alice's visit to Bora, then two gifts of what she earned: the middle one, a gift, is
    the one tampered with."""
    alice, bora = make_member("Alice"), make_member("Bora")
    exchange = make_exchange(alice, bora)
    made = [ledger.credit_visit(session, alice.id, bora.id, 60, exchange_id=exchange.id,
                                created_by_id=bora.id, policy=policy, memo="first")]
    made += [ledger.gift(session, alice, bora.id, minutes, memo, policy)
             for minutes, memo in ((50, "lunch 점심"), (5, "last"))]
    session.commit()
    return alice, bora, [t.id for t in made]


# --- a sound chain ------------------------------------------------------------------------


def test_every_operation_seals_its_transaction_into_one_chain(
    session, policy, make_member, make_exchange, coordinator
):
    alice, bora = make_member("Alice"), make_member("Bora")
    exchange = make_exchange(alice, bora)
    _, token = confirmations.make_code(session, alice, exchange.id, 60, policy)
    visit, _ = confirmations.redeem(session, bora, token, policy)
    ledger.gift(session, alice, bora.id, 30, "고마워요", policy)
    ledger.donate_to_pool(session, alice, 20, "", policy)
    ledger.grant_from_pool(session, coordinator, alice.id, 10, "winter help", policy)
    ledger.reverse(session, coordinator, visit.id, "entered twice")
    session.commit()

    chain = seals(session)
    transaction_ids = session.scalars(sa.select(Transaction.id).order_by(Transaction.id)).all()
    assert [s.transaction_id for s in chain] == transaction_ids and len(chain) == 5
    assert [s.prev_hash for s in chain] == [ledger.GENESIS_HASH] + [s.hash for s in chain[:-1]]
    assert ledger.chain_head(session) == (5, chain[-1].hash)
    assert ledger.verify(session) == []


def test_an_empty_ledger_has_the_genesis_head(session):
    assert ledger.chain_head(session) == (0, ledger.GENESIS_HASH)
    assert ledger.verify(session) == []


def test_created_at_reads_back_to_the_microsecond(session, gifts):
    *_, transaction_ids = gifts
    written = session.get(Transaction, transaction_ids[1]).created_at
    session.expire_all()
    [(raw,)] = session.execute(
        sa.select(ledger.SEALED_COLUMNS[-1]).where(Transaction.id == transaction_ids[1])
    ).all()
    # The chain hashes the text the database gives back; it must be what was hashed on writing.
    assert ledger._instant_text(raw) == ledger._instant_text(written)
    assert session.get(Transaction, transaction_ids[1]).created_at == written


# --- rows changed behind the app's back ---------------------------------------------------


def test_verify_names_a_transaction_whose_minutes_were_rewritten(app, session, gifts):
    alice, bora, (_, middle, _) = gifts
    # A careful attacker: both postings and both cached balances, so everything still adds up.
    tamper(session, "UPDATE postings SET minutes = minutes / 5 WHERE transaction_id = :t", t=middle)
    tamper(session, "UPDATE accounts SET balance_minutes = balance_minutes + 40 WHERE member_id = :a",
           a=alice.id)
    tamper(session, "UPDATE accounts SET balance_minutes = balance_minutes - 40 WHERE member_id = :b",
           b=bora.id)

    result = invoke_verify(app, session)

    assert result.exit_code == 1
    assert problems_in(result) == [
        f"transaction {middle}: its seal does not match its contents (changed after it was written?)"
    ]


def test_verify_names_a_transaction_whose_memo_was_rewritten(app, session, gifts):
    *_, (_, middle, _) = gifts
    tamper(session, "UPDATE ledger_transactions SET memo = 'dinner' WHERE id = :t", t=middle)

    result = invoke_verify(app, session)

    assert result.exit_code == 1
    assert problems_in(result) == [
        f"transaction {middle}: its seal does not match its contents (changed after it was written?)"
    ]


def test_verify_names_a_transaction_whose_seal_was_deleted(app, session, gifts):
    *_, (_, middle, last) = gifts
    tamper(session, "DELETE FROM ledger_seals WHERE transaction_id = :t", t=middle)

    result = invoke_verify(app, session)

    assert result.exit_code == 1
    assert problems_in(result) == [f"transaction {middle}: not sealed",
                                   f"seal chain broken at transaction {last}"]


def test_verify_notices_a_whole_transaction_removed(app, session, gifts):
    alice, bora, (_, middle, last) = gifts
    tamper(session, "DELETE FROM ledger_seals WHERE transaction_id = :t", t=middle)
    tamper(session, "DELETE FROM postings WHERE transaction_id = :t", t=middle)
    tamper(session, "DELETE FROM ledger_transactions WHERE id = :t", t=middle)
    tamper(session, "UPDATE accounts SET balance_minutes = balance_minutes + 50 WHERE member_id = :a",
           a=alice.id)
    tamper(session, "UPDATE accounts SET balance_minutes = balance_minutes - 50 WHERE member_id = :b",
           b=bora.id)

    result = invoke_verify(app, session)

    assert result.exit_code == 1
    assert problems_in(result) == [f"seal chain broken at transaction {last}"]


def test_verify_names_a_balanced_transaction_inserted_without_a_seal(app, session, gifts):
    alice, bora, _ = gifts
    accounts = {m.id: ledger.account_of(session, m.id).id for m in (alice, bora)}
    forged = insert_transaction(session, {accounts[bora.id]: -100, accounts[alice.id]: 100})
    tamper(session, "UPDATE accounts SET balance_minutes = balance_minutes + 100 WHERE id = :a",
           a=accounts[alice.id])
    tamper(session, "UPDATE accounts SET balance_minutes = balance_minutes - 100 WHERE id = :b",
           b=accounts[bora.id])

    result = invoke_verify(app, session)

    assert result.exit_code == 1
    assert problems_in(result) == [f"transaction {forged}: not sealed"]


# --- what the database refuses by itself --------------------------------------------------


def test_database_refuses_to_seal_a_transaction_that_does_not_balance(session, gifts):
    alice, *_ = gifts
    account_id = ledger.account_of(session, alice.id).id
    forged = insert_transaction(session, {account_id: 500})
    last = seals(session)[-1].hash
    fields = session.execute(
        sa.select(*ledger.SEALED_COLUMNS).where(Transaction.id == forged)
    ).one()

    with pytest.raises(sa.exc.DBAPIError, match="does not balance"):
        session.execute(sa.insert(LedgerSeal).values(
            transaction_id=forged, prev_hash=last,
            hash=ledger.seal_hash(last, fields, [(account_id, 500)]),
        ))
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerSeal)) == 3


def test_database_refuses_a_seal_that_forks_the_chain(session, gifts):
    alice, bora, _ = gifts
    moves = {ledger.account_of(session, alice.id).id: -5, ledger.account_of(session, bora.id).id: 5}
    forged = insert_transaction(session, moves)

    with pytest.raises(sa.exc.DBAPIError, match="follow the last seal"):
        session.execute(sa.insert(LedgerSeal).values(
            transaction_id=forged, prev_hash=ledger.GENESIS_HASH, hash="f" * 64,
        ))
    session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_seals SET hash = prev_hash",
    "DELETE FROM ledger_seals",
])
def test_database_refuses_to_change_a_seal(session, gifts, statement):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        session.execute(sa.text(statement))
    session.rollback()
    assert len(seals(session)) == 3


def test_postgres_refuses_to_commit_postings_that_do_not_sum_to_zero(session, gifts):
    if not is_postgres(session):
        pytest.skip("SQLite has no deferred triggers; the seal trigger and verify stand in")
    alice, *_ = gifts
    insert_transaction(session, {ledger.account_of(session, alice.id).id: 500}, memo="minted")
    session.flush()  # the insert itself goes through: the check waits for COMMIT

    with pytest.raises(sa.exc.DBAPIError, match="sum to 500, not 0"):
        session.commit()
    session.rollback()
    assert session.scalar(sa.select(Transaction.id).where(Transaction.memo == "minted")) is None


# --- concurrent writers -------------------------------------------------------------------


def test_concurrent_gifts_leave_one_straight_chain(app, session, make_member, earn):
    people = [make_member(f"Neighbour {i}") for i in range(4)]
    clients, payloads = [], []
    for i, giver in enumerate(people):
        earn(giver, 7 * (1 + 2 + 3))
        clients += logged_in_clients(app, giver, 3)
        payloads += [{"to_member_id": people[(i + k) % 4].id, "minutes": 7 * k} for k in (1, 2, 3)]

    answers = race(app, session, clients, "/api/v1/transfers", payloads)

    assert [status for status, _ in answers] == [201] * 12, answers
    chain = seals(session)
    # Twelve gifts after the four visits that earned their minutes.
    assert len(chain) == 16 == session.scalar(sa.select(sa.func.count()).select_from(Transaction))
    assert [s.prev_hash for s in chain] == [ledger.GENESIS_HASH] + [s.hash for s in chain[:-1]]
    assert ledger.verify(session) == []


# --- migration 0004 on a database that already has a ledger ------------------------------


@pytest.fixture
def app_at_0003(tmp_path):
    """An app on a fresh database migrated only to revision 0003 (before the seals)."""
    url = os.environ.get("CAREBANK_DATABASE_URL", "")
    if url.startswith("postgresql"):
        made = _throwaway_postgres(url, lambda _url: None)
        url = next(made)
    else:
        made, url = None, f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(TestConfig, DATABASE_URL=url)
    upgrade_database(app, "0003")
    yield app
    with app.app_context():
        db.engine.dispose()
    if made is not None:
        made.close()  # drops the throwaway database


def _old_row(session, table: str, **values) -> int:
    """Insert a row naming only the given columns; its new id."""
    columns = sa.table(table, sa.column("id"), *(sa.column(name) for name in values))
    return session.execute(sa.insert(columns).values(**values).returning(columns.c.id)).scalar_one()


def old_ledger(session) -> tuple[int, int]:
    """Members, a need with two live responses from one member (a race of old), and
    transactions written as revision 0003 did: no seals. Returns the two responses' ids."""
    # Rows as revision 0003 held them, written with only its columns (today's models and
    # services also write columns and tables 0003 did not have).
    now = utcnow()
    alice, bora = (_old_row(session, "members", email=f"{n}@example.org", password_hash="x", name=n,
                            neighbourhood="", languages="", offers_text="", role="member", created_at=now)
                   for n in ("alice", "bora"))
    a, b = (_old_row(session, "accounts", kind="member", balance_minutes=0, member_id=m) for m in (alice, bora))
    need = _old_row(session, "posts", member_id=alice, kind="need", category="meals", title="Soup",
                    description="", minutes=30, neighbourhood="", status="open", created_at=now,
                    expires_at=now + timedelta(days=30))
    first, twin = (_old_row(session, "exchanges", post_id=need, provider_id=bora, receiver_id=alice,
                            responder_id=bora, message="", status="proposed", created_at=now)
                   for _ in range(2))
    for minutes in (30, 45, 5):
        insert_transaction(session, {a: -minutes, b: minutes}, memo="옛날 선물")
    session.execute(sa.update(Account).where(Account.id == a).values(balance_minutes=-80))
    session.execute(sa.update(Account).where(Account.id == b).values(balance_minutes=80))
    session.commit()
    return first, twin


def test_upgrade_seals_existing_transactions_and_verify_passes(app_at_0003):
    with app_at_0003.app_context():
        first, twin = old_ledger(db.session)
        db.session.close()
    upgrade_database(app_at_0003)

    with app_at_0003.app_context():
        session = db.session
        assert ledger.verify(session) == []
        assert len(seals(session)) == 3
        # The later of the two live responses is cancelled, so the unique index could be built.
        assert session.get(Exchange, first).status is ExchangeStatus.PROPOSED
        assert session.get(Exchange, twin).status is ExchangeStatus.CANCELLED


def test_downgrade_and_upgrade_again_keep_the_ledger_sound(app_at_0003):
    upgrade_database(app_at_0003)
    with app_at_0003.app_context(), db.engine.begin() as connection:
        config = alembic_config(db.engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
        assert not sa.inspect(connection).has_table("ledger_seals")
    upgrade_database(app_at_0003)
    with app_at_0003.app_context():
        assert ledger.verify(db.session) == []


def test_one_member_cannot_have_two_live_responses_to_one_post(session, make_member, make_post):
    owner, helper = make_member(), make_member()
    need = make_post(owner)
    exchanges.respond(session, helper, need.id)
    session.commit()
    session.add(Exchange(post_id=need.id, provider_id=helper.id, receiver_id=owner.id,
                         responder_id=helper.id))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_a_member_may_respond_again_after_a_cancelled_response(session, make_member, make_post):
    owner, helper = make_member(), make_member()
    need = make_post(owner)
    session.add(Exchange(post_id=need.id, provider_id=helper.id, receiver_id=owner.id,
                         responder_id=helper.id, status=ExchangeStatus.CANCELLED))
    session.commit()
    assert exchanges.respond(session, helper, need.id).status is ExchangeStatus.PROPOSED
    session.commit()


def test_upgrade_fills_the_visit_totals_from_the_ledger(app_at_0003):
    with app_at_0003.app_context():
        session = db.session
        old_ledger(session)  # alice gave bora 80 min in gifts: not visits
        alice, bora = (ledger.account_of(session, member_id).id for member_id in
                       session.scalars(sa.select(Member.id).order_by(Member.id)))
        insert_transaction(session, {alice: 60, bora: -60}, kind=TransactionKind.VISIT)
        wrong = insert_transaction(session, {alice: 30, bora: -30}, kind=TransactionKind.VISIT)
        insert_transaction(session, {alice: -30, bora: 30}, kind=TransactionKind.REVERSAL, reverses_id=wrong)
        session.execute(sa.update(Account).where(Account.id == alice).values(balance_minutes=-20))
        session.execute(sa.update(Account).where(Account.id == bora).values(balance_minutes=20))
        session.commit()
    upgrade_database(app_at_0003)

    with app_at_0003.app_context():
        members = db.session.scalars(sa.select(Member.id).order_by(Member.id)).all()
        assert ledger.given_and_received(db.session, members) == {
            members[0]: (60, 0), members[1]: (0, 60),
        }
        assert ledger.verify(db.session) == []
