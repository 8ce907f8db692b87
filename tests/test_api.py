"""The JSON API v1 against its contract: the shapes it answers, every error status with its
error body, CSRF, login, unknown ids and hostile input. The whole journey through the API in
one piece is in test_api_flow.py."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from conftest import PASSWORD, balance, logged_in

from carebank.confirmations import services as confirmations
from carebank.core.database import Base, utcnow
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.members.models import Role
from carebank.posts import services as posts

API = "/api/v1"
PUBLIC_MEMBER_KEYS = {"id", "name", "neighbourhood"}
MEMBER_KEYS = {*PUBLIC_MEMBER_KEYS, "balance_minutes"}
POST_KEYS = {"id", "kind", "category", "title", "description", "minutes", "neighbourhood", "status",
             "member_id"}
EXCHANGE_KEYS = {"id", "post_id", "provider_id", "receiver_id", "status"}
TRANSACTION_KEYS = {"id", "exchange_id", "from_member_id", "to_member_id", "minutes"}
ENTRY_KEYS = {"transaction_id", "minutes", "counterparty_id", "exchange_id", "memo", "created_at"}
KO_CATALOGUE = Path(__file__).resolve().parent.parent / "carebank/translations/ko/LC_MESSAGES/messages.mo"


# --- helpers ----------------------------------------------------------------------------------

def error_of(response, status: int) -> dict:
    """The error object of a refused request, after checking the contract's error shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"].strip()
    return error


def field_error(response, field: str) -> dict:
    """A 400 whose `fields` names `field` with a message of its own."""
    error = error_of(response, 400)
    assert isinstance(error["fields"][field], str) and error["fields"][field].strip(), error
    return error


def snapshot(session) -> dict:
    """Every row of every table: two equal snapshots mean the requests between changed nothing."""
    return {table.name: session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            for table in Base.metadata.sorted_tables}




