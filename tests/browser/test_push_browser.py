"""Web Push in a real Chromium: the control on the inbox page, and the service worker showing a
pushed message (delivered through DevTools, as a push service would) with its page to open."""
from __future__ import annotations

import json

import pytest

from tests.browser.conftest import log_in
from tests.browser.test_pwa import wait_until


@pytest.fixture
def app(app, tmp_path):
    app.instance_path = str(tmp_path / "instance")  # the VAPID key is made there
    return app


def inbox(page, base_url: str) -> None:
    page.goto(f"{base_url}/notifications/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def test_the_control_offers_to_turn_notifications_on_without_asking_first(live_server, phone, make_member):
    context = phone()
    page = context.new_page()
    log_in(page, live_server, make_member("Kim Sun-ja"))
    inbox(page, live_server)

    control = page.locator("[data-push]")
    wait_until(page, "() => document.querySelector('[data-push-state]').textContent !== ''")
    assert control.is_visible()
    assert page.locator("[data-push-state]").inner_text() == "Off on this phone."
    assert page.get_by_role("button", name="Turn on notifications on this phone").is_visible()
    assert page.evaluate("Notification.permission") == "default"  # nothing was asked on load


def test_a_tap_asks_and_a_refusal_says_where_to_allow_notifications(live_server, phone, make_member):
    context = phone()  # headless Chromium refuses every permission prompt: as a person tapping Block
    page = context.new_page()
    log_in(page, live_server, make_member("Kim Sun-ja"))
    inbox(page, live_server)
    wait_until(page, "() => document.querySelector('[data-push-state]').textContent !== ''")

    page.get_by_role("button", name="Turn on notifications on this phone").click()

    wait_until(page, "() => document.querySelector('[data-push-state]').textContent.startsWith('Blocked')")
    assert page.evaluate("Notification.permission") == "denied"
    assert "Allow notifications for this site" in page.locator("[data-push-state]").inner_text()
    assert not page.locator("[data-push-toggle]").is_visible()


def pushed(live_server, phone, make_member, message: dict):
    """A member's phone with the inbox open, to whose service worker DevTools delivers `message`
    as the push service would; the page."""
    context = phone()
    context.grant_permissions(["notifications"], origin=live_server)
    page = context.new_page()
    log_in(page, live_server, make_member("Kim Sun-ja"))
    inbox(page, live_server)
    devtools = context.new_cdp_session(page)
    registrations = []
    devtools.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    devtools.send("ServiceWorker.enable")
    wait_until(page, "() => true")  # let the registration event arrive
    [registration] = [r for r in registrations if not r["isDeleted"]]
    devtools.send("ServiceWorker.deliverPushMessage", {
        "origin": live_server, "registrationId": registration["registrationId"], "data": json.dumps(message)})
    return page


def test_the_worker_shows_a_pushed_notification_with_its_page(live_server, phone, make_member):
    message = {"title": "New response to your post", "body": "Lee responded.", "url": "/exchanges/7"}
    page = pushed(live_server, phone, make_member, message)

    shown = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
        .map((n) => ({title: n.title, body: n.body, url: n.data.url, icon: n.icon}))"""
    wait_until(page, f"async () => ({shown})().then((list) => list.length > 0)")
    [notification] = page.evaluate(shown)
    assert notification["title"] == message["title"] and notification["body"] == message["body"]
    assert notification["url"] == f"{live_server}/exchanges/7"
    assert notification["icon"].endswith("/static/icons/icon-192.png")


def test_a_pushed_link_to_another_site_opens_the_inbox_instead(live_server, phone, make_member):
    page = pushed(live_server, phone, make_member, {"title": "T", "body": "B", "url": "https://evil.example/"})
    shown = "async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.data.url)"
    wait_until(page, f"async () => ({shown})().then((list) => list.length > 0)")
    assert page.evaluate(shown) == [f"{live_server}/notifications/"]
