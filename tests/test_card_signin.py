"""Signing in with my member card: a resident without e-mail scans their own card (or pastes its
link) on any phone, types their PIN, and is logged in; wrong PINs count and lock the card as
at a check-in."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from conftest import csrf_from

from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.members import on_behalf
from carebank.members import services as members
from carebank.members.models import Member, Role
from tests.test_passkeys import who

PIN = "1357"


@pytest.fixture
def resident(session, make_member):
    """Grandmother Oh, registered by the centre: no e-mail, a card and a PIN."""
    coordinator = make_member("Coordinator Park", role=Role.COORDINATOR)
    member = members.register_resident(session, coordinator, name="Oh Geum-sun", consent_note="paper form")
    cards.set_pin(session, member, PIN, coordinator)
    issued = cards.issue_card(session, member, coordinator)
    session.commit()
    return SimpleNamespace(member=member, coordinator=coordinator, card=issued.card, token=issued.token,
                           url=f"/login/card/{issued.token}")


def type_pin(client, url: str, pin: str):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"pin": pin, "csrf_token": csrf_from(page)})


def failures(session, resident) -> tuple[int, bool]:
    session.commit()
    card = session.get(MemberCard, resident.card.id)
    session.refresh(card)
    return card.pin_failures, card.is_locked


def test_resident_without_email_signs_in_with_card(client, resident):
    page = client.get(resident.url).get_data(as_text=True)
    assert "This is the card of Oh Geum-sun." in page and 'id="pin"' in page
    answer = type_pin(client, resident.url, PIN)
    assert answer.status_code == 302 and who(client) == resident.member.id


def test_the_card_page_scans_with_the_scanner_and_links_from_the_login_page(client):
    page = client.get("/login/card").get_data(as_text=True)
    assert "data-scanner" in page and "js/scan.js" in page and 'data-card-open="/login/card/"' in page
    assert "/login/card" in client.get("/login").get_data(as_text=True)


def test_a_pasted_card_link_opens_its_pin_page(client, resident):
    page = client.get("/login/card").get_data(as_text=True)
    answer = client.post("/login/card", data={"card": f"https://care.example.org/card/{resident.token}",
                                              "csrf_token": csrf_from(page)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(resident.url)


def test_something_that_is_not_a_card_is_said_so(client):
    page = client.get("/login/card").get_data(as_text=True)
    answer = client.post("/login/card", data={"card": "hello", "csrf_token": csrf_from(page)})
    assert answer.status_code == 400 and "This is not a member card of this time bank." in answer.get_data(as_text=True)
    assert client.get("/login/card/" + "0" * 26).status_code == 404


def test_wrong_pins_count_and_the_fifth_locks_the_card_as_at_a_check_in(client, session, resident):
    for tries_left in (4, 3, 2):
        answer = type_pin(client, resident.url, "0000")
        assert answer.status_code == 400 and f"Wrong PIN. {tries_left} tries left." in answer.get_data(as_text=True)
    assert "Wrong PIN. 1 try left." in type_pin(client, resident.url, "0000").get_data(as_text=True)
    locked = type_pin(client, resident.url, "0000")
    assert locked.status_code == 409 and "The card is now locked" in locked.get_data(as_text=True)
    assert failures(session, resident) == (5, True)
    assert who(client) is None

    page = client.get(resident.url)
    assert page.status_code == 409 and "locked after too many wrong PINs" in page.get_data(as_text=True)
    assert 'id="pin"' not in page.get_data(as_text=True)


def test_a_right_pin_resets_the_count(client, session, resident):
    type_pin(client, resident.url, "0000")
    type_pin(client, resident.url, PIN)
    assert failures(session, resident) == (0, False)


def test_an_empty_pin_spends_no_try(client, session, resident):
    assert type_pin(client, resident.url, "").status_code == 400
    assert failures(session, resident) == (0, False)


def test_a_card_without_pin_cannot_sign_in_and_says_why(client, session, resident):
    cards.set_pin(session, session.get(Member, resident.member.id), "", session.get(Member, resident.coordinator.id))
    session.commit()
    page = client.get(resident.url)
    assert page.status_code == 409 and "This card has no PIN yet" in page.get_data(as_text=True)


def test_a_deactivated_member_cannot_sign_in_with_their_card(client, session, resident):
    on_behalf.deactivate(session, session.get(Member, resident.coordinator.id), session.get(Member, resident.member.id))
    session.commit()
    page = client.get(resident.url)
    assert page.status_code == 409 and "deactivated" in page.get_data(as_text=True)


def test_a_replaced_card_no_longer_signs_in(client, session, resident):
    cards.issue_card(session, session.get(Member, resident.member.id), session.get(Member, resident.coordinator.id))
    session.commit()
    assert client.get(resident.url).status_code == 409


def test_card_sign_ins_are_throttled_like_logins(app, client, resident, make_member):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert type_pin(client, resident.url, "0000").status_code == 400
    paused = type_pin(client, resident.url, PIN)
    assert paused.status_code == 429 and "Too many tries from here" in paused.get_data(as_text=True)
    assert who(client) is None


def test_card_sign_in_keeps_the_resident_card_only(client, session, resident):
    type_pin(client, resident.url, PIN)
    session.commit()
    member = session.get(Member, resident.member.id)
    session.refresh(member)
    # A card sign-in is not a login of their own: the carer still scans their card at visits.
    assert not member.has_login
    assert session.scalar(sa.select(sa.func.count()).select_from(MemberCard)) == 1
