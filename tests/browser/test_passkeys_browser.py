"""Passkeys in a real Chromium, with its virtual authenticator (DevTools' WebAuthn domain)
standing in for the phone's fingerprint reader: add one on the profile, log out, sign in with
it from the login page without typing anything; a removed one signs in no more; sign up
without e-mail."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from carebank.members.models import Member
from carebank.passkeys.models import Passkey
from tests.browser.conftest import log_in

AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                 "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}


@pytest.fixture
def site(live_server):
    # WebAuthn refuses an IP address as the relying party: the phone opens "localhost".
    return live_server.replace("127.0.0.1", "localhost")


@pytest.fixture
def passkey_phone(phone):
    """A phone whose page has a virtual platform authenticator (fingerprint: always yes)."""
    context = phone()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})["authenticatorId"]
    page.authenticator = (cdp, authenticator)
    return page


def log_out(page) -> None:
    with page.expect_navigation():
        page.click("[data-logout] button")


def add_passkey_on_profile(page, site: str, name: str) -> None:
    page.goto(f"{site}/profile")
    page.fill("#passkey-name", name)
    with page.expect_navigation(url=re.compile(r"/profile$")):
        page.click("[data-passkey='create'] [data-passkey-start]")
    assert "Done. Next time, sign in with" in page.inner_text("main")


def sign_in_with_passkey(page, site: str) -> None:
    page.goto(f"{site}/login")
    page.click("[data-passkey='get'] [data-passkey-start]")


def test_register_then_log_out_then_sign_in_with_the_passkey(site, passkey_phone, make_member, session):
    member = make_member("Park Soon-ja")
    page = passkey_phone
    log_in(page, site, member)
    add_passkey_on_profile(page, site, "My phone")
    assert page.locator("li input[value='My phone']").count() == 1
    log_out(page)

    with page.expect_navigation(url=re.compile(r"/$")):
        sign_in_with_passkey(page, site)
    assert page.locator("[data-logout]").count() == 1  # logged in, nothing typed
    session.commit()
    assert session.scalars(sa.select(Passkey)).one().last_used_at is not None


def test_a_removed_passkey_no_longer_signs_in(site, passkey_phone, make_member, session):
    member = make_member("Park Soon-ja")
    page = passkey_phone
    log_in(page, site, member)
    add_passkey_on_profile(page, site, "My phone")
    page.click("text=Remove “My phone”")
    with page.expect_navigation(url=re.compile(r"/profile$")):
        page.click("main form button")
    assert "It can no longer sign in." in page.inner_text("main")
    log_out(page)

    sign_in_with_passkey(page, site)  # the phone still holds the key; the bank no longer knows it
    status = page.locator("[data-passkey='get'] [data-passkey-status]")
    status.filter(has_text="did not sign you in").wait_for()
    assert page.locator("[data-logout]").count() == 0


def test_sign_up_without_email_then_sign_in_again(site, passkey_phone, session):
    page = passkey_phone
    page.goto(f"{site}/signup")
    page.click("text=Sign up with this phone's fingerprint or screen lock")
    page.fill("#name", "Kim Bok-nam")
    page.fill("#phone", "010-1234-5678")
    with page.expect_navigation():
        page.click("main form button")
    assert "One last step, Kim Bok-nam" in page.inner_text("main")
    with page.expect_navigation(url=re.compile(r"/posts/new$")):
        page.click("[data-passkey-start]")
    session.commit()
    member = session.scalars(sa.select(Member).where(Member.name == "Kim Bok-nam")).one()
    assert member.email is None and member.has_login
    log_out(page)
    with page.expect_navigation(url=re.compile(r"/$")):
        sign_in_with_passkey(page, site)
    assert page.locator("[data-logout]").count() == 1


def test_without_webauthn_the_login_page_is_as_before(site, phone, make_member):
    context = phone()
    context.add_init_script("delete window.PublicKeyCredential;")
    page = context.new_page()
    page.goto(f"{site}/login")
    assert not page.locator("[data-passkey='get']").is_visible()
    assert page.locator("#email").is_visible()
    log_in(page, site, make_member())
    assert page.locator("[data-logout]").count() == 1


def test_login_page_fits_a_phone_with_the_passkey_first(site, passkey_phone):
    page = passkey_phone
    page.goto(f"{site}/login")
    button = page.locator("[data-passkey='get'] [data-passkey-start]")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["y"] < page.locator("#email").bounding_box()["y"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


TARGETS = """() => [...document.querySelectorAll('main a, main button, main input, main select, main label.radio')]
    .filter(e => e.offsetParent !== null && e.type !== 'hidden' && !e.closest('label.radio') === !e.matches('label.radio'))
    .filter(e => !(e.matches('p > a:not(.standalone)')))  // links inside a sentence (WCAG 2.5.8 inline)
    .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().width, e.getBoundingClientRect().height])
    .filter(([, w, h]) => w < 44 || h < 44)"""


@pytest.mark.parametrize("locale", ["ko-KR", "en-GB"])
def test_sign_in_pages_read_on_a_360_px_phone_with_44_px_targets(site, phone, make_member, locale):
    context = phone(locale)
    page = context.new_page()
    for path in ("/login", "/login/card", "/signup", "/signup/passkey"):
        page.goto(f"{site}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert page.evaluate(TARGETS) == [], path
    log_in(page, site, make_member())
    for path in ("/profile", "/welcome/passkey"):
        page.goto(f"{site}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert page.evaluate(TARGETS) == [], path
