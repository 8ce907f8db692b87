"""Visits confirmed without signal: saved in the phone's outbox, sent when it is back online,
counted exactly once however often they are sent, and refusals shown to the member."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import balance
from playwright.sync_api import expect

from carebank.confirmations import services as confirmations
from carebank.core.database import utcnow
from carebank.ledger.models import Transaction
from tests.browser.conftest import RESEND, log_in

SAVED = "Saved — will confirm when online"
WAIT_MS = 10_000



@pytest.fixture
def visit(session, make_member, make_exchange):
    """An agreed exchange: Alex helps Kim for an hour; Kim confirms the visit."""
    return make_exchange(make_member("Alex"), make_member("Kim Young-ja"), minutes=60)


def code_for(session, policy, exchange, *, minutes: int = 60, made=None) -> str:
    """A code Alex shows Kim (made `made` ago's time, when given: to have it expired)."""
    _code, token = confirmations.make_code(session, exchange.provider, exchange.id, minutes, policy, now=made)
    session.commit()
    return token


def transactions(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction))


def kims_phone(phone, live_server, exchange):
    context = phone()
    page = context.new_page()
    log_in(page, live_server, exchange.receiver)
    page.goto(f"{live_server}/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    return context, page


def outbox_item(page):
    return page.locator("[data-outbox] li").first


def test_a_visit_saved_offline_is_confirmed_once_when_back_online(live_server, phone, session, policy, visit):
    token = code_for(session, policy, visit)
    context, page = kims_phone(phone, live_server, visit)

    context.set_offline(True)
    page.evaluate("code => CarebankOutbox.add(code)", token)
    item = outbox_item(page)
    item.get_by_text(SAVED).wait_for(timeout=WAIT_MS)
    assert page.locator("[data-outbox]").is_visible()
    assert page.locator("[data-outbox-announce]").inner_text() == SAVED  # said to screen readers
    assert balance(session, visit.provider) == 0 and balance(session, visit.receiver) == 0

    context.set_offline(False)  # the page flushes on "online"
    page.locator("[data-outbox] li.outbox-done").wait_for(timeout=WAIT_MS)
    assert "Confirmed: 1 h" in item.inner_text()
    assert balance(session, visit.provider) == 60 and balance(session, visit.receiver) == -60
    assert transactions(session) == 1

    # The answer was lost: the same item is sent again, twice at once. Still one visit.
    done = page.evaluate("CarebankOutbox.list()")[0]
    page.evaluate(RESEND, {key: done[key] for key in ("id", "code", "created_at")})
    # Scanned again after it was confirmed: a new item, the same code. Still one visit.
    page.evaluate("code => CarebankOutbox.add(code).then(() => CarebankOutbox.flush())", token)
    items = page.evaluate("CarebankOutbox.list()")
    assert [item["status"] for item in items] == ["done", "done"]
    assert items[0]["result"]["id"] == items[1]["result"]["id"] == done["result"]["id"]
    assert balance(session, visit.provider) == 60 and transactions(session) == 1


def test_a_refused_confirmation_shows_the_servers_reason(live_server, phone, session, policy, visit):
    long_ago = utcnow() - timedelta(seconds=policy.code_ttl_seconds + 60)
    token = code_for(session, policy, visit, made=long_ago)
    context, page = kims_phone(phone, live_server, visit)

    context.set_offline(True)
    page.evaluate("code => CarebankOutbox.add(code)", token)
    outbox_item(page).get_by_text(SAVED).wait_for(timeout=WAIT_MS)
    context.set_offline(False)

    failed = page.locator("[data-outbox] li.outbox-failed")
    failed.wait_for(timeout=WAIT_MS)
    assert "This code has expired. Ask for a new one." in failed.inner_text()
    expect(page.locator("[data-outbox-announce]")).to_have_text(  # announced just after it shows
        "This code has expired. Ask for a new one.", timeout=WAIT_MS)
    assert transactions(session) == 0

    failed.get_by_role("button", name="Dismiss").click()
    page.locator("[data-outbox]").wait_for(state="hidden", timeout=WAIT_MS)
    assert page.evaluate("CarebankOutbox.list()") == []


def test_a_confirmation_link_opened_without_signal_can_be_saved_for_later(
        live_server, phone, session, policy, visit):
    """A phone's camera app opens the code's link in a basement: the offline page offers to
    keep it, and it is confirmed once the phone is online again."""
    token = code_for(session, policy, visit)
    context, page = kims_phone(phone, live_server, visit)

    context.set_offline(True)
    page.goto(f"{live_server}/c/{token}")
    assert page.locator("h1").inner_text() == "You are offline"
    page.get_by_role("button", name="Save to confirm later").click()
    outbox_item(page).get_by_text(SAVED).wait_for(timeout=WAIT_MS)
    assert page.evaluate("CarebankOutbox.list()")[0]["code"] == token
    assert transactions(session) == 0

    context.set_offline(False)
    page.locator("[data-outbox] li.outbox-done").wait_for(timeout=WAIT_MS)
    assert balance(session, visit.provider) == 60 and transactions(session) == 1
