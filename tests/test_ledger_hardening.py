"""The ledger's guards from the hardening issue: a coordinator never corrects a transaction of
their own, the community pool never goes below zero, gifts and donations spend only time the
member has, and a deactivated member's minutes move only by a correction."""
import threading

import pytest
import sqlalchemy as sa
from conftest import balance, logged_in, logged_in_clients

from carebank.core.errors import Conflict, InsufficientBalance, NotAllowed
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members import on_behalf
from carebank.members.models import Role

API = "/api/v1"


def pool_balance(session) -> int:
    session.commit()
    return ledger.pool_account(session).balance_minutes


def count_transactions(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction))


def credited_visit(session, policy, exchange, minutes):
    transaction = ledger.credit_visit(
        session, exchange.provider_id, exchange.receiver_id, minutes, exchange_id=exchange.id,
        created_by_id=exchange.receiver_id, policy=policy)
    session.commit()
    return transaction


@pytest.fixture
def colleague(make_member):
    """A second coordinator of the same centre."""
    return make_member("Oh Colleague", role=Role.COORDINATOR)


@pytest.fixture
def donation(session, policy, make_member, earn):
    """One hour a member earned and donated to the community pool."""
    donor = make_member("Generous Donor")
    earn(donor, 60)
    transaction = ledger.donate_to_pool(session, donor, 60, "", policy)
    session.commit()
    return transaction


# --- a coordinator never corrects their own transaction ----------------------------------


def test_coordinator_cannot_reverse_their_own_gift(session, policy, coordinator, make_member, earn):
    friend = make_member("Kim Friend")
    earn(coordinator, 60)
    gift = ledger.gift(session, coordinator, friend.id, 60, "", policy)
    session.commit()

    with pytest.raises(NotAllowed) as refused:
        ledger.reverse(session, coordinator, gift.id, "sent by mistake")

    assert refused.value.code == "self_reversal"
    assert "Ask a colleague" in str(refused.value.message)
    assert (balance(session, coordinator), balance(session, friend)) == (0, 60)
    assert ledger.reversal_of(session, gift) is None


def test_coordinator_cannot_take_back_the_minutes_of_a_visit_they_received(
    session, policy, coordinator, make_member, make_exchange
):
    carer = make_member("Carer Lee")
    visit = credited_visit(session, policy, make_exchange(carer, coordinator), 90)

    with pytest.raises(NotAllowed) as refused:
        ledger.reverse(session, coordinator, visit.id, "it was shorter")

    assert refused.value.code == "self_reversal"
    assert (balance(session, carer), balance(session, coordinator)) == (90, -90)
    assert count_transactions(session) == 1


def test_a_colleague_can_reverse_the_coordinators_gift(
    session, policy, coordinator, colleague, make_member, earn
):
    friend = make_member("Kim Friend")
    earn(coordinator, 60)
    gift = ledger.gift(session, coordinator, friend.id, 60, "", policy)
    ledger.reverse(session, colleague, gift.id, "sent by mistake")
    session.commit()
    assert (balance(session, coordinator), balance(session, friend)) == (60, 0)


def test_console_refuses_the_coordinators_own_reversal_and_changes_nothing(
    session, policy, console, coordinator, make_member, earn
):
    friend = make_member("Kim Friend")
    earn(coordinator, 60)
    gift = ledger.gift(session, coordinator, friend.id, 60, "", policy)
    session.commit()
    link = f"/console/transactions/{gift.id}/reverse"

    page = console.get(link).get_data(as_text=True)
    assert "This transaction is your own: a colleague can reverse it." in page
    assert "Reverse this transaction" not in page
    history = console.get(f"/console/members/{friend.id}/history").get_data(as_text=True)
    assert link not in history and "Your own: a colleague can reverse it" in history

    response = console.post(link, data={"memo": "sent by mistake", "confirm": "y"})
    assert response.status_code == 403
    assert "You cannot reverse a transaction of your own. Ask a colleague." in response.get_data(as_text=True)
    assert (balance(session, coordinator), balance(session, friend)) == (0, 60)
    assert count_transactions(session) == 2  # the earning visit and the gift


def test_console_still_offers_a_colleague_the_reversal(
    app, session, policy, coordinator, colleague, make_member, earn
):
    friend = make_member("Kim Friend")
    earn(coordinator, 60)
    gift = ledger.gift(session, coordinator, friend.id, 60, "", policy)
    session.commit()
    link = f"/console/transactions/{gift.id}/reverse"
    client = logged_in(app, colleague)
    assert link in client.get(f"/console/members/{friend.id}/history").get_data(as_text=True)
    assert client.post(link, data={"memo": "sent by mistake", "confirm": "y"}).status_code == 302
    assert balance(session, friend) == 0


# --- the community pool never goes below zero --------------------------------------------


