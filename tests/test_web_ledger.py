"""My time through the web pages: the balance and history, gifts, donations to the
community pool and coordinators' grants. A refused transfer moves nothing."""
import re

import pytest
import sqlalchemy as sa
from conftest import balance, logged_in

from carebank.confirmations import services as confirmations
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction
from carebank.members.models import Role


def pool_balance(session) -> int:
    session.commit()
    return ledger.pool_account(session).balance_minutes


def count_transactions(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction))


@pytest.fixture
def giver(make_member):
    return make_member("Park Min-su")


@pytest.fixture
def giver_client(app, giver):
    return logged_in(app, giver)


def test_gift_moves_minutes_and_shows_in_both_histories(app, giver, giver_client, make_member, session, earn):
    friend = make_member("Lee Soon-ja")
    earn(giver, 75)
    response = giver_client.post("/ledger/gift", data={
        "to_member_id": friend.id, "hours": 1, "extra_minutes": 15, "memo": "For the kimchi", "send": "1"})
    assert response.status_code == 302 and response.location == "/ledger/"
    assert (balance(session, giver), balance(session, friend)) == (0, 75)
    mine = giver_client.get("/ledger/").get_data(as_text=True)
    assert "You gave 1 h 15 min to Lee Soon-ja" in mine
    assert re.search(rf'Gift</strong> ·\s*<a href="/members/{friend.id}">Lee Soon-ja</a>', mine)
    assert "For the kimchi" in mine and 'class="num amount debit">−1 h 15 min' in mine
    theirs = logged_in(app, friend).get("/ledger/").get_data(as_text=True)
    assert "Park Min-su" in theirs and 'class="num amount credit">+1 h 15 min' in theirs


def test_gift_link_from_a_profile_names_the_recipient(giver_client, make_member):
    friend = make_member("Lee Soon-ja")
    page = giver_client.get(f"/ledger/gift?to={friend.id}").get_data(as_text=True)
    assert "Give time to Lee Soon-ja" in page
    assert re.search(rf'<input[^>]* name="to_member_id"[^>]* type="hidden" value="{friend.id}"', page)


