"""Disputes and exchanges waiting for confirmation: a party tells the centre something went
wrong, a coordinator of that centre settles it once (reverse, record a visit, or dismiss),
and agreed exchanges with no confirmed visit are listed until one is confirmed."""
import pytest
import sqlalchemy as sa
from conftest import balance, logged_in, logged_in_clients, race
from sqlalchemy.orm import Session

from carebank.audit.models import AuditEntry
from carebank.core.errors import Conflict, ValidationFailed
from carebank.dashboard import services as waiting
from carebank.disputes import services as disputes
from carebank.disputes.models import Dispute, DisputeStatus
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Member, Role


@pytest.fixture
def exchange(make_member, make_exchange):
    provider = make_member("Park Min-su", phone="010-1111-2222")
    receiver = make_member("Lee Soon-ja", phone="010-3333-4444")
    return make_exchange(provider, receiver, minutes=60)


@pytest.fixture
def visit(session, policy, exchange):
    """A confirmed visit of 60 minutes."""
    transaction = ledger.credit_visit(
        session, exchange.provider_id, exchange.receiver_id, 60, exchange_id=exchange.id,
        created_by_id=exchange.receiver_id, policy=policy)
    session.commit()
    return transaction


def open_dispute(session, exchange, visit=None, reason="The visit did not happen."):
    dispute = disputes.raise_dispute(session, exchange.receiver, exchange.id, reason,
                                     visit.id if visit else None)
    session.commit()
    return dispute


def count(session, model, *conditions) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