def test_reversing_a_donation_the_pool_has_granted_on_is_refused(
    session, policy, coordinator, make_member, donation
):
    elder = make_member("Elder Choi")
    ledger.grant_from_pool(session, coordinator, elder.id, 40, "winter help", policy)
    session.commit()

    with pytest.raises(InsufficientBalance) as refused:
        ledger.reverse(session, coordinator, donation.id, "donated twice")

    assert str(refused.value.message) == (
        "This correction cannot be made: the community pool holds 20 min and the correction "
        "would take 1 h from it.")
    assert refused.value.member_id is None and refused.value.floor_minutes == 0
    assert pool_balance(session) == 20
    assert balance(session, elder) == 40 and ledger.reversal_of(session, donation) is None
    assert ledger.verify(session) == []


def test_reversing_a_donation_the_pool_still_holds_goes_through(session, coordinator, donation):
    ledger.reverse(session, coordinator, donation.id, "donated twice")
    session.commit()
    assert pool_balance(session) == 0
    assert balance(session, donation.created_by_id) == 60


def test_console_says_how_much_the_pool_holds_and_changes_nothing(
    session, policy, console, coordinator, make_member, donation
):
    ledger.grant_from_pool(session, coordinator, make_member().id, 60, "winter help", policy)
    session.commit()
    response = console.post(f"/console/transactions/{donation.id}/reverse",
                            data={"memo": "donated twice", "confirm": "y"})
    assert response.status_code == 409
    assert ("the community pool holds 0 min and the correction would take 1 h from it"
            in response.get_data(as_text=True))
    assert pool_balance(session) == 0 and count_transactions(session) == 3


def test_reversals_and_grants_racing_for_the_pool_never_take_it_below_zero(
    app, session, policy, coordinator, colleague, make_member, earn
):
    donations = []
    for n in range(3):
        donor = make_member(f"Donor {n}")
        earn(donor, 60)
        donations.append(ledger.donate_to_pool(session, donor, 60, "", policy))
    elder = make_member("Elder Choi")
    session.commit()
    # Three corrections and three grants, each taking an hour from a pool of three hours.
    reverser = logged_in_clients(app, coordinator, 3)
    granter = logged_in_clients(app, colleague, 3)
    calls = [(client, csrf, f"/console/transactions/{d.id}/reverse",
              {"data": {"memo": "donated twice", "confirm": "y"}})
             for (client, csrf), d in zip(reverser, donations, strict=True)]
    calls += [(client, csrf, f"{API}/grants",
               {"json": {"to_member_id": elder.id, "minutes": 60, "memo": "winter help"}})
              for client, csrf in granter]

    statuses = race_calls(app, session, calls)

    assert set(statuses) <= {302, 201, 409}, statuses
    assert sum(status in (302, 201) for status in statuses) == 3, statuses
    assert pool_balance(session) == 0
    assert ledger.verify(session) == []


def race_calls(app, session, calls):
    """POST each (client, csrf, path, body) at once, released by a barrier; the statuses."""
    session.commit()
    test_session = app.config.pop("TEST_SESSION")
    barrier = threading.Barrier(len(calls))
    statuses = [None] * len(calls)

    def run(i, client, csrf, path, body):
        barrier.wait()
        try:
            statuses[i] = client.post(path, headers={"X-CSRFToken": csrf}, **body).status_code
        except Exception as error:  # reported by the assertions, with the call it came from
            statuses[i] = repr(error)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        app.config["TEST_SESSION"] = test_session
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return statuses


# --- gifts and donations spend only time the member has ----------------------------------


def test_member_below_zero_cannot_gift_and_is_told_their_balance(
    session, policy, make_member, make_exchange
):
    receiver, carer, friend = make_member("Kim Receiver"), make_member("Carer"), make_member("Friend")
    credited_visit(session, policy, make_exchange(carer, receiver), 150)  # at −2 h 30

    with pytest.raises(InsufficientBalance) as refused:
        ledger.gift(session, receiver, friend.id, 30, "", policy)

    assert str(refused.value.message) == "You can give only minutes you have: your balance is −2 h 30 min."
    assert refused.value.floor_minutes == 0 and refused.value.member_id == receiver.id
    assert (balance(session, receiver), balance(session, friend)) == (-150, 0)
    assert count_transactions(session) == 1


def test_member_below_zero_cannot_donate(session, policy, make_member, make_exchange):
    receiver = make_member("Kim Receiver")
    credited_visit(session, policy, make_exchange(make_member("Carer"), receiver), 150)
    with pytest.raises(InsufficientBalance) as refused:
        ledger.donate_to_pool(session, receiver, 30, "", policy)
    assert refused.value.floor_minutes == 0
    assert balance(session, receiver) == -150 and pool_balance(session) == 0


def test_gift_page_says_what_the_member_has(app, session, make_member, earn):
    giver, friend = make_member("Park Min-su"), make_member("Lee Soon-ja")
    earn(giver, 20)
    response = logged_in(app, giver).post("/ledger/gift", data={
        "to_member_id": friend.id, "hours": 0, "extra_minutes": 30, "send": "1"})
    assert response.status_code == 400
    assert "You can give only minutes you have: your balance is 20 min." in response.get_data(as_text=True)
    assert (balance(session, giver), balance(session, friend)) == (20, 0)


