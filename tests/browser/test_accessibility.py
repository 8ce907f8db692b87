"""WCAG 2.2 AA in a real browser, on a phone, in Korean and in English.

axe-core (vendored for the tests only, tests/browser/vendor/) audits the pages members use;
the rest checks what axe cannot: 44 px touch targets, reflow at 320 CSS px (200 % zoom of a
640 px window) and a keyboard user's path through the new-post form."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from carebank.confirmations import services as confirmations
from carebank.core.database import utcnow
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.members.models import Role
from tests.browser.conftest import PHONE, SMALL_TARGETS, log_in

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# axe's best practices too (heading order, landmarks): Lighthouse's accessibility score counts them.
AXE_TAGS = [*WCAG_TAGS, "best-practice"]
LOCALES = ["ko-KR", "en-GB"]
MIN_TARGET = 44  # CSS px: the house rule for touch targets (WCAG 2.5.5 size, above 2.5.8's 24)
NARROW = {"width": 320, "height": 640}  # a 640 px wide window at 200 % zoom (WCAG 1.4.10)


@dataclass(frozen=True)
class Page:
    name: str
    who: str | None  # the world's member who looks at it; None: a visitor
    path: str
    shows: str  # a selector that proves the page holds what the audit is meant to cover
    then: Callable | None = None  # what a person does on it before the audit


def _submit_empty_form(page) -> None:
    page.click("main form button")
    page.wait_for_load_state()


def _show_a_code(page) -> None:
    page.click("main form[action$='/codes'] button")
    page.wait_for_load_state()


def pages(world) -> list[Page]:
    return [
        Page("welcome", None, "/", "main .card-link"),
        Page("dashboard", "alice", "/", "main .list .card-link"),
        Page("post list", "alice", "/posts/", "main .list .card-link"),
        Page("post detail (owner)", "alice", f"/posts/{world.matched_need.id}", "main form[action$='/accept']"),
        Page("post detail (other)", "dave", f"/posts/{world.open_need.id}", "main textarea"),
        Page("scan", "alice", "/scan", "main [data-scanner]"),
        Page("confirm code", "alice", f"/c/{world.token}", "main form button"),
        Page("confirm form", "alice", "/confirm", "main input[name=code]"),
        Page("ledger", "alice", "/ledger/", "main table.ledger tbody tr"),
        Page("sign-up errors", None, "/signup", "main .error", _submit_empty_form),
        Page("login", None, "/login", "main input[type=password]"),
        Page("new post", "alice", "/posts/new", "main input[type=radio]"),
        Page("exchange", "alice", f"/exchanges/{world.exchange.id}", "main table.ledger"),
        Page("gift", "alice", f"/ledger/gift?to={world.bob.id}", "main select"),
        # Every other page a member meets.
        Page("visit code", "bob", f"/exchanges/{world.exchange.id}", "main .qr img", _show_a_code),
        Page("my posts", "alice", "/posts/mine", "main .list .card-link"),
        Page("exchanges", "alice", "/exchanges/", "main .list .card-link"),
        Page("member", "alice", f"/members/{world.bob.id}", "main .list .card-link"),
        Page("profile", "alice", "/profile", "main select"),
        Page("donate", "alice", "/ledger/donate", "main select"),
        Page("pool (coordinator)", "dave", "/ledger/pool", "main input[name=to_member_id]"),
        Page("not found", "alice", "/posts/999999", "main h1"),
        Page("offline", None, "/offline", "main h1"),
    ]


@pytest.fixture
def world(session, policy, make_member, make_post):
    """A neighbourhood with something on every page: Alice's need was answered by Carol
    (waiting) and Bob (agreed, one visit confirmed); Bob gave her some back and donated some;
    Bob has shown a new code she has not confirmed yet, and has an offer that fits. Dave,
    a coordinator, has seen none of it."""
    alice, bob = make_member("Kim Young-ja"), make_member("Park Min-jun")
    carol, dave = make_member("Lee Soo-jin"), make_member("Choi Ji-woo", role=Role.COORDINATOR)
    soon = utcnow() + timedelta(days=2)
    need = make_post(alice, title="Walk to the clinic on Tuesday", minutes=90,
                     description="Slow walk, about 1 km.\nI use a cane.",
                     starts_at=soon, ends_at=soon + timedelta(hours=3))
    open_need = make_post(alice, category="tech_help", title="Help with my phone", minutes=30)
    make_post(bob, kind="offer", title="Cooking and shared meals")
    exchanges.respond(session, carol, need.id, "I can go with you")
    exchange = exchanges.respond(session, bob, need.id, "Tuesday morning suits me")
    exchanges.accept(session, alice, exchange.id)
    _, visit = confirmations.make_code(session, bob, exchange.id, 60, policy)
    confirmations.redeem(session, alice, visit, policy)
    # Bob passes on some of the hour he earned (one gives only time one has).
    ledger.gift(session, bob, alice.id, 30, "For your next walk", policy)
    ledger.donate_to_pool(session, bob, 15, "", policy)
    _, token = confirmations.make_code(session, bob, exchange.id, 90, policy)
    session.commit()
    return SimpleNamespace(alice=alice, bob=bob, carol=carol, dave=dave, matched_need=need,
                           open_need=open_need, exchange=exchange, token=token)


@pytest.fixture
def visit(browser, live_server, world):
    """Opens each page as its member would see it, one logged-in phone per member; yields
    (page definition, Playwright page) ready to inspect."""
    contexts = {}

    def open_pages(locale: str, viewport: dict | None = None):
        for spec in pages(world):
            tab = _tab(contexts, browser, live_server, world, spec.who, locale, viewport)
            tab.goto(live_server + spec.path)
            if spec.then:
                spec.then(tab)
            assert tab.locator(spec.shows).count(), f"{spec.name}: nothing matches {spec.shows}"
            assert tab.get_attribute("html", "lang") == locale[:2], f"{spec.name} is not in {locale}"
            yield spec, tab

    yield open_pages
    for context in contexts.values():
        context.close()


def _tab(contexts, browser, live_server, world, who, locale, viewport):
    key = (who, locale, str(viewport))
    if key not in contexts:
        # bypass_csp: axe is a test tool injected into the page, not part of the app.
        options = {**PHONE, "viewport": viewport or PHONE["viewport"]}
        context = browser.new_context(locale=locale, bypass_csp=True, **options)
        contexts[key] = context
        tab = context.new_page()
        if who:
            _log_in(tab, live_server, getattr(world, who))
    return contexts[key].pages[0]


def _log_in(tab, live_server, member) -> None:
    """Log in and wait until the home page shows it: conftest's log_in can return before the
    form's navigation has started, and a goto then would cancel the login."""
    log_in(tab, live_server, member)
    tab.wait_for_selector("header .balance-pill")


