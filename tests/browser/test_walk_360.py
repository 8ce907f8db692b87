"""A walk on a 360 px phone, in Korean and in English, through every page a member and a
coordinator reach from the navigation (bottom bar, header, footer, the console's navigation and
its first links) of the demo neighbourhood, plus a monthly statement, a ledger history and the
centre's reports, all with rows. On each page: no 5xx, no sideways scrolling, no visible control
under 44×44 px, and on Korean pages no English word of the interface left untranslated.

One browser, one phone a person and a language, pages reused; the demo is loaded once a test."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask import url_for

from carebank.devdata import demo as demo_data
from carebank.ledger.models import Transaction
from carebank.members.models import Member
from tests.browser.conftest import PHONE, SMALL_TARGETS

WIDTH = PHONE["viewport"]["width"]
MIN_TARGET = 44
LOCALES = ["ko-KR", "en-GB"]
# Words of the catalogue that are also names, codes or the same in Korean text: "PIN", "QR"
# and "CSV" are how Koreans write them too; "English" labels the language switch (lang="en").
ALLOWED_WORDS = {"pin", "csv", "qr", "utc", "english", "kakaotalk", "ok", "id", "sms", "url", "pdf"}

# What sticks out past the right edge, for the failure message.
WIDE_ELEMENTS = """width => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > width + 0.5)
  .filter(el => ![...el.children].some(child => child.getBoundingClientRect().right > width + 0.5))
  .slice(0, 5).map(el => el.tagName.toLowerCase() + '.' + [...el.classList].join('.') + ' ' +
                   Math.round(el.getBoundingClientRect().right) + 'px')"""

# Visible text nodes, except what is in another language on purpose (lang="en" on the language
# switch) and what members wrote (marked by the test from the demo's own data).
TEXTS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement, text = node.textContent.trim();
    if (!text || el.closest('script, style, noscript, [hidden], [lang]:not(html)')) continue;
    // Shown text, and text only screen readers read (visually-hidden) which must be translated too.
    if (!el.getClientRects().length && !el.closest('.visually-hidden')) continue;
    found.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]'))
    for (const name of ['placeholder', 'aria-label', 'title'])
      if (el.getAttribute(name)) found.push(el.getAttribute(name));
  return found;
}"""


@pytest.fixture
def interface_words(app) -> set[str]:
    """Lower-case English words (3+ letters) of the interface: every catalogue msgid's words."""
    folder = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations").split(";")[0]
    with (Path(app.root_path) / folder / "messages.pot").open("rb") as file:
        catalogue = read_po(file)
    words = set()
    for message in catalogue:
        for text in (message.id if isinstance(message.id, (list, tuple)) else [message.id]):
            text = re.sub(r"%\(\w+\)[sd]|%[sd]|\{\w+\}", " ", text or "")
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", text))
    return words - ALLOWED_WORDS


def _member_words() -> list[str]:
    """What the demo's members and centres wrote (names, posts, messages, memos): not the
    interface, so never "untranslated"."""
    texts = [*demo_data.CENTRES, demo_data.RESIDENT, demo_data.RESIDENT_NEED]
    texts += [*demo_data.MEMBERS.values(), *demo_data.POSTS.values(), *demo_data.MESSAGES]
    texts += [*demo_data.ACCEPTED, *demo_data.PROPOSED, *demo_data.GIFTS, *demo_data.DONATIONS, *demo_data.GRANTS]
    texts += [demo_data.OPEN_BALLOT, demo_data.CLOSED_POLL, *demo_data.CLOSED_POLL[3], demo_data.ASSEMBLY,
              *demo_data.ASSEMBLY[3].split("\n")]
    flat = []
    for item in texts:
        flat.extend(str(part) for part in (item if isinstance(item, tuple) else (item,)) if isinstance(part, str))
    return flat


@pytest.fixture
def neighbourhood(app, session):
    """The demo, with the walkers taking the language of their phone ("Same as my phone")."""
    demo_data.load_demo(session)
    walkers = {key: session.scalar(sa.select(Member).where(Member.email == f"{key}@{demo_data.EMAIL_DOMAIN}"))
               for key in ("minsu", demo_data.COORDINATOR)}
    for member in walkers.values():
        member.locale = None
    session.commit()
    # The month with the most entries of the carer's history: the statement shown has rows.
    months = Counter(t.created_at.astimezone(demo_data.KST).strftime("%Y-%m") for t in session.scalars(
        sa.select(Transaction)))
    carer = walkers["minsu"]
    with app.test_request_context():
        paths = {"member": url_for("console.member_detail", member_id=carer.id),
                 "history": url_for("console.member_history", member_id=carer.id)}
    return {"carer": carer, "coordinator": walkers[demo_data.COORDINATOR],
            "month": months.most_common(1)[0][0], **paths}


def _log_in(tab, base: str, member) -> None:
    tab.goto(f"{base}/login")
    tab.fill("#email", member.email)
    tab.fill("#password", demo_data.PASSWORD)
    with tab.expect_navigation():
        tab.press("#password", "Enter")
    tab.wait_for_selector("header .balance-pill")


