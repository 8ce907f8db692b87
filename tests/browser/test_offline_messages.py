"""Messages written without signal: kept in the phone's outbox and shown in the thread as
waiting, sent by themselves when the phone is back online, written once however often they
are sent, and a refusal shown to the member."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from carebank.exchanges import services as exchanges
from carebank.messages.models import ExchangeMessage
from tests.browser.conftest import RESEND, log_in

WAITING = "Waiting for signal — it will be sent by itself"
WAIT_MS = 10_000



@pytest.fixture
def exchange(make_member, make_exchange):
    """Park helps Lee; Park writes from a flat with no signal."""
    return make_exchange(make_member("Park Min-su"), make_member("Lee Soon-ja"))


def bodies(session, exchange) -> list[str]:
    session.commit()
    return list(session.scalars(sa.select(ExchangeMessage.body)
                                .where(ExchangeMessage.exchange_id == exchange.id)))


def parks_phone(phone, live_server, exchange):
    context = phone()
    page = context.new_page()
    log_in(page, live_server, exchange.provider)
    page.goto(f"{live_server}/exchanges/{exchange.id}/messages")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    return context, page


def write(page, text: str) -> None:
    page.fill("#body", text, timeout=5000)
    page.get_by_role("button", name="Send", exact=True).click()


def test_a_message_written_offline_is_sent_once_when_back_online(live_server, phone, session, exchange):
    context, page = parks_phone(phone, live_server, exchange)

    context.set_offline(True)
    write(page, "I am on my way, the bus is late")
    waiting = page.locator(".thread li.message-pending")
    waiting.get_by_text(WAITING).wait_for(timeout=WAIT_MS)
    assert "I am on my way, the bus is late" in waiting.inner_text()
    assert page.input_value("#body") == ""
    assert page.locator("[data-message-announce]").inner_text() == WAITING
    item = page.evaluate("CarebankOutbox.list('message')")[0]
    assert item["exchange_id"] == exchange.id and item["kind"] == "message"
    assert page.evaluate("CarebankOutbox.list()") == []  # the visits' list holds no messages
    assert bodies(session, exchange) == []

    context.set_offline(False)  # the page flushes on "online"
    waiting.wait_for(state="detached", timeout=WAIT_MS)
    assert bodies(session, exchange) == ["I am on my way, the bus is late"]
    assert page.locator(".thread li.message", has_text="the bus is late").count() == 1
    assert page.evaluate("CarebankOutbox.list('message')") == []  # the thread holds it now

    # The answer was lost: the same item is sent again, twice at once. Still one message.
    page.evaluate(RESEND, item)
    assert bodies(session, exchange) == ["I am on my way, the bus is late"]
    page.reload()
    assert page.locator(".thread li.message", has_text="the bus is late").count() == 1


def test_a_connection_lost_on_the_way_keeps_the_message(live_server, phone, session, exchange):
    """The phone thinks it is online, but the request never arrives (a lift, a basement)."""
    context, page = parks_phone(phone, live_server, exchange)
    thread_url = f"{live_server}/exchanges/{exchange.id}/messages"
    page.route(thread_url, lambda route: route.abort() if route.request.method == "POST" else route.continue_())

    write(page, "Shall I bring the shopping?")
    page.locator(".thread li.message-pending").get_by_text(WAITING).wait_for(timeout=WAIT_MS)

    # The outbox sends it by itself (Background Sync fires at once here); a flush is one more try.
    page.evaluate("CarebankOutbox.flush()")
    page.locator(".thread li.message-pending").wait_for(state="detached", timeout=WAIT_MS)
    assert bodies(session, exchange) == ["Shall I bring the shopping?"]


def test_a_message_refused_when_sent_shows_the_servers_reason(live_server, phone, session, exchange):
    context, page = parks_phone(phone, live_server, exchange)

    context.set_offline(True)
    write(page, "See you on Friday")
    page.locator(".thread li.message-pending").get_by_text(WAITING).wait_for(timeout=WAIT_MS)
    lee = exchange.receiver
    session.commit()  # a fresh transaction: the server wrote since this one began
    exchanges.cancel(session, lee, exchange.id)  # Lee cancelled in the meantime
    session.commit()
    context.set_offline(False)

    failed = page.locator(".thread li.message-failed")
    failed.wait_for(timeout=WAIT_MS)
    assert "This exchange has ended, so no more messages can be sent." in failed.inner_text()
    assert bodies(session, exchange) == []

    failed.get_by_role("button", name="Dismiss").click()
    failed.wait_for(state="detached", timeout=WAIT_MS)
    assert page.evaluate("CarebankOutbox.list('message')") == []


def test_with_signal_the_message_is_sent_as_before(live_server, phone, session, exchange):
    _context, page = parks_phone(phone, live_server, exchange)

    write(page, "Thank you for today")
    page.get_by_text("Message sent.").wait_for(timeout=WAIT_MS)  # the page's own flash
    assert bodies(session, exchange) == ["Thank you for today"]
    assert page.evaluate("CarebankOutbox.list('message')") == []