def _axe_violations(tab) -> list[dict]:
    tab.add_script_tag(path=str(AXE))
    # resultTypes: only violations are reported in full, which makes a run much quicker.
    return tab.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(result => result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + n.failureSummary)})))",
        AXE_TAGS,
    )


def _describe(problems: dict[str, list]) -> str:
    lines = []
    for where, found in problems.items():
        lines.append(f"{where}:")
        lines.extend(f"  {item}" for item in found)
    return "\n".join(lines)


@pytest.mark.parametrize("locale", LOCALES)
def test_axe_finds_no_wcag_violations(visit, locale):
    problems = {}
    for spec, tab in visit(locale):
        violations = _axe_violations(tab)
        if violations:
            problems[f"{spec.name} ({tab.url})"] = [
                f"{v['id']} [{v['impact']}] {v['help']}\n      " + "\n      ".join(v["nodes"])
                for v in violations
            ]
    assert not problems, "axe found WCAG violations:\n" + _describe(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_control_is_a_44_px_target(visit, locale):
    problems = {}
    for spec, tab in visit(locale):
        small = tab.evaluate(SMALL_TARGETS, MIN_TARGET)
        if small:
            problems[spec.name] = small
    assert not problems, "targets smaller than 44×44 CSS px:\n" + _describe(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_pages_reflow_at_320_px_without_sideways_scrolling(visit, locale):
    too_wide = {}
    for spec, tab in visit(locale, NARROW):
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            too_wide[spec.name] = [f"{width} px wide: " + ", ".join(tab.evaluate(WIDE_ELEMENTS))]
    assert not too_wide, "pages that scroll sideways at 320 px:\n" + _describe(too_wide)


# For the failure message: the innermost elements that stick out past the right edge.
WIDE_ELEMENTS = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5))
  .slice(0, 8).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))"""


# Where the focused element is, whether the browser shows it as focused, and how well its
# focus ring (outline or box-shadow) stands out from what is behind it (WCAG 1.4.11: 3:1).
FOCUSED = """() => {
  const el = document.activeElement;
  const rgba = text => (text.match(/rgba?\\(([^)]+)\\)/) || [, '0 0 0 0'])[1]
    .split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  const luminance = colour => {
    const [r, g, b] = colour.slice(0, 3).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  };
  let behind = el.parentElement;
  while (behind && rgba(getComputedStyle(behind).backgroundColor)[3] === 0) behind = behind.parentElement;
  const background = behind ? rgba(getComputedStyle(behind).backgroundColor) : [255, 255, 255];
  const style = getComputedStyle(el);
  const rings = [];
  if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) rings.push(rgba(style.outlineColor));
  if (style.boxShadow !== 'none') rings.push(rgba(style.boxShadow));
  const rect = el.getBoundingClientRect();
  return {
    id: el.id || el.name || el.tagName.toLowerCase(), classes: String(el.className), inForm: !!el.closest('main form'),
    pageTop: rect.top + scrollY, left: rect.left, top: rect.top, bottom: rect.bottom,
    width: rect.width, height: rect.height,
    navTop: document.querySelector('.mainnav').getBoundingClientRect().top,
    focusVisible: el.matches(':focus-visible'),
    ringContrast: Math.max(0, ...rings.map(ring => contrast(ring, background))),
  };
}"""


@pytest.mark.parametrize("locale", LOCALES)
def test_keyboard_moves_through_the_new_post_form_in_visual_order(browser, live_server, world, locale):
    context = browser.new_context(locale=locale, **PHONE)
    try:
        tab = context.new_page()
        _log_in(tab, live_server, world.alice)
        tab.goto(live_server + "/posts/new")
        first, visited = _tab_through_form(tab)
    finally:
        context.close()
    # The first Tab shows the skip link, on screen and big enough to tap.
    assert first["classes"] == "skip" and first["top"] >= 0 and first["left"] >= 0, first
    assert min(first["width"], first["height"]) >= MIN_TARGET - 0.5, first
    names = [stop["id"] for stop in visited]
    # The neighbourhood's filter box comes before the list it filters.
    assert names == ["kind-0", "category", "title", "description", "hours", "extra_minutes",
                     "neighbourhood-filter", "neighbourhood", "starts_at", "ends_at", "once", "button"]
    for before, after in itertools.pairwise(visited):
        # Down the page, or along the same row (hours then minutes): never back up.
        assert (after["pageTop"] > before["pageTop"] + 1) or (
            abs(after["pageTop"] - before["pageTop"]) <= 1 and after["left"] > before["left"]), (before, after)
    for stop in [first, *visited]:
        assert stop["focusVisible"] and stop["ringContrast"] >= 3, f"focus hard to see on {stop}"
        assert stop["top"] >= 0 and stop["bottom"] <= stop["navTop"], f"{stop['id']} is hidden: {stop}"


def _tab_through_form(tab, limit: int = 60) -> tuple[dict, list[dict]]:
    """Press Tab from the top of the page until focus has gone through the form: the first
    stop, and one stop per form element (a date field's parts are Tab stops in one element)."""
    first, visited = None, []
    for _ in range(limit):
        tab.keyboard.press("Tab")
        stop = tab.evaluate(FOCUSED)
        first = first or stop
        if visited and not stop["inForm"]:
            break
        if stop["inForm"] and (not visited or visited[-1]["id"] != stop["id"]):
            visited.append(stop)
    return first, visited
