"""The installable app in a real Chromium: installable, controlled by its service worker,
readable offline where that is safe, and a shared phone keeps nothing of a member who left."""
from __future__ import annotations

import time

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, log_in

OFFLINE_TITLE = "You are offline"


@pytest.fixture
def installed_phone(playwright_driver, tmp_path):
    """A phone with a real profile on disk: Chromium never offers to install an app from an
    incognito context, which is what Playwright's ordinary contexts are."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, locale="en-GB", **PHONE)
    yield context
    context.close()


def controlled(page, url: str) -> None:
    """Open url, wait until the worker is active, then reload so it controls the page."""
    page.goto(url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")


def wait_until(page, check: str, arg=None, seconds: float = 10) -> None:
    """Polls an async check in the page (wait_for_function does not await a promise)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(check, arg):
        assert time.monotonic() < deadline, f"still not true after {seconds} s: {check}"
        page.wait_for_timeout(100)


def wait_until_cached(page, path: str) -> None:
    """The worker stores a page after handing it over; a test going offline waits for that."""
    wait_until(page, "path => caches.match(path, {ignoreVary: true}).then(Boolean)", path)


def heading(page) -> str:
    return page.locator("h1").first.inner_text()


def cached_paths(page) -> list[str]:
    """Every path held in any Cache Storage cache of the site."""
    return page.evaluate("""async () => {
        const paths = [];
        for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            for (const request of await cache.keys()) paths.push(new URL(request.url).pathname);
        }
        return paths;
    }""")


def test_the_app_is_installable(installed_phone, live_server):
    page = installed_phone.new_page()
    controlled(page, f"{live_server}/")
    devtools = installed_phone.new_cdp_session(page)
    manifest = devtools.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == []
    assert devtools.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_a_public_page_seen_before_opens_offline_and_others_show_the_offline_page(
        live_server, phone, make_member, make_post):
    make_post(make_member(), title="Walk to the clinic on Tuesday")
    context = phone()
    page = context.new_page()
    controlled(page, f"{live_server}/posts/")
    assert "Walk to the clinic on Tuesday" in page.content()
    wait_until_cached(page, "/posts/")

    context.set_offline(True)
    page.goto(f"{live_server}/posts/")
    assert "Walk to the clinic on Tuesday" in page.content()  # from the worker's cache
    page.goto(f"{live_server}/signup")  # never visited
    assert heading(page) == OFFLINE_TITLE
    assert page.locator("a", has_text="Try again").count() == 1

    context.set_offline(False)
    page.locator("a", has_text="Try again").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server}/signup" and heading(page) != OFFLINE_TITLE


def test_a_members_pages_never_come_from_the_cache(live_server, phone, make_member):
    member = make_member("Kim Young-ja")
    context = phone()
    page = context.new_page()
    controlled(page, f"{live_server}/posts/")  # a visitor's page: cached
    wait_until_cached(page, "/posts/")
    log_in(page, live_server, member)
    page.goto(f"{live_server}/ledger/")
    assert page.locator(".balance").count() == 1

    context.set_offline(True)
    page.reload()
    assert heading(page) == OFFLINE_TITLE  # the ledger was never cached, even logged in
    assert page.locator(".balance, .balance-pill").count() == 0
    assert not any(path.startswith("/ledger") for path in cached_paths(page))
    context.set_offline(False)


def test_the_scanner_opens_without_signal_once_it_was_opened_online(live_server, phone, make_member):
    """A carer opens the app in a basement: the scan page (nothing personal on it) comes from
    the worker's cache, so the code can be scanned and saved for later."""
    member = make_member("Park Min-su")
    context = phone()
    page = context.new_page()
    log_in(page, live_server, member)
    controlled(page, f"{live_server}/scan")
    wait_until_cached(page, "/scan")

    context.set_offline(True)
    page.goto(f"{live_server}/scan")
    assert heading(page) == "Scan a code"
    assert page.locator(".balance, .balance-pill").count() == 0
    assert page.get_by_role("button", name="Start camera").is_visible()
    context.set_offline(False)


def test_logging_out_leaves_nothing_of_the_member_on_the_phone(live_server, phone, make_member):
    member = make_member("Kim Young-ja")
    context = phone()
    page = context.new_page()
    controlled(page, f"{live_server}/posts/")
    wait_until_cached(page, "/posts/")
    log_in(page, live_server, member)
    page.goto(f"{live_server}/ledger/")
    page.evaluate("CarebankOutbox.add('SOMETHING-SAVED-OFFLINE')")
    assert len(page.evaluate("CarebankOutbox.list()")) == 1

    page.click("form[data-logout] button")
    page.wait_for_url(f"{live_server}/")
    assert page.locator(".balance-pill").count() == 0  # logged out
    assert page.evaluate("CarebankOutbox.list()") == []
    # The worker registers again on this page; it may hold the shell, never a page from before.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    assert not {"/posts/", "/ledger/"} & set(cached_paths(page))

    context.set_offline(True)
    page.goto(f"{live_server}/ledger/")
    assert heading(page) == OFFLINE_TITLE
    assert "Kim Young-ja" not in page.content() and page.locator(".balance").count() == 0
    context.set_offline(False)


def test_the_offline_page_follows_the_language_the_member_chose(live_server, phone):
    context = phone()
    page = context.new_page()
    controlled(page, f"{live_server}/")
    page.click(".topbar .lang-switch button")  # 한국어
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "ko"
    # The page told the worker its language; wait until the worker has the Korean copy.
    wait_until(page, """async () => {
        const offline = await caches.match("/offline", {ignoreVary: true});
        return offline && offline.headers.get("Content-Language") === "ko";
    }""")

    context.set_offline(True)
    page.goto(f"{live_server}/signup")
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert page.locator("h1").count() == 1 and page.locator("[data-outbox]").count() == 1
    context.set_offline(False)
