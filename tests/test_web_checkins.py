"""Card check-ins through the pages: the carer's phone opens /card/<token>, the resident types
their PIN (or the centre approves in the console), and the ledger moves once."""
from __future__ import annotations

import re
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from conftest import balance, logged_in

from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.checkins.models import CardCheckin, CheckinStatus
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction, TransactionKind
from carebank.members.models import Role

PIN = "2468"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(session, make_member, make_exchange):
    """Carer Lee visits Resident Kim (90 minutes agreed); Kim has a card and a PIN."""
    coordinator = make_member("Coordinator Park", role=Role.COORDINATOR)
    carer = make_member("Carer Lee")
    resident = make_member("Resident Kim")
    exchange = make_exchange(carer, resident, minutes=90)
    cards.set_pin(session, resident, PIN, coordinator)
    issued = cards.issue_card(session, resident, coordinator)
    session.commit()
    return SimpleNamespace(coordinator=coordinator, carer=carer, resident=resident, exchange=exchange,
                           card=issued.card, url=f"/card/{issued.token}")


def html(response) -> str:
    return response.get_data(as_text=True)


def request_token(page: str) -> str:
    return re.search(r'name="request_token" type="hidden" value="([^"]+)"', page).group(1)


def form_for(phone, world, **fields) -> dict:
    """What the card page's form sends, with a fresh request token from the page."""
    page = html(phone.get(world.url))
    data = {"exchange_id": world.exchange.id, "hours": 1, "extra_minutes": 30, "pin": PIN,
            "request_token": request_token(page), "action": "pin"}
    return {**data, **fields}


def visits(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction)
                          .where(Transaction.kind == TransactionKind.VISIT))


def card_failures(session, world) -> tuple[int, bool]:
    session.commit()
    card = session.get(MemberCard, world.card.id)
    session.refresh(card)
    return card.pin_failures, card.is_locked


# ---- the card page --------------------------------------------------------------------------


def test_card_page_shows_the_resident_and_a_pin_form(app, world):
    page = html(logged_in(app, world.carer).get(world.url))
    assert "Visit with Resident Kim" in page
    assert "“Lunch together” — you help Resident Kim" in page
    pin_input = re.search(r"<input[^>]*name=\"pin\"[^>]*>", page).group(0)
    assert 'type="password"' in pin_input and 'inputmode="numeric"' in pin_input
    assert 'autocomplete="off"' in pin_input
    assert 'name="request_token"' in page
    assert "Confirm with PIN" in page and "Ask the centre to approve" in page
    assert 'name="hours" type="number" value="1"' in page  # the agreed 1 h 30 min


def test_each_showing_of_the_card_page_has_its_own_request_token(app, world):
    phone = logged_in(app, world.carer)
    assert request_token(html(phone.get(world.url))) != request_token(html(phone.get(world.url)))


def test_card_page_needs_a_login(client, world):
    response = client.get(world.url)
    assert response.status_code == 302 and "/login" in response.location


def test_unknown_card_is_not_found(app, world):
    response = logged_in(app, world.carer).get("/card/" + "0" * 26)
    assert response.status_code == 404
    assert "This card is not known" in html(response)


@pytest.mark.parametrize("stop, message", [
    ("block", "This card has been blocked"),
    ("replace", "This card has been replaced by a newer one"),
    ("lock", "This card is locked after too many wrong PINs"),
])
def test_card_that_no_longer_works_is_refused_with_a_clear_page(app, session, world, stop, message):
    if stop == "block":
        cards.block_card(session, world.card, world.coordinator, "lost")
    elif stop == "replace":
        cards.issue_card(session, world.resident, world.coordinator)
    else:
        session.execute(sa.update(MemberCard).where(MemberCard.id == world.card.id)
                        .values(pin_failures=5, locked_at=sa.func.now()))
    session.commit()
    response = logged_in(app, world.carer).get(world.url)
    assert response.status_code == 409 and message in html(response)


def test_carer_without_an_agreed_exchange_is_refused(app, make_member, world):
    response = logged_in(app, make_member("Stranger")).get(world.url)
    assert response.status_code == 403
    assert "You have no agreed exchange with Resident Kim" in html(response)


def test_several_exchanges_are_offered_as_choices(app, make_exchange, make_post, world):
    make_exchange(world.resident, world.carer, minutes=30)  # Kim also helps Lee
    page = html(logged_in(app, world.carer).get(world.url))
    assert len(re.findall(r'<input[^>]*name="exchange_id"[^>]*type="radio"', page)) == 2
    assert "— Resident Kim helps you" in page


# ---- confirming with the PIN ----------------------------------------------------------------


def test_pin_check_in_moves_the_ledger_and_says_so(app, session, world):
    phone = logged_in(app, world.carer)
    response = phone.post(world.url, data=form_for(phone, world))
    assert response.status_code == 302 and "/checkins/" in response.location

    page = html(phone.get(response.location))
    assert "Confirmed: 1 h 30 min with Resident Kim" in page
    assert balance(session, world.carer) == 90 and balance(session, world.resident) == -90
    assert ledger.verify(session) == []


