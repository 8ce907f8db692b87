"""Messages between the two people of an exchange: they write and read their thread (page and
API), a stranger is told it does not exist, the centre reads only while a problem is open or a
message was reported (and that reading is audited), the other party reports a message, phone
numbers show only when shared on an agreed exchange, writing is rate-limited, and the centre
finds responses nobody answered for two days."""

import pytest
import sqlalchemy as sa
from conftest import logged_in
from markupsafe import escape

from carebank.audit.models import AuditEntry
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.disputes import services as disputes
from carebank.exchanges import services as exchanges
from carebank.members.models import Role
from carebank.messages import services as messages
from carebank.messages.models import ExchangeMessage, PhoneShare

API = "/api/v1"


@pytest.fixture
def exchange(make_member, make_exchange):
    """Park helps Lee; both have a phone number on their profile."""
    return make_exchange(make_member("Park Min-su", phone="010-1111-2222"),
                         make_member("Lee Soon-ja", phone="010-3333-4444"))


@pytest.fixture
def provider(app, exchange):
    return logged_in(app, exchange.provider)


@pytest.fixture
def receiver(app, exchange):
    return logged_in(app, exchange.receiver)


def page(exchange) -> str:
    return f"/exchanges/{exchange.id}/messages"


def api(exchange) -> str:
    return f"{API}/exchanges/{exchange.id}/messages"


def count(session, model=ExchangeMessage) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def audited(session, action: str) -> list[AuditEntry]:
    session.commit()
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def written(session, exchange, author, body="See you at ten") -> ExchangeMessage:
    message = messages.write(session, author, exchange.id, body)
    session.commit()
    return message


# The two parties -----------------------------------------------------------------------------

def test_the_two_parties_write_and_read_their_thread(session, exchange, provider, receiver):
    sent = provider.post(page(exchange), data={"body": "  I can come at ten.  "})
    assert sent.status_code == 302 and sent.location == page(exchange)
    assert "Message sent." in provider.get(sent.location).get_data(as_text=True)

    answer = receiver.post(api(exchange), json={"body": "Ten is good, thank you"})
    assert answer.status_code == 201

    html = receiver.get(page(exchange)).get_data(as_text=True)
    assert "Park Min-su" in html and "I can come at ten." in html and "Ten is good, thank you" in html
    bodies = [m["body"] for m in provider.get(api(exchange)).get_json()["messages"]]
    assert bodies == ["I can come at ten.", "Ten is good, thank you"]  # stripped, oldest first


def test_the_exchange_page_links_its_parties_to_the_thread(exchange, provider):
    assert f'href="{page(exchange)}"' in provider.get(f"/exchanges/{exchange.id}").get_data(as_text=True)


def test_the_api_answers_in_the_documented_shapes(exchange, provider, receiver):
    created = provider.post(api(exchange), json={"body": "Hello"})
    assert created.status_code == 201
    message = created.get_json()["message"]
    assert set(message) == {"id", "author_id", "body", "created_at"}
    assert message["author_id"] == exchange.provider_id and message["body"] == "Hello"
    assert message["created_at"].endswith("+00:00")
    assert receiver.get(api(exchange)).get_json() == {"messages": [message]}


# Who may read --------------------------------------------------------------------------------

@pytest.fixture
def strangers(app, make_member, make_centre):
    """A neighbour in none of it, and a coordinator of another centre."""
    elsewhere = make_centre("Distant Centre")
    return (logged_in(app, make_member("Neighbour")),
            logged_in(app, make_member("Far Coordinator", role=Role.COORDINATOR, centre_id=elsewhere.id)))


def test_a_stranger_is_told_the_thread_does_not_exist(session, exchange, strangers):
    message = written(session, exchange, exchange.provider)
    for stranger in strangers:
        assert stranger.get(page(exchange)).status_code == 404
        assert stranger.post(page(exchange), data={"body": "Hi"}).status_code == 404
        assert stranger.post(f"/messages/{message.id}/report").status_code == 404
        assert stranger.post(f"/exchanges/{exchange.id}/phone").status_code == 404
        assert stranger.get(api(exchange)).get_json()["error"]["code"] == "exchange_not_found"
        assert stranger.post(api(exchange), json={"body": "Hi"}).status_code == 404
    assert count(session) == 1 and count(session, PhoneShare) == 0
    session.refresh(message)
    assert not message.is_reported


