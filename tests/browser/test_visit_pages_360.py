"""The visit pages on a 360 px phone, in Korean and in English: the exchange page with an active
care plan (as the carer and as the person helped) and "My visits", every disclosure opened, never
scroll sideways, every control is a 44×44 px target, and axe finds no WCAG 2.2 AA violation."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from carebank.careplans import recurrence
from carebank.careplans import services as careplans
from carebank.core.database import utcnow
from carebank.exchanges import services as exchanges
from carebank.visits import services as visits
from tests.browser.conftest import PHONE, log_in
from tests.browser.test_accessibility import AXE, AXE_TAGS, MIN_TARGET, SMALL_TARGETS, WIDE_ELEMENTS

LOCALES = ["ko-KR", "en-GB"]
WIDTH = PHONE["viewport"]["width"]
ACTIONS = [("visits", "check-in"), ("visits", "confirm"), ("visits", "cancel"), ("visits", "move"),
           ("care-plans", "change"), ("care-plans", "end")]
OPEN_EVERYTHING = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"


@pytest.fixture
def world(session, policy, make_member, make_post, make_exchange):
    """Park Min-jun visits Kim Young-ja every day from half an hour from now: the first visit is
    checked in and out, waiting for her to confirm. He also has a one-off visit with Lee Soo-jin
    in twenty minutes, which he can check in to."""
    carer, resident = make_member("Park Min-jun"), make_member("Kim Young-ja")
    neighbour = make_member("Lee Soo-jin")
    exchange = make_exchange(carer, resident, minutes=90)
    start = (utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    plan = careplans.propose_plan(session, carer, exchange.id, rrule=recurrence.weekly(recurrence.WEEKDAYS),
                                  starts_at=start, minutes=90, until=(start + timedelta(days=20)).date(),
                                  policy=policy)
    careplans.accept_plan(session, resident, plan.id)
    first = careplans.plan_visits(session, carer, plan.id)[0]
    visits.check_in(session, carer, first.id, now=first.starts_at)
    visits.check_out(session, carer, first.id, now=first.starts_at + timedelta(minutes=92))
    other = exchanges.respond(session, carer, make_post(neighbour, title="Fix the radio", minutes=30).id)
    exchanges.accept(session, neighbour, other.id)
    visits.schedule_one_off(session, carer, other.id, utcnow() + timedelta(minutes=20), 30, policy=policy)
    session.commit()
    return SimpleNamespace(carer=carer, resident=resident, exchange=exchange)


def _pages(world) -> list[tuple[str, object, str]]:
    exchange_page = f"/exchanges/{world.exchange.id}"
    return [("exchange (carer)", world.carer, exchange_page), ("exchange (receiver)", world.resident, exchange_page),
            ("my visits (carer)", world.carer, "/visits"), ("my visits (receiver)", world.resident, "/visits")]


def _each_page_opened(browser, live_server, world, locale, check, **options) -> dict[str, list[str]]:
    """`check(tab)` on each page as its member sees it, every disclosure open: what it found."""
    problems = {}
    for name, member, path in _pages(world):
        context = browser.new_context(locale=locale, **PHONE, **options)
        try:
            tab = context.new_page()
            log_in(tab, live_server, member)
            tab.wait_for_selector("header .balance-pill")
            tab.goto(live_server + path)
            assert tab.get_attribute("html", "lang") == locale[:2], name
            assert tab.locator("main .visit-card").count() >= 2, f"{name}: no visits shown"
            tab.evaluate(OPEN_EVERYTHING)
            found = check(tab)
        finally:
            context.close()
        if found:
            problems[name] = found
    return problems


def _described(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{name}: {found}" for name, found in problems.items())


@pytest.mark.parametrize("locale", LOCALES)
def test_visit_pages_fit_a_360_px_phone_with_44_px_targets(browser, live_server, world, locale):
    problems = _each_page_opened(browser, live_server, world, locale, _measure)
    assert not problems, _described(problems)


def _measure(tab) -> list[str]:
    found = []
    width = tab.evaluate("document.documentElement.scrollWidth")
    if width > WIDTH:
        found.append(f"{width} px wide: " + ", ".join(tab.evaluate(WIDE_ELEMENTS)))
    found += tab.evaluate(SMALL_TARGETS, MIN_TARGET)
    return found


def _axe_violations(tab) -> list[str]:
    tab.add_script_tag(path=str(AXE))
    return tab.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(result => result.violations.map(v => v.id + ': ' + v.help + ' — '"
        " + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))", AXE_TAGS)


@pytest.mark.parametrize("locale", LOCALES)
def test_axe_finds_no_wcag_violations_on_the_visit_pages(browser, live_server, world, locale):
    # bypass_csp: axe is a test tool injected into the page, not part of the app.
    problems = _each_page_opened(browser, live_server, world, locale, _axe_violations, bypass_csp=True)
    assert not problems, _described(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_carer_sees_check_in_and_the_receiver_confirm(browser, live_server, world, locale):
    """What the measurements above cover is really there: the actions of each person."""
    shown = {}
    for name, member, path in _pages(world):
        context = browser.new_context(locale=locale, **PHONE)
        try:
            tab = context.new_page()
            log_in(tab, live_server, member)
            tab.wait_for_selector("header .balance-pill")
            tab.goto(live_server + path)
            shown[name] = {action: tab.locator(f"main form[action^='/{where}/'][action$='/{action}']").count()
                           for where, action in ACTIONS}
        finally:
            context.close()
    assert shown["my visits (carer)"]["check-in"] == 1  # the one-off visit in twenty minutes
    assert shown["exchange (receiver)"]["confirm"] == 2  # one tap, and a different time
    assert shown["exchange (carer)"]["confirm"] == 0
    for name in ("exchange (carer)", "exchange (receiver)"):
        assert shown[name]["cancel"] == shown[name]["move"] == shown[name]["change"] == 5, (name, shown[name])
        assert shown[name]["end"] == 1