def test_sending_the_same_form_twice_counts_once(app, session, world):
    phone = logged_in(app, world.carer)
    data = form_for(phone, world)
    first = phone.post(world.url, data=data)
    again = phone.post(world.url, data=data)
    assert first.location == again.location
    assert visits(session) == 1 and balance(session, world.carer) == 90


def test_wrong_pin_is_counted_and_the_ledger_does_not_move(app, session, world):
    phone = logged_in(app, world.carer)
    response = phone.post(world.url, data=form_for(phone, world, pin="1111"))
    assert response.status_code == 400
    assert "Wrong PIN. 4 tries left." in html(response)
    assert card_failures(session, world) == (1, False)  # committed although the request failed
    assert visits(session) == 0 and session.scalar(sa.select(sa.func.count()).select_from(CardCheckin)) == 0


def test_five_wrong_pins_lock_the_card_until_the_centre_unlocks_it(app, session, world):
    phone = logged_in(app, world.carer)
    for _ in range(4):
        assert phone.post(world.url, data=form_for(phone, world, pin="0000")).status_code == 400
    locked = phone.post(world.url, data=form_for(phone, world, pin="0000"))
    assert locked.status_code == 409 and "The card is now locked" in html(locked)

    page = html(phone.post(world.url, data={**form_for_locked(world), "pin": PIN}))
    assert "This card is locked after too many wrong PINs" in page
    assert visits(session) == 0 and card_failures(session, world) == (5, True)

    cards.unlock_card(session, session.get(MemberCard, world.card.id), world.coordinator)
    session.commit()
    assert phone.post(world.url, data=form_for(phone, world)).status_code == 302
    assert visits(session) == 1


def form_for_locked(world) -> dict:
    # The page itself refuses a locked card, so the form is what a stale page would send.
    return {"exchange_id": world.exchange.id, "hours": 1, "extra_minutes": 0,
            "request_token": "stale-page-token-123456", "action": "pin"}


def test_missing_pin_is_asked_for_without_counting(app, session, world):
    phone = logged_in(app, world.carer)
    response = phone.post(world.url, data=form_for(phone, world, pin=""))
    assert response.status_code == 400 and "Ask Resident Kim to type their PIN." in html(response)
    assert card_failures(session, world) == (0, False)


def test_carer_cannot_post_for_someone_elses_exchange(app, session, make_member, make_exchange, world):
    other = make_exchange(world.carer, make_member("Someone else"))
    phone = logged_in(app, world.carer)
    response = phone.post(world.url, data=form_for(phone, world, exchange_id=other.id))
    assert response.status_code == 400
    assert visits(session) == 0


def test_too_low_balance_says_whose_and_what_helps(app, session, world, policy):
    app.config["MIN_BALANCE_MINUTES"] = 0
    phone = logged_in(app, world.carer)
    response = phone.post(world.url, data=form_for(phone, world))
    assert response.status_code == 400
    assert "Resident Kim&#39;s balance cannot go below" in html(response)
    assert visits(session) == 0


def test_pin_tries_are_rate_limited_per_carer(app, session, make_member, make_exchange, world):
    app.config["CHECKIN_PIN_RATE_LIMIT"] = "3 per minute"
    phone = logged_in(app, world.carer)
    data = form_for(phone, world, pin="0000")
    answers = [phone.post(world.url, data=data).status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]
    refused = phone.post(world.url, data=data)
    assert refused.status_code == 429 and "Too many tries. Please wait a moment." in html(refused)
    assert phone.get(world.url).status_code == 200  # looking is not limited
    assert card_failures(session, world) == (3, False)
    # Another carer's phone has its own allowance.
    other = make_member("Carer Yoon")
    make_exchange(other, world.resident)
    other_phone = logged_in(app, other)
    assert other_phone.post(world.url, data=form_for(other_phone, world, pin="0000")).status_code != 429


# ---- asking the centre ----------------------------------------------------------------------


def test_resident_without_pin_gets_only_the_centre_option(app, session, world):
    cards.set_pin(session, world.resident, "", world.coordinator)
    session.commit()
    phone = logged_in(app, world.carer)
    page = html(phone.get(world.url))
    assert 'name="pin"' not in page and "Confirm with PIN" not in page
    assert "does not use a PIN, so the centre will approve this visit" in page

    response = phone.post(world.url, data=form_for(phone, world, action="centre", pin="",
                                                   note="Kim was happy"))
    assert response.status_code == 302
    assert "Sent to the centre for approval" in html(phone.get(response.location))
    assert visits(session) == 0