@pytest.mark.parametrize("change, message", [
    ({"to_member_id": "self"}, "You cannot give time to yourself."),
    ({"to_member_id": 9999}, "No member has this number."),
    ({"to_member_id": ""}, "This field is required."),
    ({"hours": 0, "extra_minutes": 0}, "The time must be between 1 minute and 24 h."),
    ({"hours": 25}, "Number must be between 0 and 24."),
    ({"memo": "x" * 201}, "Field cannot be longer than 200 characters."),
])
def test_bad_gift_is_refused_and_moves_nothing(giver, giver_client, make_member, session, change, message):
    friend = make_member("Lee Soon-ja")
    data = {"to_member_id": friend.id, "hours": 1, "extra_minutes": 0, "memo": "", **change}
    if data["to_member_id"] == "self":
        data["to_member_id"] = giver.id
    response = giver_client.post("/ledger/gift", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert (balance(session, giver), balance(session, friend)) == (0, 0)
    assert count_transactions(session) == 0


def test_gift_beyond_the_balance_is_refused(giver, giver_client, make_member, session, earn):
    friend = make_member("Lee Soon-ja")
    earn(giver, 60)  # one hour can be given, not more
    response = giver_client.post("/ledger/gift", data={"to_member_id": friend.id, "hours": 1, "extra_minutes": 10,
                                                       "send": "1"})
    assert response.status_code == 400
    assert "You can give only minutes you have: your balance is 1 h." in response.get_data(as_text=True)
    assert balance(session, giver) == 60
    allowed = giver_client.post("/ledger/gift", data={"to_member_id": friend.id, "hours": 1, "extra_minutes": 0,
                                                      "send": "1"})
    assert allowed.status_code == 302 and balance(session, giver) == 0


def test_donation_fills_the_pool(giver, giver_client, session, earn):
    earn(giver, 120)
    response = giver_client.post("/ledger/donate", data={"hours": 2, "extra_minutes": 0, "memo": "For winter"})
    assert response.status_code == 302
    assert (balance(session, giver), pool_balance(session)) == (0, 120)
    history = giver_client.get("/ledger/").get_data(as_text=True)
    assert "Donation</strong> ·" in history and "Community pool" in history
    assert "2 h" in giver_client.get("/ledger/pool").get_data(as_text=True)


@pytest.mark.parametrize("data, message", [
    ({"hours": 0, "extra_minutes": 0}, "The time must be between 1 minute and 24 h."),
    ({"hours": 1, "extra_minutes": 0}, "You can give only minutes you have: your balance is 0 min."),
    ({"hours": "", "extra_minutes": 0}, "Not a valid integer value."),
])
def test_bad_donation_is_refused_and_moves_nothing(giver, giver_client, session, data, message):
    response = giver_client.post("/ledger/donate", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert (balance(session, giver), pool_balance(session)) == (0, 0)


@pytest.fixture
def coordinator_client(app, make_member):
    return logged_in(app, make_member("Coordinator Choi", role=Role.COORDINATOR))


def test_coordinator_grants_from_the_pool(giver, giver_client, coordinator_client, make_member, session, earn):
    earn(giver, 180)
    giver_client.post("/ledger/donate", data={"hours": 3, "extra_minutes": 0})
    elder = make_member("Grandma Yoon")
    assert "Grant this time" in coordinator_client.get("/ledger/pool").get_data(as_text=True)
    response = coordinator_client.post("/ledger/pool/grant", data={
        "to_member_id": elder.id, "hours": 2, "extra_minutes": 0, "memo": "Winter help"})
    assert response.status_code == 302
    assert (pool_balance(session), balance(session, elder)) == (60, 120)


def test_grant_beyond_the_pool_is_refused(coordinator_client, make_member, session):
    elder = make_member("Grandma Yoon")
    unexplained = coordinator_client.post("/ledger/pool/grant", data={"to_member_id": elder.id, "hours": 1})
    assert unexplained.status_code == 400 and "Please give the reason." in unexplained.get_data(as_text=True)
    response = coordinator_client.post("/ledger/pool/grant",
                                       data={"to_member_id": elder.id, "hours": 1, "memo": "Winter help"})
    assert response.status_code == 400
    assert "The community pool does not have that much time." in response.get_data(as_text=True)
    assert (pool_balance(session), balance(session, elder)) == (0, 0)
    unknown = coordinator_client.post("/ledger/pool/grant", data={"to_member_id": 9999, "hours": 1, "memo": "Help"})
    assert unknown.status_code == 400 and "That member does not exist." in unknown.get_data(as_text=True)


def test_members_cannot_grant(giver, giver_client, make_member, session, earn):
    earn(giver, 60)
    giver_client.post("/ledger/donate", data={"hours": 1, "extra_minutes": 0})
    other = make_member("Other")
    assert "Grant this time" not in giver_client.get("/ledger/pool").get_data(as_text=True)
    response = giver_client.post("/ledger/pool/grant", data={"to_member_id": other.id, "hours": 1})
    assert response.status_code == 403
    assert (pool_balance(session), balance(session, other)) == (60, 0)


def test_history_shows_balance_floor_and_visits(app, make_exchange, session, policy):
    exchange = make_exchange()
    code, token = confirmations.make_code(session, exchange.provider, exchange.id, 90, policy)
    confirmations.redeem(session, exchange.receiver, token, policy)
    page = logged_in(app, exchange.receiver).get("/ledger/").get_data(as_text=True)
    assert 'class="balance negative">−1 h 30 min' in page
    assert "can go down to −20 h" in page and "Care received: 1 h 30 min" in page
    assert "Visit</strong>" in page and "Provider" in page and f"/exchanges/{exchange.id}" in page


def test_empty_history_says_so(giver_client):
    page = giver_client.get("/ledger/").get_data(as_text=True)
    assert 'class="balance ">0 min' in page and "Nothing yet" in page


@pytest.mark.parametrize("language", ["ko", "en"])
def test_ledger_pages_render_in_both_languages(giver_client, coordinator_client, language):
    headers = {"Accept-Language": language}
    for client, url in [(giver_client, "/ledger/"), (giver_client, "/ledger/gift?to=1"),
                        (giver_client, "/ledger/donate"), (coordinator_client, "/ledger/pool")]:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.get_data(as_text=True)


def test_history_pages_twenty_five_entries_at_a_time_newest_first(app, session, policy, make_member, earn):
    alice, bora = make_member("Alice"), make_member("Bora")
    earn(alice, 30)  # the oldest entry, before the gifts
    for n in range(1, 31):  # 30 gifts: "gift 1" oldest … "gift 30" newest
        ledger.gift(session, alice, bora.id, 1, f"gift {n}", policy)
    session.commit()
    phone = logged_in(app, alice)

    first = phone.get("/ledger/").get_data(as_text=True)
    second = phone.get("/ledger/?page=2").get_data(as_text=True)
    beyond = phone.get("/ledger/?page=3").get_data(as_text=True)

    assert first.count("<tr>") - 1 == 25 and "gift 30" in first and "gift 6<" in first
    assert "gift 5<" not in first and "Older entries" in first and "Newer entries" not in first
    assert second.count("<tr>") - 1 == 6 and "gift 5<" in second and "gift 1<" in second
    assert "Newer entries" in second and "Older entries" not in second
    assert "There are no older entries." in beyond
