"""The console's ledger pages: grants from the community pool (always with a reason),
reversing a wrong transaction (a new correcting transaction, never an edit), and the audit log."""
import pytest
import sqlalchemy as sa
from conftest import balance, logged_in

from carebank.audit import services as audit
from carebank.audit.models import AuditEntry
from carebank.ledger import services as ledger
from carebank.ledger.models import Posting, Transaction, TransactionKind
from carebank.members.models import Role


@pytest.fixture
def filled_pool(session, make_member, policy, earn):
    """Two hours earned and donated to the community pool."""
    donor = make_member("Generous Donor")
    earn(donor, 120)
    ledger.donate_to_pool(session, donor, 120, "", policy)
    session.commit()


def pool_balance(session) -> int:
    session.commit()
    return ledger.pool_account(session).balance_minutes


def count(session, model) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def visit(session, make_exchange, policy, coordinator):
    """A confirmed one-hour visit: the provider earned 60 minutes from the receiver."""
    exchange = make_exchange(minutes=60)
    transaction = ledger.credit_visit(session, exchange.provider_id, exchange.receiver_id, 60,
                                      exchange_id=exchange.id, created_by_id=exchange.receiver_id,
                                      policy=policy)
    session.commit()
    return transaction


def test_grant_with_reason_moves_time_from_the_pool(console, coordinator, make_member, filled_pool, session):
    member = make_member("Kim Young-ja")
    page = console.get(f"/console/grant?member={member.id}").get_data(as_text=True)
    assert "2 h" in page and "Kim Young-ja" in page
    response = console.post("/console/grant", data={
        "to_member_id": member.number, "hours": 1, "extra_minutes": 0, "memo": "Winter heating help"})
    assert response.status_code == 302 and response.location == f"/console/members/{member.id}"
    assert (balance(session, member), pool_balance(session)) == (60, 60)
    [entry] = audit.entries(session, member_id=member.id)
    assert (entry.action, entry.actor_id, entry.reason) == ("pool.grant", coordinator.id, "Winter heating help")
    log = console.get("/console/audit").get_data(as_text=True)
    assert "Han Mi-gyeong granted 1 h to Kim Young-ja — Winter heating help" in log


def test_grant_without_reason_is_refused_and_changes_nothing(console, make_member, filled_pool, session):
    member = make_member("Kim Young-ja")
    response = console.post("/console/grant", data={
        "to_member_id": member.id, "hours": 1, "extra_minutes": 0, "memo": "  "})
    assert response.status_code == 400 and "Please give the reason" in response.get_data(as_text=True)
    assert (balance(session, member), pool_balance(session)) == (0, 120)
    assert count(session, AuditEntry) == 0


def test_grant_larger_than_the_pool_is_refused(console, make_member, filled_pool, session):
    member = make_member("Kim Young-ja")
    response = console.post("/console/grant", data={
        "to_member_id": member.id, "hours": 3, "extra_minutes": 0, "memo": "Too much"})
    assert response.status_code == 409
    assert "The community pool does not have that much time" in response.get_data(as_text=True)
    assert (balance(session, member), pool_balance(session)) == (0, 120)


def test_grant_to_a_member_of_another_centre_is_refused(console, make_member, make_centre, filled_pool, session):
    elsewhere = make_member("Elsewhere", centre_id=make_centre("Other Centre").id)
    response = console.post("/console/grant", data={
        "to_member_id": elsewhere.id, "hours": 1, "extra_minutes": 0, "memo": "Help"})
    assert response.status_code == 404
    assert balance(session, elsewhere) == 0 and pool_balance(session) == 120


def test_reversal_restores_both_balances(console, coordinator, visit, session):
    provider, receiver = visit.postings[1].account.member, visit.postings[0].account.member
    assert (balance(session, provider), balance(session, receiver)) == (60, -60)
    page = console.get(f"/console/transactions/{visit.id}/reverse").get_data(as_text=True)
    assert provider.name in page and receiver.name in page and "+1 h" in page
    response = console.post(f"/console/transactions/{visit.id}/reverse",
                            data={"memo": "Visit never happened", "confirm": "y"})
    assert response.status_code == 302
    assert (balance(session, provider), balance(session, receiver)) == (0, 0)
    assert ledger.verify(session) == []
    reversal = session.scalar(sa.select(Transaction).where(Transaction.reverses_id == visit.id))
    assert reversal.kind is TransactionKind.REVERSAL and reversal.memo == "Visit never happened"
    assert sum(p.minutes for p in reversal.postings) == 0
    assert session.scalar(sa.select(sa.func.sum(Posting.minutes))) == 0
    actions = [(e.action, e.actor_id) for e in audit.entries(session)]
    assert actions.count(("transaction.reverse", coordinator.id)) == 2  # one for each member