def test_the_centre_reads_only_while_a_problem_is_open_and_the_reading_is_audited(
        session, policy, make_member, exchange, coordinator, console):
    written(session, exchange, exchange.provider, "Private words")
    assert console.get(page(exchange)).status_code == 403
    assert console.get(api(exchange)).status_code == 403
    assert audited(session, "message.read") == []

    dispute = disputes.raise_dispute(session, exchange.receiver, exchange.id, "He never came.")
    session.commit()
    html = console.get(page(exchange)).get_data(as_text=True)
    assert "Private words" in html and "audit log" in html
    assert "Report this message" not in html and 'name="body"' not in html  # reading only
    assert console.get(api(exchange)).status_code == 200
    entries = audited(session, "message.read")
    assert len(entries) == 2
    assert {(e.actor_id, e.exchange_id, e.centre_id) for e in entries} == {
        (coordinator.id, exchange.id, coordinator.centre_id)}

    assert console.post(page(exchange), data={"body": "Hello"}).status_code == 403
    assert console.post(api(exchange), json={"body": "Hello"}).status_code == 403
    assert count(session) == 1

    colleague = make_member("Colleague", role=Role.COORDINATOR)
    disputes.settle(session, colleague, dispute.id, "dismiss", "Talked to both", policy=policy)
    session.commit()
    assert console.get(page(exchange)).status_code == 403  # settled: private again


def test_the_centre_reads_once_a_message_is_reported(session, exchange, receiver, console):
    message = written(session, exchange, exchange.provider, "Something rude")
    assert console.get(page(exchange)).status_code == 403

    assert receiver.post(f"/messages/{message.id}/report").status_code == 302

    assert "Something rude" in console.get(page(exchange)).get_data(as_text=True)
    assert len(audited(session, "message.read")) == 1


# Writing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, says", [
    ("x" * 2001, "Messages can be at most 2000 characters."),
    ("", "Write a message first."),
    ("   \n  ", "Write a message first."),
])
def test_a_message_too_long_or_empty_is_refused_and_nothing_saved(session, exchange, provider, body, says):
    refused = provider.post(page(exchange), data={"body": body})
    assert refused.status_code == 400 and says in refused.get_data(as_text=True)
    answer = provider.post(api(exchange), json={"body": body})
    assert answer.status_code == 400 and answer.get_json()["error"]["fields"]["body"] == says
    with pytest.raises(ValidationFailed):
        messages.write(session, exchange.provider, exchange.id, body)
    session.rollback()
    assert count(session) == 0


def test_a_message_of_exactly_2000_characters_is_sent(session, exchange, provider):
    assert provider.post(api(exchange), json={"body": "가" * 2000}).status_code == 201
    assert count(session) == 1


def test_a_message_holding_nul_is_refused(session, exchange, provider):
    assert provider.post(api(exchange), json={"body": "Hi\u0000"}).status_code == 400
    with pytest.raises(ValidationFailed):
        messages.write(session, exchange.provider, exchange.id, "Hi\x00")
    session.rollback()
    assert count(session) == 0


@pytest.mark.parametrize("end", ["decline", "cancel"])
def test_no_message_can_be_written_once_the_exchange_ended(session, make_member, make_exchange, app, end):
    ended = make_exchange(make_member("Carer"), make_member("Owner"), accepted=False)
    getattr(exchanges, end)(session, ended.receiver, ended.id)
    session.commit()
    client = logged_in(app, ended.provider)

    refused = client.post(page(ended), data={"body": "Still there?"})
    assert refused.status_code == 409 and "This exchange has ended" in refused.get_data(as_text=True)
    assert client.post(api(ended), json={"body": "Still there?"}).get_json()["error"]["code"] == "exchange_ended"
    assert 'name="body"' not in client.get(page(ended)).get_data(as_text=True)
    assert count(session) == 0


def test_quick_replies_are_buttons_that_post_their_text(session, exchange, provider):
    html = provider.get(page(exchange)).get_data(as_text=True)
    for reply in ("I'm on my way", "Running 10 minutes late", "Can we change the time?"):
        assert f'name="body" value="{escape(reply)}"' in html

    assert provider.post(page(exchange), data={"body": "I'm on my way"}).status_code == 302
    session.commit()
    assert [m.body for m in messages.thread(session, exchange.provider, exchange.id)] == ["I'm on my way"]


def test_writing_past_the_rate_limit_answers_429_and_sends_nothing(app, session, exchange, provider):
    app.config["MESSAGE_RATE_LIMIT"] = "2 per minute"
    assert provider.post(page(exchange), data={"body": "One"}).status_code == 302
    assert provider.post(api(exchange), json={"body": "Two"}).status_code == 201

    assert provider.post(page(exchange), data={"body": "Three"}).status_code == 429
    too_many = provider.post(api(exchange), json={"body": "Three"})
    assert too_many.status_code == 429 and int(too_many.headers["Retry-After"]) > 0
    assert provider.get(page(exchange)).status_code == 200  # reading is not limited
    assert count(session) == 2


# Reporting -----------------------------------------------------------------------------------