def actions(session) -> list[str]:
    session.commit()
    return list(session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def settle_form(outcome, resolution="Called both; the visit was cancelled.", **extra):
    return {"outcome": outcome, "resolution": resolution, "hours": 1, "extra_minutes": 0, **extra}


# Member side -------------------------------------------------------------------------------

def test_party_reports_a_problem_and_sees_it_on_the_exchange(app, session, exchange, visit):
    client = logged_in(app, exchange.receiver)
    page = client.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert f'href="/exchanges/{exchange.id}/problem"' in page

    response = client.post(f"/exchanges/{exchange.id}/problem",
                           data={"reason": "Nobody came on Tuesday.", "transaction_id": visit.id})

    assert response.status_code == 302 and response.location == f"/exchanges/{exchange.id}"
    dispute = session.scalars(sa.select(Dispute)).one()
    assert (dispute.raised_by_id, dispute.transaction_id) == (exchange.receiver_id, visit.id)
    assert dispute.status is DisputeStatus.OPEN
    page = client.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert "The centre will look at it" in page
    assert "Nobody came on Tuesday." in page and "The centre is looking at it" in page


def test_the_other_party_does_not_see_what_was_reported(app, session, exchange):
    open_dispute(session, exchange, reason="He was rude to me.")
    page = logged_in(app, exchange.provider).get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert "He was rude to me." not in page


@pytest.mark.parametrize("who", ["stranger", "coordinator"])
def test_only_a_party_can_report_a_problem(app, session, exchange, make_member, coordinator, who):
    outsider = coordinator if who == "coordinator" else make_member("Stranger")
    client = logged_in(app, outsider)
    assert client.get(f"/exchanges/{exchange.id}/problem").status_code == 403
    assert client.post(f"/exchanges/{exchange.id}/problem", data={"reason": "x"}).status_code == 403
    assert client.get("/exchanges/9999/problem").status_code == 404
    assert count(session, Dispute) == 0


def test_visitor_is_sent_to_log_in_to_report_a_problem(client, exchange):
    response = client.get(f"/exchanges/{exchange.id}/problem")
    assert response.status_code == 302 and "/login" in response.location


def test_a_report_needs_a_reason(app, session, exchange):
    response = logged_in(app, exchange.receiver).post(f"/exchanges/{exchange.id}/problem",
                                                      data={"reason": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    assert count(session, Dispute) == 0


def test_one_open_report_per_member_and_exchange(app, session, exchange):
    open_dispute(session, exchange)
    response = logged_in(app, exchange.receiver).post(f"/exchanges/{exchange.id}/problem",
                                                      data={"reason": "Again"})
    assert response.status_code == 409
    assert "You have already told the centre" in response.get_data(as_text=True)
    # The other party may still report their side.
    disputes.raise_dispute(session, exchange.provider, exchange.id, "My side of it")
    session.commit()
    assert count(session, Dispute) == 2


def test_the_visit_reported_must_belong_to_the_exchange(session, policy, exchange, make_exchange):
    other = make_exchange()
    elsewhere = ledger.credit_visit(session, other.provider_id, other.receiver_id, 30,
                                    exchange_id=other.id, created_by_id=other.receiver_id, policy=policy)
    with pytest.raises(ValidationFailed) as refused:
        disputes.raise_dispute(session, exchange.receiver, exchange.id, "Wrong", elsewhere.id)
    assert "transaction_id" in refused.value.fields


# Settling ----------------------------------------------------------------------------------

def test_coordinator_sees_open_problems_with_both_phone_numbers(app, session, exchange, visit, coordinator):
    dispute = open_dispute(session, exchange, visit)
    client = logged_in(app, coordinator)
    listing = client.get("/console/disputes").get_data(as_text=True)
    assert f"/console/disputes/{dispute.id}" in listing and "Lunch together" in listing
    page = client.get(f"/console/disputes/{dispute.id}").get_data(as_text=True)
    assert "The visit did not happen." in page
    assert 'href="tel:010-1111-2222"' in page and 'href="tel:010-3333-4444"' in page
    assert "1 h" in page  # the visit in the exchange's record


def test_settling_by_reversal_restores_both_balances(app, session, exchange, visit, coordinator):
    dispute = open_dispute(session, exchange, visit)
    assert (balance(session, exchange.provider), balance(session, exchange.receiver)) == (60, -60)

    response = logged_in(app, coordinator).post(f"/console/disputes/{dispute.id}", data=settle_form(
        "reverse", transaction_id=visit.id))

    assert response.status_code == 302 and response.location == "/console/disputes"
    assert (balance(session, exchange.provider), balance(session, exchange.receiver)) == (0, 0)
    assert ledger.verify(session) == []
    assert count(session, Transaction, Transaction.reverses_id == visit.id) == 1
    session.refresh(dispute)
    assert dispute.status is DisputeStatus.RESOLVED and dispute.resolved_by_id == coordinator.id
    assert actions(session) == ["transaction.reverse", "transaction.reverse", "dispute.settle"]
    page = logged_in(app, exchange.receiver).get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert "Called both; the visit was cancelled." in page and "Settled by the centre" in page


def test_settling_by_credit_records_the_visit_and_audits_it(app, session, exchange, coordinator):
    dispute = open_dispute(session, exchange, reason="We could not scan the code.")
    response = logged_in(app, coordinator).post(f"/console/disputes/{dispute.id}", data=settle_form(
        "credit", resolution="Confirmed by phone with both.", hours=0, extra_minutes=45))

    assert response.status_code == 302
    assert (balance(session, exchange.provider), balance(session, exchange.receiver)) == (45, -45)
    visit = session.scalars(sa.select(Transaction)).one()
    assert (visit.kind, visit.exchange_id, visit.created_by_id) == (TransactionKind.VISIT, exchange.id, coordinator.id)
    assert visit.memo == "Confirmed by phone with both."
    assert actions(session) == ["visit.record", "visit.record", "dispute.settle"]
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "dispute.settle")).one()
    assert (entry.actor_id, entry.member_id, entry.transaction_id) == (coordinator.id, exchange.receiver_id, visit.id)
    assert ledger.verify(session) == []


def test_dismissing_changes_no_ones_time(app, session, exchange, visit, coordinator):
    dispute = open_dispute(session, exchange, visit)
    response = logged_in(app, coordinator).post(f"/console/disputes/{dispute.id}",
                                                data=settle_form("dismiss", resolution="The visit did happen."))
    assert response.status_code == 302
    assert count(session, Transaction) == 1
    assert (balance(session, exchange.provider), balance(session, exchange.receiver)) == (60, -60)
    session.refresh(dispute)
    assert dispute.status is DisputeStatus.DISMISSED and dispute.resolution == "The visit did happen."
    assert actions(session) == ["dispute.settle"]


@pytest.mark.parametrize("form, message", [
    (settle_form("dismiss", resolution=""), "This field is required."),
    (settle_form("reverse"), "Choose one of the visits of this exchange."),
    (settle_form("credit", hours=0, extra_minutes=0), "The time must be between 1 minute and 24 h."),
    (settle_form("refund"), "Not a valid choice."),
])
def test_a_refused_settlement_leaves_the_dispute_open(app, session, exchange, coordinator, form, message):
    dispute = open_dispute(session, exchange)
    response = logged_in(app, coordinator).post(f"/console/disputes/{dispute.id}", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    session.refresh(dispute)
    assert dispute.status is DisputeStatus.OPEN and count(session, AuditEntry) == 0


def test_reversing_a_visit_already_reversed_keeps_nothing(app, session, exchange, visit, coordinator):
    dispute = open_dispute(session, exchange, visit)
    ledger.reverse(session, coordinator, visit.id, "Wrong visit")
    session.commit()
    response = logged_in(app, coordinator).post(f"/console/disputes/{dispute.id}", data=settle_form(
        "reverse", transaction_id=visit.id))
    assert response.status_code == 400  # the reversed visit is no longer offered
    with pytest.raises(Conflict):
        disputes.settle(session, coordinator, dispute.id, "reverse", "Again", transaction_id=visit.id,
                        policy=None)
    session.rollback()
    session.refresh(dispute)
    assert dispute.status is DisputeStatus.OPEN
    assert count(session, Transaction, Transaction.kind == TransactionKind.REVERSAL) == 1


@pytest.mark.parametrize("outcome", ["reverse", "credit"])
def test_two_coordinators_settling_at_once_act_once(app, session, exchange, visit, make_member, outcome):
    dispute = open_dispute(session, exchange, visit)
    first, second = make_member("Coordinator Choi", role=Role.COORDINATOR), \
        make_member("Coordinator Jung", role=Role.COORDINATOR)
    clients = logged_in_clients(app, first, 1) + logged_in_clients(app, second, 1)
    form = settle_form(outcome, transaction_id=str(visit.id))

    answers = race(app, session, clients, f"/console/disputes/{dispute.id}", [form, form])

    assert sorted(status for status, _ in answers) == [302, 409], answers
    assert count(session, Transaction) == 2  # the visit, and one reversal or one recorded visit
    assert actions(session).count("dispute.settle") == 1
    assert ledger.verify(session) == []


def test_a_coordinator_with_a_stale_view_loses_the_claim_and_keeps_nothing(session, policy, exchange, coordinator):
    dispute = open_dispute(session, exchange)
    # A second coordinator's session read the dispute while it was open...
    stale = Session(bind=session.get_bind(), expire_on_commit=False)
    stale_coordinator = stale.get(Member, coordinator.id)
    assert stale.get(Dispute, dispute.id).status is DisputeStatus.OPEN
    stale.commit()
    # ...then this one settled it.
    disputes.settle(session, coordinator, dispute.id, "dismiss", "Nothing wrong", policy=policy)
    session.commit()

    with pytest.raises(Conflict):
        disputes.settle(stale, stale_coordinator, dispute.id, "credit", "Confirmed", minutes=60, policy=policy)
    stale.rollback()
    stale.close()
    assert count(session, Transaction) == 0 and actions(session) == ["dispute.settle"]


def test_coordinator_of_another_centre_cannot_see_or_settle(app, session, exchange, visit, make_centre, make_member):
    dispute = open_dispute(session, exchange, visit)
    elsewhere = make_member("Coordinator Far", role=Role.COORDINATOR, centre_id=make_centre("Far Centre").id)
    client = logged_in(app, elsewhere)
    assert client.get(f"/console/disputes/{dispute.id}").status_code == 404
    assert client.post(f"/console/disputes/{dispute.id}", data=settle_form("dismiss")).status_code == 404
    assert "Lunch together" not in client.get("/console/disputes").get_data(as_text=True)
    assert client.post(f"/console/waiting/{exchange.id}", data={
        "hours": 1, "extra_minutes": 0, "reason": "x"}).status_code == 404
    session.refresh(dispute)
    assert dispute.status is DisputeStatus.OPEN and count(session, Transaction) == 1


def test_admin_settles_for_any_centre(app, session, exchange, make_centre, make_member):
    dispute = open_dispute(session, exchange)
    admin = make_member("Admin", role=Role.ADMIN, centre_id=make_centre("Head office").id)
    response = logged_in(app, admin).post(f"/console/disputes/{dispute.id}", data=settle_form("dismiss"))
    assert response.status_code == 302


def test_coordinator_cannot_settle_a_problem_with_their_own_exchange(app, session, make_exchange, coordinator):
    own = make_exchange(provider=coordinator)
    dispute = open_dispute(session, own)
    response = logged_in(app, coordinator).post(f"/console/disputes/{dispute.id}",
                                                data=settle_form("credit"))
    assert response.status_code == 403
    assert count(session, Transaction) == 0


# Exchanges waiting for confirmation -------------------------------------------------------

def test_waiting_list_shows_an_agreed_exchange_until_a_visit_is_confirmed(app, session, policy, exchange, coordinator):
    client = logged_in(app, coordinator)
    page = client.get("/console/waiting").get_data(as_text=True)
    assert "Lunch together" in page and f"/console/waiting/{exchange.id}" in page
    assert "010-1111-2222" in page

    ledger.credit_visit(session, exchange.provider_id, exchange.receiver_id, 60, exchange_id=exchange.id,
                        created_by_id=exchange.receiver_id, policy=policy)
    session.commit()
    assert "Lunch together" not in client.get("/console/waiting").get_data(as_text=True)


def test_a_reversed_visit_puts_the_exchange_back_on_the_waiting_list(session, exchange, visit, coordinator):
    assert waiting.exchanges_waiting(session, coordinator) == []
    ledger.reverse(session, coordinator, visit.id, "Not this exchange")
    session.commit()
    assert [w.exchange.id for w in waiting.exchanges_waiting(session, coordinator)] == [exchange.id]


def test_proposed_exchanges_are_not_waiting(session, make_exchange, coordinator):
    make_exchange(accepted=False)
    assert waiting.exchanges_waiting(session, coordinator) == []


def test_coordinator_records_a_waiting_visit(app, session, exchange, coordinator):
    client = logged_in(app, coordinator)
    assert client.get(f"/console/waiting/{exchange.id}").status_code == 200
    response = client.post(f"/console/waiting/{exchange.id}", data={
        "hours": 1, "extra_minutes": 30, "reason": "Confirmed by phone."})
    assert response.status_code == 302 and response.location == "/console/waiting"
    assert (balance(session, exchange.provider), balance(session, exchange.receiver)) == (90, -90)
    assert actions(session) == ["visit.record", "visit.record"]
    assert waiting.exchanges_waiting(session, coordinator) == []


def test_recording_a_visit_needs_a_reason(app, session, exchange, coordinator):
    response = logged_in(app, coordinator).post(f"/console/waiting/{exchange.id}", data={
        "hours": 1, "extra_minutes": 0, "reason": ""})
    assert response.status_code == 400 and count(session, Transaction) == 0


@pytest.mark.parametrize("path", ["/console/disputes", "/console/disputes/1", "/console/waiting",
                                  "/console/waiting/1"])
def test_members_are_refused_and_visitors_sent_to_log_in(app, client, make_member, path):
    assert logged_in(app, make_member("Plain member")).get(path).status_code == 403
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.location