def new_post(client, **fields):
    body = {"kind": "need", "category": "meals", "title": "Soup on Sunday", "description": "",
            "minutes": 60, **fields}
    response = client.post(f"{API}/posts", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["post"]


def new_code(client, exchange_id: int, minutes: int = 30) -> dict:
    response = client.post(f"{API}/exchanges/{exchange_id}/confirmation-codes", json={"minutes": minutes})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def alice(make_member):
    return make_member("Alice", neighbourhood="Hyoja-dong")


@pytest.fixture
def bob(make_member):
    return make_member("Bob", neighbourhood="Hyoja-dong")


@pytest.fixture
def carol(make_member):
    return make_member("Carol", neighbourhood="Mapo")


@pytest.fixture
def as_alice(client, alice):
    client.login(alice)
    return client


@pytest.fixture
def as_bob(app, bob):
    return logged_in(app, bob)


@pytest.fixture
def as_carol(app, carol):
    return logged_in(app, carol)


# --- session, sign-up, me, categories -----------------------------------------------------------

def test_logged_out_session_has_no_member_but_a_csrf_token(client):
    data = client.get(f"{API}/session").get_json()
    assert data["member"] is None
    assert isinstance(data["csrf_token"], str) and data["csrf_token"]


def test_logging_in_answers_the_member_and_the_session_remembers_them(client, alice):
    response = client.post(f"{API}/session", json={"email": alice.email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    member = response.get_json()["member"]
    assert member.keys() >= MEMBER_KEYS
    assert (member["id"], member["name"], member["neighbourhood"]) == (alice.id, "Alice", "Hyoja-dong")
    assert client.get(f"{API}/session").get_json()["member"]["id"] == alice.id


@pytest.mark.parametrize("email, password", [
    ("alice", "wrong password"), ("nobody@example.org", PASSWORD), (None, None), ("alice", None),
])
def test_wrong_credentials_are_401_and_log_nobody_in(client, alice, email, password):
    email = alice.email if email == "alice" else email
    response = client.post(f"{API}/session", json={"email": email, "password": password})
    assert error_of(response, 401)["code"] == "invalid_credentials"
    assert client.get(f"{API}/me").status_code == 401


def test_logging_out_answers_204_and_then_me_is_401(as_alice):
    assert as_alice.delete(f"{API}/session").status_code == 204
    assert error_of(as_alice.get(f"{API}/me"), 401)["code"] == "unauthorized"
    assert as_alice.get(f"{API}/session").get_json()["member"] is None


def test_signing_up_creates_a_member_at_zero_who_is_logged_in(client):
    response = client.post(f"{API}/members", json={
        "name": "Kim Young-ja", "email": "youngja@example.org", "password": "12345678",
        "neighbourhood": "Hyoja-dong"})
    assert response.status_code == 201
    member = response.get_json()["member"]
    assert member.keys() >= MEMBER_KEYS
    assert (member["name"], member["neighbourhood"], member["balance_minutes"]) == \
        ("Kim Young-ja", "Hyoja-dong", 0)
    assert client.get(f"{API}/me").get_json()["member"]["id"] == member["id"]


def test_signing_up_with_a_taken_email_is_409_and_saves_nothing(client, session, alice):
    before = snapshot(session)
    response = client.post(f"{API}/members", json={
        "name": "Other", "email": alice.email.upper(), "password": PASSWORD, "neighbourhood": ""})
    error = error_of(response, 409)
    assert error["code"] == "email_taken" and "email" in error["fields"]
    assert snapshot(session) == before
    assert client.get(f"{API}/me").status_code == 401


def test_me_shows_the_logged_in_member_and_their_balance(as_alice, alice, bob, session, policy, earn):
    earn(bob, 25)
    ledger.gift(session, bob, alice.id, 25, "", policy)
    session.commit()
    member = as_alice.get(f"{API}/me").get_json()["member"]
    assert member.keys() >= MEMBER_KEYS
    assert (member["id"], member["balance_minutes"]) == (alice.id, 25)


def test_categories_list_slugs_with_names(client):
    categories = client.get(f"{API}/categories").get_json()["categories"]
    assert all(c.keys() == {"slug", "name"} and c["slug"] and c["name"] for c in categories)
    slugs = [c["slug"] for c in categories]
    assert len(slugs) == len(set(slugs)) and {"meals", "escort"} <= set(slugs)


# --- posts ------------------------------------------------------------------------------------

def test_creating_a_post_answers_it_as_sent_in_the_members_neighbourhood(as_alice, alice):
    post = new_post(as_alice, kind="offer", category="escort", title="  Walk to the clinic ",
                    description="Tuesdays", minutes=90)
    assert post.keys() >= POST_KEYS
    assert {k: post[k] for k in POST_KEYS - {"id"}} == {
        "kind": "offer", "category": "escort", "title": "Walk to the clinic", "description": "Tuesdays",
        "minutes": 90, "neighbourhood": "Hyoja-dong", "status": "open", "member_id": alice.id}
    assert as_alice.get(f"{API}/posts/{post['id']}").get_json()["post"]["id"] == post["id"]


@pytest.mark.parametrize("fields", [
    {"title": "x" * 120}, {"description": "x" * 4000}, {"minutes": 1}, {"minutes": 1440},
])
def test_post_limits_are_inclusive(as_alice, fields):
    assert new_post(as_alice, **fields)["minutes"] == fields.get("minutes", 60)


def test_post_list_shows_open_posts_newest_first(client, session, policy, make_post, make_exchange,
                                                 alice, bob, carol):
    now = utcnow()
    make_post(alice, title="Old", now=now - timedelta(days=2))
    make_post(bob, title="New", now=now - timedelta(hours=1))
    make_post(carol, title="Middle", now=now - timedelta(days=1))
    make_post(bob, title="Expired", now=now - timedelta(days=policy.post_lifetime_days, hours=1))
    closed = make_post(carol, title="Closed")
    posts.close_post(session, carol, closed.id)
    session.commit()
    make_exchange()  # its post is matched, no longer open
    found = client.get(f"{API}/posts").get_json()["posts"]
    assert [p["title"] for p in found] == ["New", "Middle", "Old"]
    assert all(p.keys() >= POST_KEYS and p["status"] == "open" for p in found)


@pytest.mark.parametrize("query, titles", [
    ("kind=offer", ["Walk"]), ("category=meals", ["Soup"]), ("neighbourhood=mapo", ["Walk"]),
    ("q=CLINIC", ["Walk"]), ("kind=need&category=escort", []), ("q=", ["Walk", "Soup"]),
])
def test_post_list_filters(client, make_post, alice, carol, query, titles):
    make_post(alice, kind="need", category="meals", title="Soup")
    make_post(carol, kind="offer", category="escort", title="Walk", description="to the clinic")
    found = client.get(f"{API}/posts?{query}").get_json()["posts"]
    assert [p["title"] for p in found] == titles


def test_my_posts_lists_only_mine(as_alice, make_post, alice, bob):
    mine = make_post(alice, title="Mine")
    make_post(bob, title="Not mine")
    assert [p["id"] for p in as_alice.get(f"{API}/posts/mine").get_json()["posts"]] == [mine.id]


def test_owner_closes_a_post_and_no_one_else_can(as_alice, as_bob, make_post, alice):
    post = make_post(alice)
    assert error_of(as_bob.post(f"{API}/posts/{post.id}/close"), 403)["code"] == "forbidden"
    closed = as_alice.post(f"{API}/posts/{post.id}/close")
    assert closed.status_code == 200 and closed.get_json()["post"]["status"] == "closed"


# --- matches ----------------------------------------------------------------------------------

def test_matches_are_offers_that_fit_best_first_and_never_the_owners_own(as_alice, make_post, alice, bob, carol):
    need = make_post(alice, kind="need", category="meals", title="Lunch together")
    close_fit = make_post(bob, kind="offer", category="meals", title="Lunch together")
    loose_fit = make_post(carol, kind="offer", category="meals", title="Soup")  # in Mapo
    make_post(carol, kind="offer", category="paperwork", title="Tax forms")  # another kind of care
    make_post(alice, kind="offer", category="meals", title="Lunch together")
    make_post(bob, kind="need", category="meals", title="Lunch together")
    found = as_alice.get(f"{API}/posts/{need.id}/matches").get_json()["matches"]
    assert [m["post"]["id"] for m in found] == [close_fit.id, loose_fit.id]
    assert all(m.keys() == {"post", "score", "reasons"} and m["post"].keys() >= POST_KEYS for m in found)
    assert found[0]["score"] > found[1]["score"]
    assert found[0]["reasons"] == [{"code": "same_care", "text": "same kind of help"},
                                   {"code": "nearby", "text": "your neighbourhood"}]


def test_matches_never_include_the_askers_own_posts(as_carol, make_post, alice, bob, carol):
    need = make_post(alice, kind="need", category="meals", title="Lunch together")
    make_post(carol, kind="offer", category="meals", title="Lunch together")
    other = make_post(bob, kind="offer", category="meals", title="Lunch")
    found = as_carol.get(f"{API}/posts/{need.id}/matches").get_json()["matches"]
    assert [m["post"]["id"] for m in found] == [other.id]


# --- responses and exchanges -----------------------------------------------------------------

def test_responding_to_a_need_makes_the_responder_the_provider(as_bob, make_post, alice, bob):
    need = make_post(alice, kind="need")
    response = as_bob.post(f"{API}/posts/{need.id}/responses", json={"message": "Happy to"})
    assert response.status_code == 201
    exchange = response.get_json()["exchange"]
    assert exchange.keys() >= EXCHANGE_KEYS
    assert {k: exchange[k] for k in EXCHANGE_KEYS - {"id"}} == {
        "post_id": need.id, "provider_id": bob.id, "receiver_id": alice.id, "status": "proposed"}


def test_responding_to_an_offer_makes_the_responder_the_receiver(as_bob, make_post, alice, bob):
    offer = make_post(alice, kind="offer")
    exchange = as_bob.post(f"{API}/posts/{offer.id}/responses").get_json()["exchange"]
    assert (exchange["provider_id"], exchange["receiver_id"]) == (alice.id, bob.id)


def test_responding_to_ones_own_post_is_403_and_saves_nothing(as_alice, session, make_post, alice):
    post = make_post(alice)
    before = snapshot(session)
    assert error_of(as_alice.post(f"{API}/posts/{post.id}/responses"), 403)["code"] == "own_post"
    assert snapshot(session) == before


def test_responding_twice_or_to_a_closed_post_is_409(as_bob, session, make_post, alice):
    post, closed = make_post(alice), make_post(alice)
    posts.close_post(session, alice, closed.id)
    session.commit()
    assert as_bob.post(f"{API}/posts/{post.id}/responses").status_code == 201
    assert error_of(as_bob.post(f"{API}/posts/{post.id}/responses"), 409)["code"] == "already_responded"
    assert error_of(as_bob.post(f"{API}/posts/{closed.id}/responses"), 409)["code"] == "post_not_open"


def test_an_exchange_is_shown_to_its_two_parties_only(as_alice, as_bob, as_carol, make_exchange, alice, bob):
    exchange = make_exchange(provider=bob, receiver=alice)
    for party in (as_alice, as_bob):
        shown = party.get(f"{API}/exchanges/{exchange.id}").get_json()["exchange"]
        assert shown.keys() >= EXCHANGE_KEYS and shown["status"] == "accepted"
    assert error_of(as_carol.get(f"{API}/exchanges/{exchange.id}"), 403)["code"] == "forbidden"


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_only_the_posts_owner_answers_a_response(as_alice, as_bob, as_carol, make_exchange, alice, bob, action):
    exchange = make_exchange(provider=bob, receiver=alice, accepted=False)
    url = f"{API}/exchanges/{exchange.id}/{action}"
    error_of(as_bob.post(url), 403)
    error_of(as_carol.post(url), 403)
    assert as_bob.get(f"{API}/exchanges/{exchange.id}").get_json()["exchange"]["status"] == "proposed"
    answered = as_alice.post(url)
    assert answered.status_code == 200
    assert answered.get_json()["exchange"]["status"] == {"accept": "accepted", "decline": "declined"}[action]


@pytest.mark.parametrize("first, then", [("accept", "decline"), ("decline", "accept"), ("accept", "accept")])
def test_answering_an_answered_response_is_409(as_alice, make_exchange, alice, first, then):
    exchange = make_exchange(receiver=alice, accepted=False)
    as_alice.post(f"{API}/exchanges/{exchange.id}/{first}")
    assert error_of(as_alice.post(f"{API}/exchanges/{exchange.id}/{then}"), 409)["code"] == "already_decided"


def test_my_exchanges_and_cancelling_one(as_alice, as_carol, make_exchange, alice):
    exchange = make_exchange(receiver=alice)
    make_exchange()  # someone else's
    listed = as_alice.get(f"{API}/exchanges").get_json()["exchanges"]
    assert [e["id"] for e in listed] == [exchange.id]
    error_of(as_carol.post(f"{API}/exchanges/{exchange.id}/cancel"), 403)
    cancelled = as_alice.post(f"{API}/exchanges/{exchange.id}/cancel")
    assert cancelled.get_json()["exchange"]["status"] == "cancelled"
    assert error_of(as_alice.post(f"{API}/exchanges/{exchange.id}/cancel"), 409)["code"] == "exchange_ended"


# --- confirmation codes and confirmations -----------------------------------------------------

def test_a_party_of_an_accepted_exchange_gets_a_code_with_its_url(as_bob, make_exchange, alice, bob, app):
    exchange = make_exchange(provider=bob, receiver=alice)
    made = new_code(as_bob, exchange.id, 45)
    assert {"code", "url", "expires_at"} <= made.keys()
    assert made["url"].startswith("http") and made["url"].endswith(made["code"])
    expires = datetime.fromisoformat(made["expires_at"])
    expected = datetime.now(UTC) + timedelta(seconds=app.config["CONFIRMATION_CODE_TTL"])
    assert abs((expires - expected).total_seconds()) < 60


@pytest.mark.parametrize("state", ["proposed", "declined", "cancelled"])
def test_codes_only_for_accepted_exchanges(as_bob, session, make_exchange, alice, bob, state):
    exchange = make_exchange(provider=bob, receiver=alice, accepted=False)
    if state == "declined":
        exchanges.decline(session, alice, exchange.id)
    elif state == "cancelled":
        exchanges.cancel(session, bob, exchange.id)
    session.commit()
    before = snapshot(session)
    response = as_bob.post(f"{API}/exchanges/{exchange.id}/confirmation-codes", json={"minutes": 30})
    assert error_of(response, 409)["code"] == "exchange_not_accepted"
    assert snapshot(session) == before


def test_a_stranger_cannot_make_a_code(as_carol, session, make_exchange):
    exchange = make_exchange()
    before = snapshot(session)
    error_of(as_carol.post(f"{API}/exchanges/{exchange.id}/confirmation-codes", json={"minutes": 30}), 403)
    assert snapshot(session) == before


def test_redeeming_the_typed_code_moves_minutes_once(as_alice, as_bob, session, make_exchange, alice, bob):
    exchange = make_exchange(provider=bob, receiver=alice)
    code = new_code(as_bob, exchange.id, 45)["code"]
    # Typed from a card: lower case, in groups of four.
    typed = "-".join(code[i:i + 4] for i in range(0, len(code), 4)).lower()
    first = as_alice.post(f"{API}/confirmations", json={"code": typed})
    assert first.status_code == 201
    transaction = first.get_json()["transaction"]
    assert transaction.keys() >= TRANSACTION_KEYS
    assert {k: transaction[k] for k in TRANSACTION_KEYS - {"id"}} == {
        "exchange_id": exchange.id, "from_member_id": alice.id, "to_member_id": bob.id, "minutes": 45}
    again = as_alice.post(f"{API}/confirmations", json={"code": code})
    assert again.status_code == 200 and again.get_json()["transaction"]["id"] == transaction["id"]
    assert (balance(session, alice.id), balance(session, bob.id)) == (-45, 45)


@pytest.mark.parametrize("who", ["maker", "stranger"])
def test_the_maker_or_a_stranger_cannot_redeem(app, as_bob, session, make_exchange, alice, bob, carol, who):
    exchange = make_exchange(provider=bob, receiver=alice)
    code = new_code(as_bob, exchange.id)["code"]
    redeemer = as_bob if who == "maker" else logged_in(app, carol)
    before = snapshot(session)
    error = error_of(redeemer.post(f"{API}/confirmations", json={"code": code}), 403)
    assert error["code"] == {"maker": "own_code", "stranger": "not_redeemer"}[who]
    assert snapshot(session) == before


def tampered(code: str) -> str:
    """One character changed: still well-formed, but not a code anyone was given."""
    last = "1" if code[-1] != "1" else "2"
    return code[:-1] + last


@pytest.mark.parametrize("spoil", [tampered, lambda c: c[:-1], lambda c: "garbage", lambda c: "",
                                   lambda c: f"https://elsewhere.example/c/{tampered(c)}"])
def test_a_tampered_or_garbage_code_is_400(as_alice, as_bob, session, make_exchange, alice, bob, spoil):
    exchange = make_exchange(provider=bob, receiver=alice)
    code = new_code(as_bob, exchange.id)["code"]
    before = snapshot(session)
    response = as_alice.post(f"{API}/confirmations", json={"code": spoil(code)})
    assert field_error(response, "code")["code"] == "invalid_code"
    assert snapshot(session) == before


def test_an_expired_code_is_410_and_moves_nothing(as_alice, session, policy, make_exchange, alice, bob):
    exchange = make_exchange(provider=bob, receiver=alice)
    long_ago = utcnow() - timedelta(seconds=policy.code_ttl_seconds + 60)
    _, token = confirmations.make_code(session, bob, exchange.id, 30, policy, now=long_ago)
    session.commit()
    before = snapshot(session)
    assert error_of(as_alice.post(f"{API}/confirmations", json={"code": token}), 410)["code"] == "code_expired"
    assert snapshot(session) == before


def test_an_expired_code_by_a_tiny_ttl_is_410(app, as_alice, as_bob, make_exchange, alice, bob):
    app.config["CONFIRMATION_CODE_TTL"] = 0
    code = new_code(as_bob, make_exchange(provider=bob, receiver=alice).id)["code"]
    error_of(as_alice.post(f"{API}/confirmations", json={"code": code}), 410)


def test_a_visit_past_the_balance_floor_is_409_and_the_code_stays_usable(
        app, as_alice, as_bob, session, make_exchange, alice, bob):
    exchange = make_exchange(provider=bob, receiver=alice)
    code = new_code(as_bob, exchange.id, 30)["code"]
    app.config["MIN_BALANCE_MINUTES"] = 0
    refused = as_alice.post(f"{API}/confirmations", json={"code": code})
    assert error_of(refused, 409)["code"] == "insufficient_balance"
    assert (balance(session, alice.id), balance(session, bob.id)) == (0, 0)
    app.config["MIN_BALANCE_MINUTES"] = -30
    assert as_alice.post(f"{API}/confirmations", json={"code": code}).status_code == 201


def test_a_code_of_a_cancelled_exchange_is_409(as_alice, as_bob, session, make_exchange, alice, bob):
    exchange = make_exchange(provider=bob, receiver=alice)
    code = new_code(as_bob, exchange.id)["code"]
    as_bob.post(f"{API}/exchanges/{exchange.id}/cancel")
    error = error_of(as_alice.post(f"{API}/confirmations", json={"code": code}), 409)
    assert error["code"] == "exchange_not_accepted"
    assert balance(session, alice.id) == 0


# --- ledger, transfers, pool ------------------------------------------------------------------

def test_ledger_lists_signed_entries_newest_first(as_alice, as_bob, alice, bob, earn):
    earned = earn(alice, 30)
    gift = as_alice.post(f"{API}/transfers", json={"to_member_id": bob.id, "minutes": 30, "memo": "Thanks"})
    back = as_bob.post(f"{API}/transfers", json={"to_member_id": alice.id, "minutes": 10, "memo": "Tea"})
    data = as_alice.get(f"{API}/ledger").get_json()
    assert data["balance_minutes"] == 10
    assert all(e.keys() >= ENTRY_KEYS and e["created_at"] for e in data["entries"])
    assert [(e["transaction_id"], e["minutes"], e["counterparty_id"], e["exchange_id"], e["memo"])
            for e in data["entries"]] == [
        (back.get_json()["transaction"]["id"], 10, bob.id, None, "Tea"),
        (gift.get_json()["transaction"]["id"], -30, bob.id, None, "Thanks"),
        (earned.id, 30, earned.postings[0].account.member_id, earned.exchange_id, "")]


def test_a_gift_moves_minutes_between_members(as_alice, session, alice, bob, earn):
    earn(alice, 45)
    response = as_alice.post(f"{API}/transfers", json={"to_member_id": bob.id, "minutes": 45, "memo": "Thanks"})
    assert response.status_code == 201
    transaction = response.get_json()["transaction"]
    assert transaction.keys() >= TRANSACTION_KEYS
    assert {k: transaction[k] for k in TRANSACTION_KEYS - {"id"}} == {
        "exchange_id": None, "from_member_id": alice.id, "to_member_id": bob.id, "minutes": 45}
    assert (balance(session, alice.id), balance(session, bob.id)) == (0, 45)


def test_a_gift_to_oneself_is_400_and_moves_nothing(as_alice, session, alice):
    before = snapshot(session)
    response = as_alice.post(f"{API}/transfers", json={"to_member_id": alice.id, "minutes": 30, "memo": ""})
    assert field_error(response, "to_member_id")["code"] == "self_transfer"
    assert snapshot(session) == before


def test_a_gift_beyond_the_balance_is_409_and_moves_nothing(as_alice, session, alice, bob, earn):
    earn(alice, 60)
    before = snapshot(session)
    refused = as_alice.post(f"{API}/transfers", json={"to_member_id": bob.id, "minutes": 61})
    assert error_of(refused, 409)["code"] == "insufficient_balance"
    assert snapshot(session) == before
    assert as_alice.post(f"{API}/transfers", json={"to_member_id": bob.id, "minutes": 60}).status_code == 201
    assert balance(session, alice.id) == 0


def test_donations_fill_the_pool_and_coordinators_grant_from_it(app, as_alice, make_member, alice, bob, earn):
    earn(alice, 90)
    coordinator = logged_in(app, make_member("Coordinator", role=Role.COORDINATOR))
    donated = as_alice.post(f"{API}/donations", json={"minutes": 90, "memo": "For anyone"})
    assert donated.status_code == 201 and donated.get_json()["transaction"]["from_member_id"] == alice.id
    assert as_alice.get(f"{API}/pool").get_json() == {"balance_minutes": 90}
    unexplained = coordinator.post(f"{API}/grants", json={"to_member_id": bob.id, "minutes": 60, "memo": ""})
    assert error_of(unexplained, 400)["code"] == "reason_required"
    granted = coordinator.post(f"{API}/grants", json={"to_member_id": bob.id, "minutes": 60, "memo": "Winter help"})
    assert granted.status_code == 201 and granted.get_json()["transaction"]["to_member_id"] == bob.id
    assert as_alice.get(f"{API}/pool").get_json() == {"balance_minutes": 30}
    too_much = coordinator.post(f"{API}/grants", json={"to_member_id": bob.id, "minutes": 31, "memo": "More help"})
    assert error_of(too_much, 409)["code"] == "insufficient_balance"


def test_only_a_coordinator_grants(as_alice, session, bob):
    before = snapshot(session)
    error_of(as_alice.post(f"{API}/grants", json={"to_member_id": bob.id, "minutes": 10}), 403)
    assert snapshot(session) == before


# --- profile and other members ----------------------------------------------------------------

def test_updating_my_profile(as_alice):
    response = as_alice.patch(f"{API}/me", json={"name": " Alice Kim ", "neighbourhood": "Mapo"})
    assert response.status_code == 200
    assert {k: response.get_json()["member"][k] for k in ("name", "neighbourhood")} == \
        {"name": "Alice Kim", "neighbourhood": "Mapo"}
    assert as_alice.get(f"{API}/me").get_json()["member"]["name"] == "Alice Kim"


def test_another_member_is_shown_without_their_email(as_alice, bob):
    member = as_alice.get(f"{API}/members/{bob.id}").get_json()["member"]
    assert member.keys() == PUBLIC_MEMBER_KEYS and member["id"] == bob.id
    assert bob.email not in str(member)


# --- across every endpoint --------------------------------------------------------------------

@pytest.fixture
def world(client, session, policy, make_member, make_post, make_exchange, earn):
    """A coordinator, logged in, with something to do at every unsafe endpoint."""
    me = make_member("Coordinator Kim", role=Role.COORDINATOR)
    other = make_member("Neighbour")
    earn(me, 120)  # to give and donate
    earn(other, 120)
    own_post = make_post(me, kind="offer")
    proposed = exchanges.respond(session, other, own_post.id)
    accepted = make_exchange(provider=me, receiver=other)
    _, token = confirmations.make_code(session, other, accepted.id, 30, policy)
    ledger.donate_to_pool(session, other, 120, "", policy)
    session.commit()
    client.login(me)
    return SimpleNamespace(
        client=client, me_id=me.id, other_id=other.id, other_email=other.email, own_post_id=own_post.id,
        their_need_id=make_post(other, kind="need").id, proposed_id=proposed.id,
        accepted_id=accepted.id, token=token,
    )


ENDPOINTS = {
    "log in": lambda w: ("POST", "/session", {"email": w.other_email, "password": PASSWORD}),
    "log out": lambda w: ("DELETE", "/session", None),
    "sign up": lambda w: ("POST", "/members", {"name": "New", "email": "new@example.org",
                                              "password": PASSWORD, "neighbourhood": "Mapo"}),
    "update profile": lambda w: ("PATCH", "/me", {"name": "Renamed"}),
    "create post": lambda w: ("POST", "/posts", {"kind": "need", "category": "meals", "title": "Soup",
                                                 "description": "Hot", "minutes": 60}),
    "close post": lambda w: ("POST", f"/posts/{w.own_post_id}/close", None),
    "respond": lambda w: ("POST", f"/posts/{w.their_need_id}/responses", {"message": "I can"}),
    "accept": lambda w: ("POST", f"/exchanges/{w.proposed_id}/accept", None),
    "decline": lambda w: ("POST", f"/exchanges/{w.proposed_id}/decline", None),
    "cancel": lambda w: ("POST", f"/exchanges/{w.accepted_id}/cancel", None),
    "make code": lambda w: ("POST", f"/exchanges/{w.accepted_id}/confirmation-codes", {"minutes": 30}),
    "redeem": lambda w: ("POST", "/confirmations", {"code": w.token}),
    "transfer": lambda w: ("POST", "/transfers", {"to_member_id": w.other_id, "minutes": 30, "memo": "Hi"}),
    "donate": lambda w: ("POST", "/donations", {"minutes": 30, "memo": "For all"}),
    "grant": lambda w: ("POST", "/grants", {"to_member_id": w.other_id, "minutes": 30, "memo": "Help"}),
}


def send(w, name: str, body=..., **kwargs):
    method, path, valid = ENDPOINTS[name](w)
    if body is ...:
        kwargs["json"] = valid
    elif isinstance(body, (str, bytes)):
        kwargs.update(data=body, content_type=kwargs.get("content_type", "application/json"))
    else:
        kwargs["json"] = body
    return w.client.open(API + path, method=method, **kwargs)


def observe(w, session):
    """What a request could change: the database, and who the session is logged in as."""
    me = w.client.get(f"{API}/session").get_json()["member"]
    return snapshot(session), me and me["id"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_unsafe_endpoint_without_csrf_token_is_400_and_changes_nothing(world, session, name):
    before = observe(world, session)
    error = error_of(send(world, name, with_csrf=False), 400)
    assert error["code"] == "csrf_failed"
    assert observe(world, session) == before
    # The same request with the token goes through: the refusal above was the token's doing.
    assert send(world, name).status_code < 300
    assert observe(world, session) != before


LOGIN_REQUIRED = [
    ("GET", "/me"), ("PATCH", "/me"), ("GET", "/members/1"), ("POST", "/posts"), ("GET", "/posts/mine"),
    ("POST", "/posts/1/close"), ("GET", "/posts/1/matches"), ("POST", "/posts/1/responses"),
    ("GET", "/exchanges"), ("GET", "/exchanges/1"), ("POST", "/exchanges/1/accept"),
    ("POST", "/exchanges/1/decline"), ("POST", "/exchanges/1/cancel"),
    ("POST", "/exchanges/1/confirmation-codes"), ("POST", "/confirmations"), ("GET", "/ledger"),
    ("POST", "/transfers"), ("POST", "/donations"), ("POST", "/grants"), ("GET", "/pool"),
]


@pytest.mark.parametrize("method, path", LOGIN_REQUIRED)
def test_login_required_endpoint_is_401_json_when_logged_out(client, make_post, make_member, method, path):
    make_post(make_member())  # post 1 exists: the 401 is not a disguised 404
    response = client.open(API + path, method=method, json={"minutes": 30})
    assert error_of(response, 401)["code"] == "unauthorized"


UNKNOWN = [
    ("GET", "/posts/999", None), ("GET", "/posts/999/matches", None), ("POST", "/posts/999/responses", None),
    ("POST", "/posts/999/close", None), ("GET", "/exchanges/999", None),
    ("POST", "/exchanges/999/accept", None), ("POST", "/exchanges/999/decline", None),
    ("POST", "/exchanges/999/cancel", None), ("POST", "/exchanges/999/confirmation-codes", {"minutes": 30}),
    ("GET", "/members/999", None), ("POST", "/transfers", {"to_member_id": 999, "minutes": 30}),
    ("POST", "/grants", {"to_member_id": 999, "minutes": 30, "memo": "Help"}),
    ("GET", f"/posts/{2**40}", None), ("GET", f"/exchanges/{2**63}", None), ("GET", "/no-such-thing", None),
]


@pytest.mark.parametrize("method, path, body", UNKNOWN)
def test_unknown_ids_are_404_json_and_change_nothing(world, session, method, path, body):
    before = snapshot(session)
    response = world.client.open(API + path, method=method, json=body)
    assert error_of(response, 404)["code"].endswith("not_found")
    assert snapshot(session) == before


NOT_TEXT = [5, 1.5, True, [], {"a": "b"}, "a\x00b"]
NOT_MINUTES = ["60", 1.5, True, None, 0, -5, 1441, 10**30, [], {}]
NOT_MEMBER_ID = ["2", 1.5, True, None, 0, -5, 10**30, []]


def cases(fields, values):
    return [(field, value) for field in fields for value in values]


BAD_FIELDS = {
    "log in": cases(["email", "password"], NOT_TEXT),
    "sign up": cases(["name", "email", "password", "neighbourhood", "locale"], NOT_TEXT)
    + [("password", "7 chars"), ("email", "nobody"), ("name", " "), ("name", None), ("email", None)],
    "update profile": cases(["name", "neighbourhood", "languages", "offers_text", "phone", "locale"], NOT_TEXT)
    + [("name", ""), ("phone", "call me")],
    "create post": cases(["kind", "category", "title", "description", "neighbourhood"], NOT_TEXT)
    + cases(["minutes"], NOT_MINUTES)
    + [("kind", "wish"), ("category", "cooking"), ("title", " "), ("title", "x" * 121),
       ("description", "x" * 4001), ("starts_at", "tomorrow"), ("starts_at", "2026-05-01T10:00:00"),
       ("starts_at", "0001-01-01T00:00:00+09:00"), ("ends_at", 5)],
    "respond": cases(["message"], NOT_TEXT),
    "make code": cases(["minutes"], NOT_MINUTES),
    "redeem": cases(["code"], [*NOT_TEXT, None, "", "garbage", "x" * 5000]),
    "transfer": cases(["to_member_id"], NOT_MEMBER_ID) + cases(["minutes"], NOT_MINUTES)
    + cases(["memo"], [*NOT_TEXT, "x" * 201]),
    "donate": cases(["minutes"], NOT_MINUTES) + cases(["memo"], NOT_TEXT),
    "grant": cases(["to_member_id"], NOT_MEMBER_ID) + cases(["minutes"], NOT_MINUTES) + cases(["memo"], NOT_TEXT),
}


@pytest.mark.parametrize("name", BAD_FIELDS)
def test_a_bad_field_is_400_naming_it_and_saves_nothing(world, session, name):
    valid = ENDPOINTS[name](world)[2]
    before = observe(world, session)
    for field, value in BAD_FIELDS[name]:
        response = send(world, name, {**valid, field: value})
        assert response.status_code == 400, (field, value, response.get_data(as_text=True))
        field_error(response, field)
        assert observe(world, session) == before, (field, value)


NOT_OBJECTS = ["not json", "[1, 2]", "null", "42", '"text"', "{", "[" * 100_000, b"\xff\xfe{}"]


@pytest.mark.parametrize("name", BAD_FIELDS)  # the endpoints that take a body
def test_a_body_that_is_not_a_json_object_is_400_and_saves_nothing(world, session, name):
    before = observe(world, session)
    for body in NOT_OBJECTS:
        response = send(world, name, body)
        assert error_of(response, 400)["code"] == "invalid_json", body[:20]
    valid_as_form = send(world, name, "minutes=60", content_type="application/x-www-form-urlencoded")
    assert error_of(valid_as_form, 400)["code"] == "invalid_json"
    assert observe(world, session) == before


HOSTILE_VALUES = [None, True, 1.5, -1, 0, 10**30, "", "\x00", "x" * 10_000, [], {"$gt": ""}, [[[[]]]]]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_no_endpoint_answers_500_to_hostile_bodies(world, name):
    fields = set(ENDPOINTS[name](world)[2] or {}) | {"minutes", "message", "code"}
    bodies = [*NOT_OBJECTS, *({f: value for f in fields} for value in HOSTILE_VALUES)]
    for body in bodies:
        response = send(world, name, body)
        assert response.status_code < 500, body
        if response.status_code >= 400:
            error_of(response, response.status_code)


@pytest.mark.parametrize("query", [f"offset={10**30}", "offset=-5", "offset=x", "q=%00", "neighbourhood=a%00",
                                   "kind=%FF", "category=" + "x" * 5000, "q=%25_%5C"])
def test_hostile_post_list_queries_are_never_500(client, query):
    response = client.get(f"{API}/posts?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        error_of(response, 400)
    else:
        assert response.get_json()["posts"] == []


BAD_REQUESTS = [
    ("GET", "/me", None),
    ("POST", "/members", {"name": "Kim", "email": "kim@example.org", "password": "short", "neighbourhood": ""}),
    ("GET", "/posts/999", None),
]


@pytest.mark.parametrize("method, path, body", BAD_REQUESTS)
def test_errors_are_given_in_the_language_asked_for(client, method, path, body):
    english, korean = (client.open(API + path, method=method, json=body, headers={"Accept-Language": lang})
                       for lang in ("en", "ko"))
    error_en, error_ko = error_of(english, english.status_code), error_of(korean, english.status_code)
    assert english.status_code >= 400 and error_en["code"] == error_ko["code"]
    assert error_en.get("fields", {}).keys() == error_ko.get("fields", {}).keys()
    if KO_CATALOGUE.exists():  # once the Korean catalogue is compiled the words must differ
        assert error_en["message"] != error_ko["message"]