def pending_checkin(app, session, world) -> CardCheckin:
    phone = logged_in(app, world.carer)
    response = phone.post(world.url, data=form_for(phone, world, action="centre", pin=""))
    assert response.status_code == 302
    session.commit()
    return session.scalars(sa.select(CardCheckin).order_by(CardCheckin.id.desc())).first()


def test_coordinator_approves_a_waiting_checkin(app, session, world):
    checkin = pending_checkin(app, session, world)
    desk = logged_in(app, world.coordinator)
    page = html(desk.get("/console/checkins"))
    assert "Resident Kim" in page and "Carer Lee" in page and "Lunch together" in page
    assert "Approve 1 h 30 min" in page

    response = desk.post(f"/console/checkins/{checkin.id}", data={"action": "approve"})
    assert response.status_code == 302
    assert "Approved: 1 h 30 min from Carer Lee to Resident Kim." in html(desk.get(response.location))
    assert balance(session, world.carer) == 90 and visits(session) == 1
    assert "Confirmed: 1 h 30 min with Resident Kim" in html(
        logged_in(app, world.carer).get(f"/checkins/{checkin.id}"))


def test_coordinator_rejects_with_a_reason(app, session, world):
    checkin = pending_checkin(app, session, world)
    desk = logged_in(app, world.coordinator)
    missing = desk.post(f"/console/checkins/{checkin.id}", data={"action": "reject", "reason": ""})
    assert missing.status_code == 400 and "Please give the reason" in html(missing)

    response = desk.post(f"/console/checkins/{checkin.id}", data={"action": "reject", "reason": "No visit"})
    assert response.status_code == 302
    session.commit()
    assert session.get(CardCheckin, checkin.id).status is CheckinStatus.REJECTED
    assert visits(session) == 0
    assert "The centre did not approve this check-in" in html(
        logged_in(app, world.carer).get(f"/checkins/{checkin.id}"))


def test_second_decision_is_told_it_was_already_decided(app, session, world):
    checkin = pending_checkin(app, session, world)
    desk = logged_in(app, world.coordinator)
    desk.post(f"/console/checkins/{checkin.id}", data={"action": "approve"})
    again = desk.post(f"/console/checkins/{checkin.id}", data={"action": "approve"}, follow_redirects=True)
    assert "This check-in has already been decided." in html(again)
    assert visits(session) == 1


def test_two_coordinators_approving_at_once_make_one_transaction(app, session, make_member, world):
    checkin_id = pending_checkin(app, session, world).id
    colleague = make_member("Coordinator Jung", role=Role.COORDINATOR)
    desks = [logged_in(app, world.coordinator), logged_in(app, colleague)]
    tokens = [desk.fetch_csrf_token() for desk in desks]
    session.commit()
    test_session = app.config.pop("TEST_SESSION")  # the threads must not commit the test's session
    barrier = threading.Barrier(2)
    answers = [None, None]

    def approve(i):
        barrier.wait()
        answers[i] = desks[i].post(f"/console/checkins/{checkin_id}", data={"action": "approve"},
                                   headers={"X-CSRFToken": tokens[i]}).status_code

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        app.config["TEST_SESSION"] = test_session
    assert answers == [302, 302]
    assert visits(session) == 1 and balance(session, world.carer) == 90
    assert ledger.verify(session) == []


def test_coordinator_of_another_centre_cannot_see_or_decide(app, session, make_centre, make_member, world):
    checkin = pending_checkin(app, session, world)
    elsewhere = make_member("Coordinator Choi", role=Role.COORDINATOR, centre_id=make_centre("Other").id)
    desk = logged_in(app, elsewhere)
    assert "Resident Kim" not in html(desk.get("/console/checkins"))
    assert desk.post(f"/console/checkins/{checkin.id}", data={"action": "approve"}).status_code == 404
    assert visits(session) == 0


def test_member_cannot_reach_the_console_queue(app, world):
    phone = logged_in(app, world.carer)
    assert phone.get("/console/checkins").status_code == 403
    assert phone.post("/console/checkins/1", data={"action": "approve"}).status_code == 403


def test_carer_sees_only_their_own_checkins(app, session, make_member, world):
    checkin = pending_checkin(app, session, world)
    assert logged_in(app, make_member("Nosy")).get(f"/checkins/{checkin.id}").status_code == 404


def test_console_form_posts_with_its_own_csrf_token(app, session, world):
    pending_checkin(app, session, world)
    page = html(logged_in(app, world.coordinator).get("/console/checkins"))
    assert page.count('name="csrf_token"') >= 2  # each decision is its own form
    assert 'name="action" value="approve"' in page and 'name="action" value="reject"' in page


# ---- the in-app scanner ---------------------------------------------------------------------


def test_scanner_opens_member_card_urls():
    script = (ROOT / "static" / "js" / "scan.js").read_text()
    assert "cardFrom(text)" in script and 'root.dataset.cardPrefix || "/card/"' in script
    assert cards.CARD_PATH == "/card/"  # the path printed cards carry
