"""`flask --app app seed`: a believable city, bulk-loaded into an empty database, that the
ledger checks accept and the app keeps working on."""
import random
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from carebank.centres.models import Centre
from carebank.core.database import Base, utcnow
from carebank.core.policy import Policy
from carebank.devdata import seed
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger import services as ledger
from carebank.ledger.models import Account, AccountKind, LedgerSeal, Transaction, TransactionKind
from carebank.members.models import Member, Role
from carebank.members.services import create_member
from carebank.posts.categories import CATEGORIES
from carebank.posts.models import Post, PostKind, PostStatus

MEMBERS, POSTS, TRANSACTIONS = 120, 300, 2000
SIZE = ("--members", str(MEMBERS), "--posts", str(POSTS), "--transactions", str(TRANSACTIONS))
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def invoke(app, session, *args):
    """Run a command as an operator would; the test's session is committed first so it holds
    no lock the command would wait for."""
    session.commit()
    return app.test_cli_runner().invoke(args=list(args))


def count(session, model, *where) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def seeded(app, session):
    result = invoke(app, session, "seed", *SIZE)
    assert result.exit_code == 0, result.output
    return result


def test_the_city_has_the_size_asked_for_and_the_ledger_verifies(seeded, session):
    assert ledger.verify(session) == []
    assert count(session, Member) == MEMBERS
    open_now = count(session, Post, Post.status == PostStatus.OPEN, Post.expires_at > utcnow())
    assert open_now == count(session, Post, Post.status == PostStatus.OPEN) == POSTS
    assert count(session, Transaction) == count(session, LedgerSeal) == TRANSACTIONS
    assert f"{TRANSACTIONS:,} transactions" in seeded.output


