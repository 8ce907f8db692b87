"""Signing up with this phone's screen lock instead of an e-mail: the member exists only once
the passkey is saved; the phone number is optional and shown to exchange partners only by the
member's choice; a member without a password can set one later."""
from __future__ import annotations

import sqlalchemy as sa
from conftest import csrf_from, logged_in

from carebank.members.models import Member
from carebank.passkeys.models import Passkey
from tests.test_passkeys import Phone, sign_in, who

DETAILS = {"name": "Kim Bok-nam", "neighbourhood": "Hyoja-dong", "phone": "010-1234-5678"}


def start_signup(client, **details):
    page = client.get("/signup/passkey").get_data(as_text=True)
    return client.post("/signup/passkey", data={**DETAILS, **details, "csrf_token": csrf_from(page)})


def create_passkey(client, phone: Phone, name: str = "My phone"):
    options = client.post("/signup/passkey/options", json={}).get_json()["options"]
    return client.put("/signup/passkey", json={"credential": phone.create(options), "name": name})


def sign_up_without_email(app):
    """A new phone signed up without e-mail: (its client, logged in; its authenticator)."""
    client, phone = app.test_client(), Phone()
    assert start_signup(client).status_code == 302
    assert create_passkey(client, phone).status_code == 200
    return client, phone


def members_named(session, name: str) -> list[Member]:
    session.commit()
    return list(session.scalars(sa.select(Member).where(Member.name == name)))


def test_resident_signs_up_without_email_and_signs_in_with_the_passkey(app, session, centre):
    client, phone = app.test_client(), Phone()
    step1 = start_signup(client)
    assert step1.status_code == 302 and step1.headers["Location"].endswith("/signup/passkey/create")
    assert "One last step, Kim Bok-nam" in client.get("/signup/passkey/create").get_data(as_text=True)
    assert members_named(session, "Kim Bok-nam") == []  # nothing yet: no passkey, no account

    done = create_passkey(client, phone)
    assert done.status_code == 200 and done.get_json()["redirect"] == "/posts/new"
    [member] = members_named(session, "Kim Bok-nam")
    assert member.email is None and member.password_hash is None and member.has_login
    assert member.phone == "010-1234-5678" and not member.phone_shared_with_partners
    assert member.centre_id == centre.id and member.account is not None
    assert who(client) == member.id

    later = app.test_client()  # logged out, next week
    assert sign_in(later, phone).status_code == 200 and who(later) == member.id


def test_a_cancelled_passkey_leaves_no_account_and_can_be_tried_again(app, session):
    client, phone = app.test_client(), Phone()
    start_signup(client)
    client.post("/signup/passkey/options", json={})  # the phone asked; the member pressed cancel
    assert members_named(session, "Kim Bok-nam") == []
    assert client.get("/signup/passkey/create").status_code == 200  # the page can try again
    assert create_passkey(client, phone).status_code == 200
    assert len(members_named(session, "Kim Bok-nam")) == 1


def test_a_refused_passkey_answer_creates_no_member(app, session):
    client, phone = app.test_client(), Phone()
    start_signup(client)
    options = client.post("/signup/passkey/options", json={}).get_json()["options"]
    answer = client.put("/signup/passkey", json={"credential": phone.create(options, origin="https://evil.example"),
                                                 "name": "My phone"})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "passkey_refused"
    assert members_named(session, "Kim Bok-nam") == []
    assert create_passkey(client, phone).status_code == 200  # asks again, and it works


def test_the_same_signup_answer_cannot_create_two_members(app, session):
    client, phone = app.test_client(), Phone()
    start_signup(client)
    options = client.post("/signup/passkey/options", json={}).get_json()["options"]
    answer = {"credential": phone.create(options), "name": "My phone"}
    assert client.put("/signup/passkey", json=answer).status_code == 200
    assert client.put("/signup/passkey", json=answer).status_code == 400
    assert len(members_named(session, "Kim Bok-nam")) == 1


def test_signup_details_are_checked_before_any_passkey(app, session):
    client = app.test_client()
    answer = start_signup(client, name="  ", phone="call me")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "This field is required." in page
    answer = start_signup(client, phone="call me maybe")
    assert answer.status_code == 400 and "Please enter a phone number with digits only." in answer.get_data(as_text=True)
    assert client.get("/signup/passkey/create").status_code == 302  # nothing pending


