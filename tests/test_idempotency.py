"""Idempotency-Key on POST /api/v1/confirmations: a phone flushing its offline queue twice
(or losing the answer and retrying) is credited once and sees the first answer again."""
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import balance, logged_in, logged_in_clients, race
from sqlalchemy.orm import Session

from carebank.confirmations import services as confirmations
from carebank.confirmations.models import ConfirmationCode
from carebank.core import idempotency
from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.core.idempotency import IdempotencyKey
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.ledger.models import Posting

URL = "/api/v1/confirmations"
THREADS = 8


def posting_count(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Posting))


def stored_keys(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey))


def new_code(session, policy, exchange, minutes: int = 60) -> str:
    """A code the provider shows, for the receiver to redeem."""
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, minutes, policy)
    session.commit()
    return token


def confirm(client, code: str, key: str | None, *, again: bool = False):
    headers = {idempotency.HEADER: key} if key is not None else {}
    body = {"code": code, "confirm_again": True} if again else {"code": code}
    return client.post(URL, json=body, headers=headers)


@pytest.fixture
def exchange(make_exchange):
    return make_exchange(minutes=60)


@pytest.fixture
def receiver(app, exchange):
    """The receiver's phone, logged in."""
    return logged_in(app, exchange.receiver)


@pytest.fixture
def key() -> str:
    return str(uuid.uuid4())  # what the outbox sends (crypto.randomUUID)


def test_replay_answers_the_same_status_and_body_and_pays_once(session, policy, exchange, receiver, key):
    token = new_code(session, policy, exchange)
    first = confirm(receiver, token, key)
    assert first.status_code == 201, first.get_json()
    postings = posting_count(session)

    again = confirm(receiver, token, key)

    assert again.status_code == 201  # without the key a retry answers 200
    assert again.get_data() == first.get_data()
    assert posting_count(session) == postings
    assert balance(session, exchange.provider_id) == 60


def test_the_code_as_url_or_typed_in_groups_is_the_same_request(session, policy, exchange, receiver, key):
    token = new_code(session, policy, exchange)
    first = confirm(receiver, token, key)

    as_url = confirm(receiver, f"https://care.example.org/c/{token}", key)
    typed = confirm(receiver, confirmations.display_code(token).lower(), key)

    assert (as_url.status_code, typed.status_code) == (201, 201)
    assert as_url.get_data() == typed.get_data() == first.get_data()


def test_replay_after_the_code_expired_still_answers_the_original(session, policy, exchange, receiver, key):
    token = new_code(session, policy, exchange)
    first = confirm(receiver, token, key)
    session.execute(sa.update(ConfirmationCode).values(expires_at=utcnow() - timedelta(hours=1)))
    session.commit()

    again = confirm(receiver, token, key)

    assert again.status_code == 201
    assert again.get_data() == first.get_data()


def test_replay_after_the_exchange_was_finished_still_answers_the_original(
        session, policy, exchange, receiver, key):
    token = new_code(session, policy, exchange)
    first = confirm(receiver, token, key)
    exchanges.finish(session, exchange.provider, exchange.id)
    session.commit()

    again = confirm(receiver, token, key)

    assert (again.status_code, again.get_data()) == (201, first.get_data())


def test_same_key_with_another_code_is_refused_and_redeems_nothing(session, policy, exchange, receiver, key):
    first_code, second_code = new_code(session, policy, exchange), new_code(session, policy, exchange, 30)
    confirm(receiver, first_code, key)

    reused = confirm(receiver, second_code, key)

    assert reused.status_code == 422
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert balance(session, exchange.provider_id) == 60
    # The second code is still good for a request with its own key (a second visit within
    # the hour is confirmed on purpose).
    assert confirm(receiver, second_code, str(uuid.uuid4()), again=True).status_code == 201


@pytest.mark.parametrize("bad_key", ["", "a" * 101, "has space", "semi;colon", "a/b", "clé"])
def test_invalid_key_is_refused_before_anything_is_redeemed(session, policy, exchange, receiver, bad_key):
    token = new_code(session, policy, exchange)

    refused = confirm(receiver, token, bad_key)

    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "invalid_idempotency_key"
    assert balance(session, exchange.provider_id) == 0


