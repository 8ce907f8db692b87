"""A member the centre deactivated moves no more minutes: their card, the codes of their
exchanges and their logins stop working, each with a message that says why; reactivating
them brings the card back, and they log in again."""
from __future__ import annotations

import secrets
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from conftest import logged_in

from carebank.cards import services as cards
from carebank.checkins import services as checkins
from carebank.checkins.models import CardCheckin, CheckinStatus
from carebank.confirmations import services as confirmations
from carebank.confirmations.models import ConfirmationCode
from carebank.core.database import utcnow
from carebank.core.errors import Conflict
from carebank.ledger.models import Transaction
from carebank.members.models import LoginSession

API = "/api/v1"
PIN = "2468"
CARD_REFUSED = "This card&#39;s member is deactivated; ask the centre."


@pytest.fixture
def world(session, coordinator, make_member, make_exchange):
    """Carer Lee visits Resident Kim (an accepted exchange); Kim has a card and a PIN."""
    carer = make_member("Carer Lee")
    resident = make_member("Resident Kim")
    exchange = make_exchange(carer, resident, minutes=60)
    cards.set_pin(session, resident, PIN, coordinator)
    issued = cards.issue_card(session, resident, coordinator)
    session.commit()
    return SimpleNamespace(carer=carer, resident=resident, exchange=exchange, card=issued.card,
                           token=issued.token, url=f"/card/{issued.token}")


def deactivate(console, member) -> None:
    response = console.post(f"/console/members/{member.id}/deactivate", data={"reason": "Moved away"})
    assert response.status_code == 302, response.get_data(as_text=True)


def reactivate(console, member) -> None:
    assert console.post(f"/console/members/{member.id}/reactivate").status_code == 302


def transactions(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction))


def pin_form(world, **fields) -> dict:
    return {"exchange_id": world.exchange.id, "hours": 1, "extra_minutes": 0, "pin": PIN,
            "request_token": secrets.token_urlsafe(24), "action": "pin", **fields}


# ---- the card ---------------------------------------------------------------------------------


def test_a_deactivated_members_card_is_refused_even_with_the_right_pin(app, session, console, world):
    phone = logged_in(app, world.carer)
    deactivate(console, world.resident)

    response = phone.post(world.url, data=pin_form(world))

    assert response.status_code == 409 and CARD_REFUSED in response.get_data(as_text=True)
    assert transactions(session) == 0
    session.refresh(world.card)
    assert world.card.pin_failures == 0  # refused before a try was spent


def test_scanning_a_deactivated_members_card_says_why(app, console, world):
    phone = logged_in(app, world.carer)
    deactivate(console, world.resident)

    response = phone.get(world.url)

    assert response.status_code == 409 and CARD_REFUSED in response.get_data(as_text=True)


@pytest.mark.parametrize("use", ["pin", "approval"])
def test_the_check_in_services_refuse_a_deactivated_members_card(session, policy, console, world, use):
    deactivate(console, world.resident)
    session.commit()
    with pytest.raises(Conflict) as refused:
        if use == "pin":
            checkins.check_in_with_pin(session, world.carer, world.token, world.exchange.id, 60, PIN,
                                       secrets.token_urlsafe(24), policy)
        else:
            checkins.request_approval(session, world.carer, world.token, world.exchange.id, 60,
                                      secrets.token_urlsafe(24), policy=policy)
    assert refused.value.code == "member_deactivated"
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(CardCheckin)) == 0


def test_a_pending_check_in_of_a_deactivated_member_cannot_be_approved(app, session, coordinator, console,
                                                                       world):
    cards.set_pin(session, world.resident, "", coordinator)  # Kim has no PIN: the centre approves
    session.commit()
    phone = logged_in(app, world.carer)
    assert phone.post(world.url, data=pin_form(world, action="centre", pin="")).status_code == 302
    checkin = session.scalar(sa.select(CardCheckin))
    deactivate(console, world.resident)

    response = console.post(f"/console/checkins/{checkin.id}", data={"action": "approve"}, follow_redirects=True)

    assert "Resident Kim is deactivated, so this visit cannot be counted." in response.get_data(as_text=True)
    assert transactions(session) == 0
    session.refresh(checkin)
    assert checkin.status is CheckinStatus.PENDING  # the centre can still reject it
    rejected = console.post(f"/console/checkins/{checkin.id}", data={"action": "reject", "reason": "Left"})
    assert rejected.status_code == 302