def test_creating_a_passkey_without_a_pending_signup_is_refused(app, session):
    client = app.test_client()
    answer = client.post("/signup/passkey/options", json={})
    assert answer.status_code == 400 and "fill in the sign-up form again" in answer.get_json()["error"]["message"]
    assert client.put("/signup/passkey", json={"credential": {}, "name": "x"}).status_code == 400


def test_signup_page_offers_the_way_without_email(client):
    page = client.get("/signup").get_data(as_text=True)
    assert "/signup/passkey" in page and 'id="phone"' in page


def test_phone_at_email_signup_is_optional_and_kept(app, session, client):
    client.post("/signup", data={"name": "Lee Ok-ja", "email": "okja@example.org", "password": "long enough pw",
                                 "phone": "02-765-4321"})
    [member] = members_named(session, "Lee Ok-ja")
    assert member.phone == "02-765-4321"


def test_member_chooses_to_show_their_phone_to_exchange_partners(app, session, make_member):
    member = make_member("Jung Mi-ra")
    client = logged_in(app, member)
    page = client.get("/profile").get_data(as_text=True)
    assert "Show my phone number to the people I have an exchange with" in page
    form = {"name": "Jung Mi-ra", "phone": "010-2222-3333", "phone_shared_with_partners": "y",
            "locale": "en", "timezone": "Asia/Seoul", "csrf_token": csrf_from(page)}
    assert client.post("/profile", data=form).status_code == 302
    session.commit()
    session.refresh(member)
    assert member.phone_shared_with_partners and member.phone == "010-2222-3333"
    form.pop("phone_shared_with_partners")
    client.post("/profile", data=form)
    session.refresh(member)
    session.commit()
    session.refresh(member)
    assert not member.phone_shared_with_partners


def test_a_member_without_a_password_sets_one_with_an_email(app, session):
    client, _phone = sign_up_without_email(app)
    page = client.get("/profile").get_data(as_text=True)
    assert "Set a password" in page and "Current password" not in page
    answer = client.post("/profile/password", data={"email": "boknam@example.org", "new_password": "a long password"})
    assert answer.status_code == 302
    assert who(client) is not None  # still logged in on this phone
    password_phone = app.test_client()
    assert password_phone.post("/api/v1/session", json={"email": "boknam@example.org",
                                                         "password": "a long password"}).status_code == 200


def test_setting_a_first_password_refuses_an_email_already_taken(app, session, make_member):
    make_member(email="taken@example.org")
    client, _phone = sign_up_without_email(app)
    answer = client.post("/profile/password", data={"email": "taken@example.org", "new_password": "a long password"})
    assert answer.status_code == 400 and "already an account" in answer.get_data(as_text=True)


def test_a_member_with_a_password_still_changes_it_with_the_current_one(app, make_member):
    member = make_member()
    client = logged_in(app, member)
    answer = client.post("/profile/password", data={"current_password": "wrong", "new_password": "another long one"})
    assert answer.status_code == 400 and "The current password is not right." in answer.get_data(as_text=True)


def test_the_api_login_refuses_a_member_without_a_password_like_a_wrong_one(app, session):
    sign_up_without_email(app)
    answer = app.test_client().post("/api/v1/session", json={"email": "", "password": "anything at all"})
    assert answer.status_code in (400, 401)


def test_the_console_counts_a_passkey_only_member_as_having_a_login(app, session, console):
    sign_up_without_email(app)
    [member] = members_named(session, "Kim Bok-nam")
    no_login = console.get("/console/members?show=no_login").get_data(as_text=True)
    assert "Kim Bok-nam" not in no_login
    detail = console.get(f"/console/members/{member.id}").get_data(as_text=True)
    assert "Passkey only (no e-mail)" in detail and "010-1234-5678" in detail


def test_a_passkey_only_member_registered_their_passkey(app, session):
    sign_up_without_email(app)
    session.commit()
    [passkey] = session.scalars(sa.select(Passkey)).all()
    assert passkey.name == "My phone" and passkey.member.name == "Kim Bok-nam"


def test_the_api_sets_whether_partners_see_the_phone(app, session, make_member):
    member = make_member()
    client = logged_in(app, member)
    assert client.patch("/api/v1/me", json={"phone_shared_with_partners": True}).status_code == 200
    session.commit()
    session.refresh(member)
    assert member.phone_shared_with_partners
    refused = client.patch("/api/v1/me", json={"phone_shared_with_partners": "yes"})
    assert refused.status_code == 400