def test_flask_ledger_verify_passes_on_the_seeded_city(app, seeded, session):
    result = invoke(app, session, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert f"{TRANSACTIONS} sealed" in result.output


def test_open_posts_are_needs_and_offers_in_every_category_where_their_authors_live(seeded, session):
    author = aliased(Member)
    rows = session.execute(
        sa.select(Post.kind, Post.category, Post.neighbourhood, author.neighbourhood, Post.starts_at,
                  Post.created_at)
        .join(author, Post.member_id == author.id).where(Post.status == PostStatus.OPEN)
    ).all()
    assert {category for _, category, *_ in rows} == set(CATEGORIES)
    offers = sum(kind is PostKind.OFFER for kind, *_ in rows)
    assert 0.35 < offers / len(rows) < 0.65
    assert all(posted_in == lives_in for _, _, posted_in, lives_in, _, _ in rows)
    assert any(starts_at is not None for *_, starts_at, _ in rows)
    assert min(created for *_, created in rows) > utcnow() - timedelta(days=30)


def test_members_have_korean_and_english_names_in_centres_run_by_coordinators(seeded, session):
    people = session.scalars(sa.select(Member)).all()
    assert sum(bool(HANGUL.search(m.name)) for m in people) > len(people) * 0.8
    english = [m for m in people if m.name.isascii()]
    assert english and all(m.locale == "en" for m in english)
    assert [m.role for m in people].count(Role.ADMIN) == 1
    centres = session.scalars(sa.select(Centre)).all()
    assert len(centres) >= 2
    for centre in centres:
        staff = [m for m in people if m.centre_id == centre.id and m.role is Role.COORDINATOR]
        assert 1 <= len(staff) <= 2
        assert all(HANGUL.search(n) and n.endswith("동") for n in centre.neighbourhood_list)
    assert all(m.centre.serves(m.neighbourhood) for m in people)


def test_residents_without_a_login_were_registered_by_their_centre_with_consent(seeded, session):
    residents = session.scalars(sa.select(Member).where(Member.password_hash.is_(None))).all()
    assert residents
    for resident in residents:
        registrar = session.get(Member, resident.registered_by_id)
        assert resident.email is None and resident.consent_at and resident.consent_note
        assert registrar.role is Role.COORDINATOR and registrar.centre_id == resident.centre_id
    vetted = session.scalars(sa.select(Member).where(Member.vetted_by_id.is_not(None))).all()
    assert vetted and all(m.is_verified and m.vetted_at for m in vetted)


def test_the_ledger_is_two_years_of_visits_in_exchanges_and_some_gifts_grants_and_reversals(
    seeded, session
):
    kinds = [kind for (kind,) in session.execute(sa.select(Transaction.kind))]
    assert set(kinds) == set(TransactionKind)
    assert 0.75 < kinds.count(TransactionKind.VISIT) / len(kinds) < 0.9
    times = session.scalars(sa.select(Transaction.created_at).order_by(Transaction.id)).all()
    assert all(earlier < later for earlier, later in zip(times, times[1:], strict=False))
    assert times[-1] - times[0] > timedelta(days=600) and times[-1] < utcnow()
    visits = session.execute(
        sa.select(Transaction, Exchange.status, Post.status, Post.title)
        .join(Exchange, Transaction.exchange_id == Exchange.id).join(Post, Exchange.post_id == Post.id)
        .where(Transaction.kind == TransactionKind.VISIT)
    ).all()
    assert len(visits) == kinds.count(TransactionKind.VISIT)
    for visit, exchange_status, post_status, title in visits:
        assert exchange_status is ExchangeStatus.ACCEPTED and post_status is not PostStatus.OPEN
        assert visit.memo == title
        assert visit.postings[1].minutes in range(30, 241, 15)
    assert count(session, Exchange) < len(visits) / 4  # several visits per exchange


def test_grants_and_reversals_are_made_by_coordinators_with_a_reason(seeded, session):
    original = aliased(Transaction)
    corrections = session.execute(
        sa.select(Transaction, Member.role, original.kind)
        .join(Member, Transaction.created_by_id == Member.id)
        .outerjoin(original, Transaction.reverses_id == original.id)
        .where(Transaction.kind.in_([TransactionKind.GRANT, TransactionKind.REVERSAL]))
    ).all()
    assert corrections
    for transaction, role, reversed_kind in corrections:
        assert role in (Role.COORDINATOR, Role.ADMIN) and transaction.memo
        if transaction.kind is TransactionKind.REVERSAL:
            assert reversed_kind is TransactionKind.VISIT


def test_balances_sum_to_zero_and_no_member_is_below_the_floor(seeded, session, policy):
    assert session.scalar(sa.select(sa.func.sum(Account.balance_minutes))) == 0
    lowest = session.scalar(sa.select(sa.func.min(Account.balance_minutes)).where(Account.kind == AccountKind.MEMBER))
    assert lowest >= policy.min_balance_minutes
    assert ledger.pool_account(session).balance_minutes >= 0


def test_a_seeded_member_logs_in_with_the_seed_password(seeded, session, client):
    member = session.scalar(sa.select(Member).where(Member.email.is_not(None)).order_by(Member.id.desc()))
    assert member.email == f"m{MEMBERS:05d}@seed.carebank"
    client.login(member, password=seed.DEFAULT_PASSWORD)
    assert client.get("/api/v1/me").status_code == 200


def test_the_app_adds_members_and_transactions_after_the_seed(seeded, session, policy):
    """Fresh ids from PostgreSQL's sequences, and a seal that follows the seeded chain under
    the database's guards."""
    newcomer = create_member(session, name="새 이웃", email="newcomer@example.org",
                             password="correct horse battery", neighbourhood="효자동")
    giver = session.scalar(sa.select(Member).join(Account).where(Account.balance_minutes > 100,
                                                                 Member.email.is_not(None)).limit(1))
    gift = ledger.gift(session, giver, newcomer.id, 60, "환영해요", policy)
    session.commit()
    assert gift.id == TRANSACTIONS + 1
    assert ledger.verify(session) == []


def test_the_seed_puts_the_databases_guards_back_as_the_migrations_made_them(app, session):
    before = _schema(session)
    result = invoke(app, session, "seed", *SIZE)
    assert result.exit_code == 0, result.output
    assert _schema(session) == before
    if session.get_bind().dialect.name == "postgresql":
        # Absolute too: on PostgreSQL every test shares one database, so `before` could
        # already be missing what an earlier test's seed failed to put back.
        disabled = sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'")
        assert session.scalars(disabled).all() == []
        foreign_keys = sa.text("SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f'")
        declared = {(t.name, fk.name) for t in Base.metadata.tables.values() for fk in t.foreign_key_constraints}
        assert {tuple(row) for row in session.execute(foreign_keys)} == declared


def _schema(session) -> list:
    """Triggers, indexes and constraints as the database describes them."""
    if session.get_bind().dialect.name == "sqlite":
        return session.execute(sa.text(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') ORDER BY name"
        )).all()
    return session.execute(sa.text(
        "SELECT tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger WHERE NOT tgisinternal "
        "UNION ALL SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace "
        "UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "ORDER BY 1, 2, 3"
    )).all()


def test_the_seed_refuses_a_city_already_seeded_and_changes_nothing(app, seeded, session):
    before = [count(session, model) for model in (Member, Post, Exchange, Transaction)]
    result = invoke(app, session, "seed", *SIZE)
    assert result.exit_code != 0
    assert "already has members" in result.output
    assert [count(session, model) for model in (Member, Post, Exchange, Transaction)] == before


def test_the_seed_refuses_a_database_with_real_members(app, session, make_member):
    make_member("Kim Young-ja")
    result = invoke(app, session, "seed", *SIZE)
    assert result.exit_code != 0
    assert count(session, Member) == 1 and count(session, Post) == 0


def test_the_same_seed_makes_the_same_city():
    def city(seed_number: int) -> list:
        rng = random.Random(seed_number)
        ids = seed.Ids(1, 1, 2, 1, 1, 1, 1, 1)
        size = seed.CitySize(members=MEMBERS, posts=POSTS, transactions=500)
        plan = seed.plan_city(rng, size, ids, history_start=0)
        history = seed.History(rng, plan, ids, pool_account_id=1, pool_balance=0,
                               prev_hash=ledger.GENESIS_HASH, visits_expected=400, policy=policy)
        chunk = next(history.run(seed.transaction_times(rng, 500, history_start=0)))
        return [p.name for p in plan.people] + chunk.transactions + chunk.seals

    policy = Policy()
    assert city(7) == city(7)
    assert city(7) != city(8)