def test_api_gift_beyond_the_balance_is_409_and_moves_nothing(app, session, make_member):
    giver, friend = make_member("Park Min-su"), make_member("Lee Soon-ja")
    response = logged_in(app, giver).post(f"{API}/transfers", json={"to_member_id": friend.id, "minutes": 1})
    assert response.status_code == 409
    assert response.get_json()["error"] == {
        "code": "insufficient_balance",
        "message": "You can give only minutes you have: your balance is 0 min."}
    assert (balance(session, giver), balance(session, friend)) == (0, 0)


# --- a deactivated member's minutes stay where they are ----------------------------------


@pytest.fixture
def departed(session, coordinator, make_member, earn):
    """A member with an hour earned, then deactivated by the centre."""
    member = make_member("Departed Jang")
    earn(member, 60)
    on_behalf.deactivate(session, coordinator, member, "Moved away")
    session.commit()
    return member


def test_gift_to_a_deactivated_member_is_refused(session, policy, make_member, earn, departed):
    giver = make_member("Park Min-su")
    earn(giver, 60)
    with pytest.raises(Conflict) as refused:
        ledger.gift(session, giver, departed.id, 30, "", policy)
    assert refused.value.code == "member_deactivated"
    assert str(refused.value.message) == "Departed Jang's membership is deactivated: their minutes cannot move."
    assert (balance(session, giver), balance(session, departed)) == (60, 60)


def test_a_deactivated_member_cannot_gift_or_donate(session, policy, make_member, departed):
    friend = make_member("Friend")
    with pytest.raises(Conflict, match="membership is deactivated"):
        ledger.gift(session, departed, friend.id, 30, "", policy)
    with pytest.raises(Conflict, match="membership is deactivated"):
        ledger.donate_to_pool(session, departed, 30, "", policy)
    assert balance(session, departed) == 60 and pool_balance(session) == 0


def test_grant_to_a_deactivated_member_is_refused(session, policy, coordinator, departed, fill_pool):
    fill_pool(60)
    with pytest.raises(Conflict) as refused:
        ledger.grant_from_pool(session, coordinator, departed.id, 30, "winter help", policy)
    assert refused.value.code == "member_deactivated"
    assert balance(session, departed) == 60 and pool_balance(session) == 60


def test_visit_of_a_deactivated_member_is_not_credited(session, policy, make_member, make_exchange):
    carer, resident = make_member("Carer Lee"), make_member("Resident Kim")
    exchange = make_exchange(carer, resident)
    on_behalf.deactivate(session, make_member("Coordinator", role=Role.COORDINATOR), carer, "")
    session.commit()
    with pytest.raises(Conflict, match="Carer Lee's membership is deactivated"):
        credited_visit(session, policy, exchange, 60)
    assert (balance(session, carer), balance(session, resident)) == (0, 0)


def test_a_coordinator_can_still_correct_a_deactivated_members_transaction(
    session, policy, coordinator, departed
):
    [visit] = [e for e in ledger.history(session, departed.id) if e.kind is TransactionKind.VISIT]
    ledger.reverse(session, coordinator, visit.transaction_id, "never happened")
    session.commit()
    assert balance(session, departed) == 0


def test_gift_page_does_not_offer_a_deactivated_recipient(app, session, make_member, earn, departed):
    giver = make_member("Park Min-su")
    earn(giver, 60)
    client = logged_in(app, giver)
    assert "Give time to Departed Jang" not in client.get(f"/ledger/gift?to={departed.id}").get_data(as_text=True)
    looked_up = client.post("/ledger/gift", data={"to_member_id": departed.id, "hours": 0, "extra_minutes": 30})
    assert looked_up.status_code == 400
    assert "This member is no longer active" in looked_up.get_data(as_text=True)
    response = client.post("/ledger/gift", data={"to_member_id": departed.id, "hours": 0, "extra_minutes": 30,
                                                 "send": "1"})
    assert response.status_code == 400
    assert "Departed Jang&#39;s membership is deactivated" in response.get_data(as_text=True)
    assert (balance(session, giver), balance(session, departed)) == (60, 60)


def test_console_grant_page_does_not_name_a_deactivated_recipient(console, departed, fill_pool):
    fill_pool(60)
    page = console.get(f"/console/grant?member={departed.id}").get_data(as_text=True)
    assert "To Departed Jang" not in page


def test_api_transfer_to_a_deactivated_member_is_409(app, session, make_member, earn, departed):
    giver = make_member("Park Min-su")
    earn(giver, 60)
    response = logged_in(app, giver).post(f"{API}/transfers", json={"to_member_id": departed.id, "minutes": 30})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "member_deactivated"
    assert (balance(session, giver), balance(session, departed)) == (60, 60)


@pytest.fixture
def fill_pool(session, policy, make_member, earn):
    def fill(minutes):
        donor = make_member("Donor")
        earn(donor, minutes)
        ledger.donate_to_pool(session, donor, minutes, "", policy)
        session.commit()

    return fill
