"""Signing in with my member card in a real Chromium: a photo of the card (the scanner that
exists), then the PIN, on a phone that is not the resident's."""
from __future__ import annotations

from carebank.cards import services as cards
from carebank.members import services as members
from carebank.members.models import Role
from tests.browser.test_scanner import SCAN_TIMEOUT_MS, png, qr_pixels


def test_resident_without_email_signs_in_with_a_photo_of_their_card(live_server, phone, session, make_member):
    coordinator = make_member("Coordinator Park", role=Role.COORDINATOR)
    resident = members.register_resident(session, coordinator, name="Oh Geum-sun", consent_note="paper form")
    cards.set_pin(session, resident, "1357", coordinator)
    issued = cards.issue_card(session, resident, coordinator)
    session.commit()
    page = phone().new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{live_server}/login")
    page.click("text=Sign in with my member card")
    photo = png(qr_pixels(cards.card_url(live_server, issued.token)))
    page.get_by_label("Photo of your member card").set_input_files(
        {"name": "card.png", "mimeType": "image/png", "buffer": photo})
    page.wait_for_url(f"{live_server}/login/card/{issued.token}", timeout=SCAN_TIMEOUT_MS)
    assert "This is the card of Oh Geum-sun." in page.locator("main").inner_text()
    page.fill("#pin", "1357")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.locator("[data-logout]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert errors == []
