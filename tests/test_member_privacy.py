"""A member's balance is theirs: the API's public member object has none; the member sees
their own, and the coordinators of their centre (and admins) see it, as in the console."""
from __future__ import annotations

import pytest
from conftest import logged_in

from carebank.ledger import services as ledger
from carebank.members.models import Role
from carebank.members.services import register_resident

API = "/api/v1"
PUBLIC_KEYS = {"id", "name", "neighbourhood"}


@pytest.fixture
def kim(session, make_member, make_exchange, policy):
    """A member of the centre with 25 minutes, earned on a visit."""
    kim = make_member("Kim")
    exchange = make_exchange(kim)
    ledger.credit_visit(session, kim.id, exchange.receiver_id, 25, exchange_id=exchange.id,
                        created_by_id=exchange.receiver_id, policy=policy)
    session.commit()
    return kim


def member_seen(client, member) -> dict:
    response = client.get(f"{API}/members/{member.id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["member"]


def test_another_member_sees_no_balance(app, make_member, kim):
    seen = member_seen(logged_in(app, make_member("Neighbour")), kim)
    assert seen.keys() == PUBLIC_KEYS and seen["id"] == kim.id


def test_a_resident_without_a_login_shows_no_balance_to_other_members(app, session, coordinator, make_member):
    resident = register_resident(session, coordinator, name="Park", consent_note="Signed paper form")
    session.commit()
    assert "balance_minutes" not in member_seen(logged_in(app, make_member("Neighbour")), resident)


def test_a_member_sees_their_own_balance(app, kim):
    phone = logged_in(app, kim)
    assert member_seen(phone, kim)["balance_minutes"] == 25
    assert phone.get(f"{API}/me").get_json()["member"]["balance_minutes"] == 25
    assert phone.get(f"{API}/session").get_json()["member"]["balance_minutes"] == 25


def test_a_coordinator_sees_the_balance_of_their_centres_member(console, kim):
    assert member_seen(console, kim)["balance_minutes"] == 25


def test_a_coordinator_of_another_centre_sees_no_balance(app, make_centre, make_member, kim):
    elsewhere = make_member("Other coordinator", role=Role.COORDINATOR, centre_id=make_centre().id)
    assert member_seen(logged_in(app, elsewhere), kim).keys() == PUBLIC_KEYS


def test_an_admin_sees_every_members_balance(app, make_centre, make_member, kim):
    admin = make_member("Admin", role=Role.ADMIN, centre_id=make_centre().id)
    assert member_seen(logged_in(app, admin), kim)["balance_minutes"] == 25