def test_only_the_other_party_reports_a_message_and_once(session, exchange, provider, receiver):
    message = written(session, exchange, exchange.provider)
    assert "Report this message" not in provider.get(page(exchange)).get_data(as_text=True)
    assert "Report this message" in receiver.get(page(exchange)).get_data(as_text=True)

    with pytest.raises(NotAllowed):
        messages.report(session, exchange.provider, message.id)
    session.rollback()
    assert provider.post(f"/messages/{message.id}/report").status_code == 302
    session.refresh(message)
    assert not message.is_reported

    for _ in range(2):
        assert receiver.post(f"/messages/{message.id}/report").status_code == 302
    session.refresh(message)
    assert message.is_reported and message.reported_by_id == exchange.receiver_id
    entries = audited(session, "message.report")
    assert [(e.actor_id, e.member_id, e.exchange_id) for e in entries] == [
        (exchange.receiver_id, exchange.provider_id, exchange.id)]
    assert "Reported to the centre." in receiver.get(page(exchange)).get_data(as_text=True)


def test_reporting_a_message_that_does_not_exist_is_404(session, exchange, receiver):
    assert receiver.post("/messages/999/report").status_code == 404
    with pytest.raises(NotFound):
        messages.report(session, exchange.receiver, 999)


# Phone numbers -------------------------------------------------------------------------------

def test_a_phone_shows_only_once_shared_and_the_exchange_accepted(session, app, make_member, make_exchange):
    waiting = make_exchange(make_member("Carer", phone="010-5555-6666"), make_member("Owner", phone="010-7777-8888"),
                            accepted=False)
    carer, owner = logged_in(app, waiting.provider), logged_in(app, waiting.receiver)
    assert "tel:" not in owner.get(page(waiting)).get_data(as_text=True)
    assert "Show my phone number to Owner" in carer.get(page(waiting)).get_data(as_text=True)

    assert carer.post(f"/exchanges/{waiting.id}/phone").status_code == 302
    assert carer.post(f"/exchanges/{waiting.id}/phone").status_code == 302  # once is enough
    assert count(session, PhoneShare) == 1
    assert "tel:" not in owner.get(page(waiting)).get_data(as_text=True)  # not agreed yet

    exchanges.accept(session, waiting.receiver, waiting.id)
    session.commit()
    assert 'href="tel:010-5555-6666"' in owner.get(page(waiting)).get_data(as_text=True)
    carer_page = carer.get(page(waiting)).get_data(as_text=True)
    assert "tel:" not in carer_page  # the owner did not share theirs
    assert "Show my phone number to Owner" not in carer_page
    session.commit()
    assert messages.phone_of_partner(session, waiting.receiver, waiting) == "010-5555-6666"
    assert messages.phone_of_partner(session, waiting.provider, waiting) is None


def test_sharing_a_phone_without_one_on_the_profile_is_refused(session, make_member, make_exchange):
    shared = make_exchange(make_member("No Phone"), make_member("Owner"))
    with pytest.raises(ValidationFailed):
        messages.share_phone(session, shared.provider, shared.id)
    session.rollback()
    assert count(session, PhoneShare) == 0


def test_a_phone_cannot_be_shared_on_an_ended_exchange(session, exchange):
    exchanges.cancel(session, exchange.provider, exchange.id)
    with pytest.raises(Conflict):
        messages.share_phone(session, exchange.provider, exchange.id)


# For the centre's dashboard ------------------------------------------------------------------


# Sent again from the phone's outbox -----------------------------------------------------------

def test_a_replayed_idempotency_key_writes_one_message_and_answers_the_same(session, exchange, provider):
    headers = {"Idempotency-Key": "5f0c1d2e-offline-1"}
    first = provider.post(api(exchange), json={"body": "Running late, sorry"}, headers=headers)
    assert first.status_code == 201, first.get_json()

    again = provider.post(api(exchange), json={"body": "  Running late, sorry "}, headers=headers)

    assert again.status_code == 201 and again.get_data() == first.get_data()
    assert count(session) == 1
    reused = provider.post(api(exchange), json={"body": "Something else"}, headers=headers)
    assert reused.status_code == 422 and reused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(session) == 1


def test_a_concurrent_send_with_the_same_key_is_undone_and_answers_the_first(
        session, exchange, provider, monkeypatch):
    """Two sends with one key at once (PostgreSQL lets both run): the one that stores its
    answer second takes back its message and answers the first one's."""
    from carebank.core import idempotency
    from carebank.core.idempotency import IdempotencyKey

    fingerprint = idempotency.request_hash(f"POST /api/v1/exchanges/{exchange.id}/messages", "On my way")
    winner = {"message": {"id": 999, "author_id": exchange.provider_id, "body": "On my way",
                          "created_at": "2026-01-01T09:00:00Z"}}
    session.add(IdempotencyKey(member_id=exchange.provider_id, key="k-race", request_hash=fingerprint,
                               status=201, response=winner))
    session.commit()
    real, looks = idempotency.stored_answer, []

    def not_yet_stored(*args):  # the first look happens before the winner committed
        looks.append(args)
        return None if len(looks) == 1 else real(*args)

    monkeypatch.setattr(idempotency, "stored_answer", not_yet_stored)
    answer = provider.post(api(exchange), json={"body": "On my way"}, headers={"Idempotency-Key": "k-race"})

    assert answer.status_code == 201 and answer.get_json() == winner
    assert count(session) == 0  # ours was undone; the winner's own message is the one
