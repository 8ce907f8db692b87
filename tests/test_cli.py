"""The operator's command line: demo data, ledger verification and roles."""
import re

import pytest
import sqlalchemy as sa

from carebank.centres.models import Centre
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Member, Role
from carebank.members.services import authenticate
from carebank.posts.categories import CATEGORIES
from carebank.posts.models import Post, PostKind

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def invoke(app, session, *args):
    """Run a command as an operator would, beside the test's session.
    The session is committed first so it holds no lock the command would wait for."""
    session.commit()
    return app.test_cli_runner().invoke(args=list(args))


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def demo(app, session):
    result = invoke(app, session, "demo")
    assert result.exit_code == 0, result.output
    return result


def test_demo_creates_members_in_korean_and_english(demo, session):
    people = session.scalars(sa.select(Member)).all()
    assert len(people) >= 10
    assert any(HANGUL.search(m.name) for m in people)
    assert any(m.name.isascii() for m in people)
    assert len({m.neighbourhood for m in people}) >= 2
    assert [m.role for m in people].count(Role.COORDINATOR) == 1


def test_demo_posts_needs_and_offers_in_every_category(demo, session):
    rows = session.execute(sa.select(Post.category, Post.kind)).all()
    assert {category for category, _kind in rows} == set(CATEGORIES)
    assert {kind for _category, kind in rows} == {PostKind.NEED, PostKind.OFFER}
    assert session.scalar(sa.select(sa.func.count()).where(Post.starts_at.is_not(None))) > 0


def test_demo_has_confirmed_visits_a_weekly_exchange_and_a_pending_proposal(demo, session):
    visits_per_exchange = session.execute(
        sa.select(Transaction.exchange_id, sa.func.count())
        .where(Transaction.kind == TransactionKind.VISIT)
        .group_by(Transaction.exchange_id)
    ).all()
    assert len(visits_per_exchange) >= 3
    assert max(visits for _exchange, visits in visits_per_exchange) >= 2
    statuses = session.scalars(sa.select(Exchange.status)).all()
    assert ExchangeStatus.PROPOSED in statuses


def test_demo_gives_gifts_donates_to_and_grants_from_the_pool(demo, session):
    kinds = set(session.scalars(sa.select(Transaction.kind)))
    assert {TransactionKind.GIFT, TransactionKind.DONATION, TransactionKind.GRANT} <= kinds


def test_demo_summary_counts_what_was_made_and_its_logins_work(demo, session):
    assert f"{count(session, Member)} members" in demo.output
    assert f"{count(session, Post)} posts" in demo.output
    assert f"{count(session, Transaction)} transactions" in demo.output
    password = re.search(r"password: (\S+)", demo.output).group(1)
    emails = re.findall(r"\S+@demo\.carebank", demo.output)
    with_login = session.scalar(sa.select(sa.func.count()).where(Member.password_hash.is_not(None)))
    assert len(emails) == with_login == count(session, Member) - 1
    assert all(authenticate(session, email, password) for email in emails)


def test_demo_has_two_centres_and_a_resident_who_uses_a_card(demo, session):
    resident = session.scalar(sa.select(Member).where(Member.password_hash.is_(None)))
    assert resident.email is None and resident.consent_note and resident.pin_hash
    assert resident.name in demo.output and resident.centre.name == "종로 나눔돌봄센터"
    assert session.scalar(sa.select(sa.func.count()).select_from(Centre)) == 2
    coordinator = session.scalar(sa.select(Member).where(Member.role == Role.COORDINATOR))
    assert coordinator.centre_id == resident.centre_id


def test_ledger_verify_is_clean_after_the_demo(app, demo, session):
    result = invoke(app, session, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert "ledger ok" in result.output


def test_demo_refuses_to_run_twice_and_adds_nothing(app, demo, session):
    before = [count(session, model) for model in (Member, Post, Exchange, Transaction)]
    result = invoke(app, session, "demo")
    assert result.exit_code != 0
    assert "already has members" in result.output
    assert [count(session, model) for model in (Member, Post, Exchange, Transaction)] == before


def test_demo_refuses_a_database_with_real_members(app, session, make_member):
    make_member("Kim Young-ja")
    result = invoke(app, session, "demo")
    assert result.exit_code != 0
    assert count(session, Member) == 1
    assert count(session, Post) == 0


def test_ledger_verify_names_an_account_whose_cached_balance_was_tampered_with(
    app, session, make_member
):
    make_member()
    tampered = make_member().account.id
    session.execute(
        sa.text("UPDATE accounts SET balance_minutes = balance_minutes + 5 WHERE id = :id"),
        {"id": tampered},
    )
    result = invoke(app, session, "ledger", "verify")
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("PROBLEM")]
    assert problems == [f"PROBLEM account {tampered}: cached balance 5 but postings sum to 0"]


def test_set_role_makes_a_member_coordinator(app, session, make_member):
    member = make_member(email="minsu@example.org")
    result = invoke(app, session, "members", "set-role", "Minsu@Example.org", "coordinator")
    assert result.exit_code == 0, result.output
    assert "minsu@example.org is now coordinator" in result.output
    assert session.get(Member, member.id).role is Role.COORDINATOR


def test_set_role_for_an_unknown_email_fails_with_a_message_not_a_traceback(app, session):
    app.config["DEFAULT_LOCALE"] = "en"  # the CLI speaks the bank's default language
    result = invoke(app, session, "members", "set-role", "nobody@example.org", "admin")
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)  # click's clean exit, not a crash
    assert "nobody@example.org" in result.output
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_set_role_refuses_an_unknown_role(app, session, make_member):
    member = make_member()
    result = invoke(app, session, "members", "set-role", member.email, "mayor")
    assert result.exit_code != 0
    assert session.get(Member, member.id).role is Role.MEMBER


def test_ledger_reverse_undoes_a_gift_with_a_new_transaction(app, session, make_member, policy, earn):
    app.config["DEFAULT_LOCALE"] = "en"
    giver, receiver = make_member(), make_member()
    coordinator = make_member(role=Role.COORDINATOR)
    earn(giver, 90)
    gift = ledger.gift(session, giver, receiver.id, 90, "by mistake", policy)
    session.commit()
    result = invoke(app, session, "ledger", "reverse", str(gift.id), "--by", coordinator.email, "--memo", "wrong person")
    assert result.exit_code == 0, result.output
    assert (ledger.balance_of(session, giver.id), ledger.balance_of(session, receiver.id)) == (90, 0)
    assert session.scalar(sa.select(sa.func.count()).select_from(Transaction)) == 3  # with the earning visit
    again = invoke(app, session, "ledger", "reverse", str(gift.id), "--by", coordinator.email, "--memo", "again")
    assert again.exit_code != 0 and "already been reversed" in again.output
    by_member = invoke(app, session, "ledger", "reverse", str(gift.id), "--by", giver.email, "--memo", "mine")
    assert by_member.exit_code != 0 and "Only a coordinator" in by_member.output