@pytest.mark.parametrize("good_key", ["a", "A" * 100, "0b1d-_Z9"])
def test_keys_of_1_to_100_safe_characters_are_accepted(session, policy, exchange, receiver, good_key):
    assert confirm(receiver, new_code(session, policy, exchange), good_key).status_code == 201


def test_another_member_using_the_same_key_gets_their_own_result(
        app, session, policy, make_member, make_exchange, exchange, receiver, key):
    mine = confirm(receiver, new_code(session, policy, exchange), key)
    other_exchange = make_exchange(make_member("Other provider"), make_member("Other receiver"), minutes=45)
    other = logged_in(app, other_exchange.receiver)

    theirs = confirm(other, new_code(session, policy, other_exchange, 45), key)

    assert theirs.status_code == 201
    assert theirs.get_json()["transaction"]["minutes"] == 45
    assert theirs.get_json()["transaction"]["id"] != mine.get_json()["transaction"]["id"]
    assert balance(session, other_exchange.provider_id) == 45


def test_another_member_replaying_someones_key_and_code_is_not_given_their_answer(
        app, session, policy, make_member, exchange, receiver, key):
    token = new_code(session, policy, exchange)
    confirm(receiver, token, key)
    stranger = logged_in(app, make_member("Stranger"))

    answer = confirm(stranger, token, key)

    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "not_redeemer"


def test_a_failed_first_attempt_is_not_stored(session, policy, exchange, receiver, key):
    expired = new_code(session, policy, exchange)
    session.execute(sa.update(ConfirmationCode).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert confirm(receiver, expired, key).status_code == 410
    assert stored_keys(session) == 0

    # Had the 410 been stored, the key would now be "reused" (422) or answer 410 again.
    fresh = new_code(session, policy, exchange)
    assert confirm(receiver, fresh, key).status_code == 201


def test_retry_after_topping_up_the_balance_succeeds(
    session, policy, make_member, make_exchange, exchange, receiver, key
):
    friend = make_member("Friend")
    care = make_exchange(friend, exchange.receiver)
    ledger.credit_visit(session, friend.id, exchange.receiver_id, 1200, exchange_id=care.id,
                        created_by_id=exchange.receiver_id, policy=policy)  # receiver now at the floor
    session.commit()
    token = new_code(session, policy, exchange)
    refused = confirm(receiver, token, key)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "insufficient_balance")

    ledger.gift(session, friend, exchange.receiver_id, 60, "", policy)
    session.commit()
    retried = confirm(receiver, token, key)

    assert retried.status_code == 201
    assert balance(session, exchange.provider_id) == 60


def test_a_key_stored_by_a_concurrent_request_is_answered_instead(app, session, make_member):
    """The race: another request stored the key between our look-up and our insert."""
    member = make_member()
    fingerprint = idempotency.request_hash("a request")
    idempotency.remember(session, member.id, "k", fingerprint, 201, {"winner": True})
    session.commit()

    with app.app_context(), Session(db.engine) as loser:  # the other request's own session
        answer = idempotency.remember(loser, member.id, "k", fingerprint, 200, {"winner": False})
        loser.commit()

    assert answer == (201, {"winner": True})
    assert stored_keys(session) == 1


def test_the_same_key_sent_from_many_places_at_once_pays_once(app, session, policy, exchange, key):
    token = new_code(session, policy, exchange)
    clients = logged_in_clients(app, exchange.receiver, THREADS)
    postings = posting_count(session)

    answers = race(app, session, clients, URL, [{"code": token}] * THREADS,
                   headers={idempotency.HEADER: key})

    assert all(status in (200, 201) for status, _ in answers), answers
    assert len({body["transaction"]["id"] for _, body in answers}) == 1
    assert posting_count(session) == postings + 2  # one two-posting transaction
    assert balance(session, exchange.provider_id) == 60
    assert ledger.verify(session) == []


def test_purge_deletes_keys_older_than_30_days(session, make_member):
    member = make_member()
    now = utcnow()
    for key, age in (("old", timedelta(days=31)), ("recent", timedelta(days=29))):
        idempotency.remember(session, member.id, key, idempotency.request_hash(key), 201, {}, now=now - age)
    session.commit()

    purged = idempotency.purge(session, older_than=timedelta(days=30), now=now)
    session.commit()

    assert purged == 1
    assert session.scalars(sa.select(IdempotencyKey.key)).all() == ["recent"]