# ---- confirmation codes -----------------------------------------------------------------------


def test_a_code_made_before_deactivation_cannot_be_redeemed(app, session, console, world):
    made = logged_in(app, world.carer).post(f"{API}/exchanges/{world.exchange.id}/confirmation-codes",
                                           json={"minutes": 60})
    code = made.get_json()["code"]
    deactivate(console, world.carer)

    response = logged_in(app, world.resident).post(f"{API}/confirmations", json={"code": code})

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "member_deactivated"
    assert "Carer Lee is deactivated" in response.get_json()["error"]["message"]
    assert transactions(session) == 0
    assert session.scalar(sa.select(ConfirmationCode.redeemed_at)) is None


def test_the_confirm_page_of_a_deactivated_members_code_says_why(app, session, console, world, policy):
    _, token = confirmations.make_code(session, world.carer, world.exchange.id, 60, policy)
    session.commit()
    deactivate(console, world.carer)

    response = logged_in(app, world.resident).get(f"/c/{token}")

    assert response.status_code == 409 and "Carer Lee is deactivated" in response.get_data(as_text=True)


def test_a_code_for_a_deactivated_party_cannot_be_redeemed_by_them(session, policy, world):
    # Kim made the code; the carer who would redeem it was deactivated since.
    _, token = confirmations.make_code(session, world.resident, world.exchange.id, 60, policy)
    world.carer.deactivated_at = utcnow()
    session.commit()
    with pytest.raises(Conflict) as refused:
        confirmations.redeem(session, world.carer, token, policy)
    assert refused.value.code == "member_deactivated"


def test_no_code_is_made_with_a_deactivated_member(app, session, console, policy, world):
    phone = logged_in(app, world.resident)
    deactivate(console, world.carer)

    response = phone.post(f"{API}/exchanges/{world.exchange.id}/confirmation-codes", json={"minutes": 60})

    assert response.status_code == 409 and response.get_json()["error"]["code"] == "member_deactivated"
    with pytest.raises(Conflict):  # nor by them
        confirmations.make_code(session, world.carer, world.exchange.id, 60, policy)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(ConfirmationCode)) == 0


# ---- logins -----------------------------------------------------------------------------------


def test_a_deactivated_members_session_cookie_no_longer_logs_them_in(app, session, console, world):
    phone = logged_in(app, world.carer)
    page = app.test_client()
    page.post("/login", data={"email": world.carer.email, "password": "correct horse battery"})
    deactivate(console, world.carer)

    assert phone.get(f"{API}/me").status_code == 401
    assert phone.get(f"{API}/session").get_json()["member"] is None
    assert "/login" in page.get("/profile").location
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginSession)
                          .where(LoginSession.member_id == world.carer.id)) == 0


def test_a_login_kept_by_a_deactivated_member_is_refused_by_the_user_loader(app, session, world):
    # Even a login row that survived (deactivated by hand, say) logs no one in.
    phone = logged_in(app, world.carer)
    world.carer.deactivated_at = utcnow()
    session.commit()
    assert phone.get(f"{API}/me").status_code == 401


def test_reactivating_restores_the_card_and_needs_a_new_login(app, session, console, world):
    old_phone = logged_in(app, world.resident)
    deactivate(console, world.resident)
    reactivate(console, world.resident)

    assert old_phone.get(f"{API}/me").status_code == 401
    assert logged_in(app, world.resident).get(f"{API}/me").status_code == 200
    response = logged_in(app, world.carer).post(world.url, data=pin_form(world))
    assert response.status_code == 302
    assert transactions(session) == 1