def test_second_reversal_is_refused(console, visit, session):
    data = {"memo": "Visit never happened", "confirm": "y"}
    assert console.post(f"/console/transactions/{visit.id}/reverse", data=data).status_code == 302
    again = console.post(f"/console/transactions/{visit.id}/reverse", data=data)
    assert again.status_code == 409 and "already been reversed" in again.get_data(as_text=True)
    assert count(session, Transaction) == 2  # the visit and one reversal
    assert ledger.verify(session) == []


@pytest.mark.parametrize("data, message", [
    ({"memo": "", "confirm": "y"}, "Please give the reason"),
    ({"memo": "Wrong"}, "Please tick the box to confirm"),
])
def test_reversal_needs_a_reason_and_a_confirmation(console, visit, session, data, message):
    response = console.post(f"/console/transactions/{visit.id}/reverse", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count(session, Transaction) == 1


def test_a_reversal_cannot_be_reversed(console, visit, coordinator, session):
    reversal = ledger.reverse(session, coordinator, visit.id, "Mistake")
    session.commit()
    page = console.get(f"/console/transactions/{reversal.id}/reverse").get_data(as_text=True)
    assert "This is itself a correction" in page
    response = console.post(f"/console/transactions/{reversal.id}/reverse", data={"memo": "x", "confirm": "y"})
    assert response.status_code == 400
    assert count(session, Transaction) == 2


def test_history_offers_reverse_until_reversed(console, visit, session):
    provider_id = visit.postings[1].account.member_id
    link = f"/console/transactions/{visit.id}/reverse"
    assert link in console.get(f"/console/members/{provider_id}/history").get_data(as_text=True)
    console.post(link, data={"memo": "Visit never happened", "confirm": "y"})
    page = console.get(f"/console/members/{provider_id}/history").get_data(as_text=True)
    assert link not in page and "Reversed" in page and "Visit never happened" in page


def test_another_centres_transaction_is_not_found(app, visit, make_member, make_centre, session):
    stranger = make_member("Other Coordinator", role=Role.COORDINATOR, centre_id=make_centre("Other Centre").id)
    client = logged_in(app, stranger)
    assert client.get(f"/console/transactions/{visit.id}/reverse").status_code == 404
    response = client.post(f"/console/transactions/{visit.id}/reverse", data={"memo": "x", "confirm": "y"})
    assert response.status_code == 404
    assert count(session, Transaction) == 1
    assert client.get("/console/transactions/999999/reverse").status_code == 404


def test_audit_log_pages_with_before_id(console, coordinator, make_member, session):
    member = make_member("Kim Young-ja")
    for n in range(55):
        audit.record(session, coordinator, "member.edit", member=member, reason=f"change {n:02d}")
    session.commit()
    first = console.get("/console/audit").get_data(as_text=True)
    assert "change 54" in first and "change 04" not in first and "Older entries" in first
    oldest_shown = session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.reason == "change 05"))
    second = console.get(f"/console/audit?before={oldest_shown}").get_data(as_text=True)
    assert "change 04" in second and "change 00" in second and "change 05" not in second


def test_audit_log_filters_by_member(console, coordinator, make_member, session):
    one, two = make_member("Kim Young-ja"), make_member("Park Chul-soo")
    audit.record(session, coordinator, "member.edit", member=one, reason="first note")
    audit.record(session, coordinator, "member.edit", member=two, reason="other note")
    session.commit()
    page = console.get(f"/console/audit?member={one.number}").get_data(as_text=True)
    assert "first note" in page and "other note" not in page


def test_audit_log_hides_other_centres(app, console, coordinator, make_member, make_centre, session):
    other_centre = make_centre("Other Centre")
    other_coordinator = make_member("Other Coordinator", role=Role.COORDINATOR, centre_id=other_centre.id)
    elsewhere = make_member("Lee Elsewhere", centre_id=other_centre.id)
    audit.record(session, other_coordinator, "member.edit", member=elsewhere, reason="secret")
    session.commit()
    page = console.get("/console/audit").get_data(as_text=True)
    assert "Lee Elsewhere" not in page and "secret" not in page
    assert console.get(f"/console/audit?member={elsewhere.id}").status_code == 400
    admin = logged_in(app, make_member("Admin Kang", role=Role.ADMIN))
    assert "Lee Elsewhere" in admin.get("/console/audit").get_data(as_text=True)


def test_every_audit_action_has_a_sentence():
    from carebank.audit.describe import ACTION_SENTENCES

    assert set(ACTION_SENTENCES) == set(audit.ACTIONS)