def _links(tab, selector: str, base: str, on: str | None = None) -> list[str]:
    """Same-site page addresses of the links matching `selector` (on the page `on`, else the
    open one), in order, once each."""
    if on:
        tab.goto(base + on)
    found = []
    for href in tab.eval_on_selector_all(selector, "els => els.map(a => a.href)"):
        parts = urlsplit(href)
        if parts.netloc == urlsplit(base).netloc and not parts.path.startswith(("/static", "/api")):
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path not in found and "csv" not in path and not path.endswith(".pdf"):
                found.append(path)
    return found


class Walk:
    """One phone walking pages; collects what each page breaks."""

    def __init__(self, tab, base: str, locale: str, interface_words: set[str], member_texts: list[str]):
        self.tab, self.base, self.lang = tab, base, locale[:2]
        self.words, self.member_texts = interface_words, member_texts
        self.problems: dict[str, list[str]] = {}
        self.seen: list[str] = []

    def check(self, path: str, shows: str | None = None) -> None:
        if path in self.seen:
            return
        self.seen.append(path)
        response = self.tab.goto(self.base + path)
        found = []
        if response is None or response.status >= 500:
            found.append(f"answered {response.status if response else 'nothing'}")
        elif self.tab.get_attribute("html", "lang") != self.lang:
            found.append(f'<html lang> is {self.tab.get_attribute("html", "lang")!r}')
        if shows and not self.tab.locator(shows).count():
            found.append(f"nothing matches {shows} (the page should have rows)")
        self.tab.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        width = self.tab.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            found.append(f"{width} px wide: " + ", ".join(self.tab.evaluate(WIDE_ELEMENTS, WIDTH)))
        found += self.tab.evaluate(SMALL_TARGETS, MIN_TARGET)
        if self.lang == "ko":
            found += self._untranslated()
        if found:
            self.problems[path] = found

    def _untranslated(self) -> list[str]:
        left = []
        for text in self.tab.evaluate(TEXTS):
            if any(text in written or written in text for written in self.member_texts if len(written) > 2):
                continue
            english = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() in self.words]
            if english:
                left.append(f"untranslated {english} in {text[:60]!r}")
        return left


def _walk(browser, base: str, locale: str, member, interface_words) -> Walk:
    context = browser.new_context(locale=locale, **PHONE)
    tab = context.new_page()
    _log_in(tab, base, member)
    return Walk(tab, base, locale, interface_words, _member_words())


def _described(walk: Walk) -> str:
    return "\n".join(f"{path}:\n  " + "\n  ".join(found) for path, found in walk.problems.items())


@pytest.mark.parametrize("locale", LOCALES)
def test_member_pages_read_on_a_360_px_phone(browser, live_server, neighbourhood, interface_words, locale):
    walk = _walk(browser, live_server, locale, neighbourhood["carer"], interface_words)
    try:
        walk.check("/")
        nav = _links(walk.tab, ".mainnav a, header.topbar a, .footer a", live_server, on="/")
        for path in nav:
            walk.check(path)
        # The co-op: its proposals, the assembly's notice, the pool's grants, the voice report.
        for path in _links(walk.tab, "main a", live_server, on="/governance/"):
            walk.check(path)
        walk.check("/ledger/", shows="main table.ledger tbody tr")
        for path in _links(walk.tab, "main .actions a", live_server, on="/ledger/"):  # gift, donate, statement
            walk.check(path)
        walk.check(f"/statement?month={neighbourhood['month']}", shows="main table.ledger tbody tr")
    finally:
        walk.tab.context.close()
    assert {"/ledger/", "/ledger/gift", "/statement", "/profile", "/notifications/", "/governance/",
            "/governance/pool", "/governance/voice"} <= set(walk.seen), walk.seen
    assert any(path.startswith("/governance/proposals/") for path in walk.seen), walk.seen
    assert not walk.problems, f"pages that do not read on a 360 px phone ({locale}):\n" + _described(walk)


@pytest.mark.parametrize("locale", LOCALES)
def test_console_pages_read_on_a_360_px_phone(browser, live_server, neighbourhood, interface_words, locale):
    walk = _walk(browser, live_server, locale, neighbourhood["coordinator"], interface_words)
    try:
        walk.check("/console/")
        # The console's navigation, then the dashboard's tiles and everyday actions.
        for path in _links(walk.tab, ".console-nav a, main a", live_server, on="/console/"):
            walk.check(path)
        walk.check("/console/reports", shows="main table.report-table tbody tr")
        # The co-op's side: the register, proposals and the assembly at the door.
        for listing in ("/console/register", "/console/proposals", "/console/assemblies", "/console/grants"):
            for path in _links(walk.tab, "main a", live_server, on=listing):
                walk.check(path)
        walk.check(neighbourhood["member"])
        walk.check(neighbourhood["history"], shows="main table.ledger tbody tr")
    finally:
        walk.tab.context.close()
    assert len(walk.seen) >= 14 and "/console/waiting" in walk.seen, walk.seen
    assert any(path.startswith("/console/assemblies/") for path in walk.seen), walk.seen
    assert not walk.problems, f"console pages that do not read on a 360 px phone ({locale}):\n" + _described(walk)
