"""Browser tests: the real app served on loopback, driven in Debian's Chromium by Playwright.

They skip, saying why, on a machine without Chromium (`apt-get install chromium`; .ci/run
installs it)."""
from __future__ import annotations

import os
import threading

import pytest
from conftest import PASSWORD
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CAREBANK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


@pytest.fixture(scope="session")
def playwright_driver():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as driver:
        yield driver


def launch(driver, *extra_args: str):
    """A fresh Chromium with the flags this machine needs, plus any test-specific ones."""
    return driver.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = launch(playwright_driver)
    yield browser
    browser.close()


@pytest.fixture
def live_server(app):
    """The test's app served on 127.0.0.1 (a secure context, so service workers run)."""
    app.config["BASE_URL"] = None
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def phone(browser):
    """A new phone: a 360 px touch screen with its own cookies, caches and storage."""
    contexts = []

    def open_phone(locale: str = "en-GB", browser_=None):
        context = (browser_ or browser).new_context(locale=locale, **PHONE)
        contexts.append(context)
        return context

    yield open_phone
    for context in contexts:
        context.close()


def log_in(page, base_url: str, member, password: str = PASSWORD) -> None:
    """Log in through the real form, as a person would."""
    page.goto(f"{base_url}/login")
    page.fill("#email", member.email)
    page.fill("#password", password)
    with page.expect_navigation():  # wait for the login's own navigation, not just any load
        page.click("main form button")


# Puts an outbox item back as not yet sent (a phone that lost the answer) and flushes twice at
# once: what was sent must still count once. `item` holds the fields to keep.
RESEND = """async (item) => {
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("carebank");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    await new Promise((resolve, reject) => {
        const transaction = db.transaction("outbox", "readwrite");
        transaction.objectStore("outbox").put(Object.assign({}, item, {status: "pending"}));
        transaction.oncomplete = resolve;
        transaction.onerror = () => reject(transaction.error);
    });
    db.close();
    return Promise.all([CarebankOutbox.flush(), CarebankOutbox.flush()]);
}"""


# Every visible control smaller than 44×44 CSS px. Exempt (WCAG 2.5.8's inline exception) are
# only links inside running text: an inline link in a paragraph-like block (p, li, dd, span
# lines) whose text is longer than the link's. Links in a table cell, a navigation or a list of
# actions are never exempt: there a name is a target on its own ("names linked in ledger
# tables"). A control inside a <label> is measured with its label, which activates it too.
SMALL_TARGETS = """min => {
  const inRunningText = el => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    if (el.closest('td, th, nav, .actions, .mainnav, .console-nav, .footer')) return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display === 'inline') block = block.parentElement;
    return block.textContent.replace(/\\s+/g, ' ').trim().length > el.textContent.trim().length + 1;
  };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.textContent || el.value || el.name || '').trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  const small = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || rect.width === 0 || rect.height === 0) continue;
    if (rect.right <= 0 || rect.bottom + window.scrollY <= 0) continue;  // parked off-screen (skip link)
    if (inRunningText(el)) continue;
    const box = (el.closest('label') || el).getBoundingClientRect();
    const width = Math.max(rect.width, box.width), height = Math.max(rect.height, box.height);
    if (width < min - 0.5 || height < min - 0.5)
      small.push(`${describe(el)} is ${Math.round(width)}×${Math.round(height)}`);
  }
  return small;
}"""
