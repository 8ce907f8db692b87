"""Passkeys through the pages' JSON steps: a member adds one on their profile, signs in with it
without typing an e-mail, names and removes it. The phone is a small software authenticator
(`Phone` below) that answers WebAuthn challenges as a real one does."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import pytest
import sqlalchemy as sa
from cbor2 import dumps as cbor
from conftest import csrf_from, logged_in
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from carebank.members import on_behalf
from carebank.members import services as members
from carebank.members.models import Member
from carebank.passkeys.models import Passkey, PasskeyChallenge

ORIGIN = "http://localhost"  # the test client's origin: the RP ID is "localhost"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Phone:
    """A platform authenticator with discoverable credentials and user verification."""

    def __init__(self, origin: str = ORIGIN):
        self.origin = origin
        self.credentials: dict[bytes, tuple] = {}  # id -> (private key, rp id, user handle, count)

    def create(self, options_json: str, *, origin: str | None = None) -> dict:
        options = json.loads(options_json)
        key = ec.generate_private_key(ec.SECP256R1())
        credential_id = os.urandom(16)
        rp_id = options["rp"]["id"]
        self.credentials[credential_id] = [key, rp_id, unb64(options["user"]["id"]), 0]
        numbers = key.public_key().public_numbers()
        cose = cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([0x45]) + struct.pack(">I", 0)
                     + bytes(16) + struct.pack(">H", len(credential_id)) + credential_id + cose)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {"id": b64(credential_id), "rawId": b64(credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client_data),
                             "attestationObject": b64(cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})),
                             "transports": ["internal"]},
                "clientExtensionResults": {}, "authenticatorAttachment": "platform"}

    def get(self, options_json: str, *, credential_id: bytes | None = None, origin: str | None = None) -> dict:
        options = json.loads(options_json)
        credential_id = credential_id or next(iter(self.credentials))
        entry = self.credentials[credential_id]
        key, rp_id, handle, count = entry
        entry[3] = count + 1
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([0x05]) + struct.pack(">I", count + 1)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64(credential_id), "rawId": b64(credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                             "signature": b64(signature), "userHandle": b64(handle)},
                "clientExtensionResults": {}}

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()


def add_passkey(client, phone: Phone, name: str = "My phone"):
    options = client.post("/passkeys/options", json={}).get_json()["options"]
    return client.post("/passkeys", json={"credential": phone.create(options), "name": name})


def sign_in(client, phone: Phone, **answer_options):
    options = client.post("/passkeys/sign-in/options", json={}).get_json()["options"]
    return client.post("/passkeys/sign-in", json={"credential": phone.get(options, **answer_options),
                                                   "next": "/exchanges"})


def who(client) -> int | None:
    member = client.get("/api/v1/session").get_json()["member"]
    return member and member["id"]


@pytest.fixture
def with_passkey(app, make_member):
    """Park Soon-ja, logged in on her phone, with a passkey "My phone" on it."""
    member = make_member("Park Soon-ja")
    client = logged_in(app, member)
    phone = Phone()
    assert add_passkey(client, phone).status_code == 200
    return member, phone


def test_member_adds_a_passkey_and_signs_in_with_it_without_typing_an_email(app, session, with_passkey):
    member, phone = with_passkey
    passkey = session.scalars(sa.select(Passkey)).one()
    assert passkey.member_id == member.id and passkey.name == "My phone" and passkey.transport_list == ["internal"]

    client = app.test_client()  # the same phone after logging out
    answer = sign_in(client, phone)
    assert answer.status_code == 200 and answer.get_json() == {"redirect": "/exchanges"}
    assert who(client) == member.id
    session.commit()
    session.refresh(passkey)
    assert passkey.last_used_at is not None and passkey.sign_count == 1


def test_a_passkey_sign_in_is_a_new_login_like_a_password_one(app, session, with_passkey):
    member, phone = with_passkey
    from carebank.members.models import LoginSession
    before = session.scalar(sa.select(sa.func.count()).select_from(LoginSession))
    client = app.test_client()
    sign_in(client, phone)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == before + 1
    assert client.delete("/api/v1/session").status_code == 204 and who(client) is None


def test_a_sign_in_answer_works_once(app, with_passkey):
    _member, phone = with_passkey
    client = app.test_client()
    options = client.post("/passkeys/sign-in/options", json={}).get_json()["options"]
    answer = phone.get(options)
    assert client.post("/passkeys/sign-in", json={"credential": answer}).status_code == 200
    thief = app.test_client()
    thief.post("/passkeys/sign-in/options", json={})  # a challenge of their own, which it does not answer
    replay = thief.post("/passkeys/sign-in", json={"credential": answer})
    assert replay.status_code == 401 and who(thief) is None


def test_the_challenge_is_kept_on_the_server_and_used_up(app, session, with_passkey):
    _member, phone = with_passkey
    client = app.test_client()
    sign_in(client, phone)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(PasskeyChallenge)
                          .where(PasskeyChallenge.purpose == "login")) == 0


def test_an_answer_made_for_another_site_is_refused(app, with_passkey):
    _member, phone = with_passkey
    client = app.test_client()
    refused = sign_in(client, phone, origin="https://evil.example")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "passkey_sign_in_failed" and who(client) is None


def test_a_passkey_of_no_member_of_this_bank_signs_no_one_in(app, with_passkey):
    stranger = Phone()
    client = app.test_client()
    options = client.post("/passkeys/sign-in/options", json={}).get_json()["options"]
    stranger.create(json.dumps({"rp": {"id": "localhost"}, "user": {"id": b64(b"x")}, "challenge": b64(b"c")}))
    assert client.post("/passkeys/sign-in", json={"credential": stranger.get(options)}).status_code == 401


@pytest.mark.parametrize("credential", [None, "nonsense", {"id": "x"}, {"id": "x", "rawId": "!!!", "type": "public-key",
                                                                        "response": {}}])
def test_a_broken_answer_is_a_clear_refusal_never_a_500(app, with_passkey, credential):
    client = app.test_client()
    client.post("/passkeys/sign-in/options", json={})
    answer = client.post("/passkeys/sign-in", json={"credential": credential})
    assert answer.status_code == 401 and answer.get_json()["error"]["message"]


def test_sign_in_without_asking_for_options_first_is_refused(app, with_passkey):
    _member, phone = with_passkey
    client = app.test_client()
    options = json.dumps({"challenge": b64(os.urandom(32))})  # a challenge the server never gave
    answer = client.post("/passkeys/sign-in", json={"credential": phone.get(options)})
    assert answer.status_code == 401 and who(client) is None


def test_removed_passkey_no_longer_signs_in(app, session, with_passkey):
    member, phone = with_passkey
    client = logged_in(app, member)
    passkey = session.scalars(sa.select(Passkey)).one()
    asked = client.get(f"/passkeys/{passkey.id}/remove")
    assert asked.status_code == 200 and "Remove “My phone”?" in asked.get_data(as_text=True)
    removed = client.post(f"/passkeys/{passkey.id}/remove", data={"csrf_token": csrf_from(asked.get_data(as_text=True))})
    assert removed.status_code == 302
    assert sign_in(app.test_client(), phone).status_code == 401


def test_removing_needs_the_form_token(app, session, with_passkey):
    member, _phone = with_passkey
    client = logged_in(app, member)
    passkey = session.scalars(sa.select(Passkey)).one()
    client.post(f"/passkeys/{passkey.id}/remove", data={}, with_csrf=False)
    session.commit()
    assert session.get(Passkey, passkey.id) is not None


def test_a_member_cannot_rename_or_remove_anothers_passkey(app, session, make_member, with_passkey):
    passkey = session.scalars(sa.select(Passkey)).one()
    other = logged_in(app, make_member("Someone else"))
    assert other.get(f"/passkeys/{passkey.id}/remove").status_code == 404
    assert other.post(f"/passkeys/{passkey.id}/remove").status_code == 404
    other.post(f"/passkeys/{passkey.id}/name", data={"name": "Mine now"})
    session.commit()
    session.refresh(passkey)
    assert passkey.name == "My phone"


def test_several_passkeys_each_named_are_listed_on_the_profile(app, session, with_passkey):
    member, _phone = with_passkey
    client = logged_in(app, member)
    assert add_passkey(client, Phone(), name="My tablet").status_code == 200
    page = client.get("/profile").get_data(as_text=True)
    assert 'value="My phone"' in page and 'value="My tablet"' in page
    assert page.count("not used yet") == 2 and "Added " in page
    tablet = session.scalars(sa.select(Passkey).where(Passkey.name == "My tablet")).one()
    client.post(f"/passkeys/{tablet.id}/name", data={"name": "  Grandson's  tablet "})
    session.commit()
    session.refresh(tablet)
    assert tablet.name == "Grandson's tablet"


def test_a_passkey_needs_a_name(app, session, make_member):
    client = logged_in(app, make_member())
    answer = add_passkey(client, Phone(), name="   ")
    assert answer.status_code == 400 and "Give this passkey a name" in answer.get_json()["error"]["message"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Passkey)) == 0


def test_the_same_passkey_cannot_be_added_twice(app, session, with_passkey):
    member, phone = with_passkey
    client = logged_in(app, member)
    options = json.loads(client.post("/passkeys/options", json={}).get_json()["options"])
    assert len(options["excludeCredentials"]) == 1  # the phone is told it already has one


def test_passkeys_of_one_member_share_one_user_handle(app, session, with_passkey):
    member, _phone = with_passkey
    add_passkey(logged_in(app, member), Phone(), name="Tablet")
    session.commit()
    assert len(set(session.scalars(sa.select(Passkey.user_handle)))) == 1


def test_deactivated_member_cannot_sign_in_with_a_passkey(app, session, with_passkey, coordinator):
    member, phone = with_passkey
    on_behalf.deactivate(session, session.get(Member, coordinator.id), session.get(Member, member.id))
    session.commit()
    client = app.test_client()
    answer = sign_in(client, phone)
    assert answer.status_code == 401 and "closed" in answer.get_json()["error"]["message"]
    assert who(client) is None


def test_failed_passkey_sign_ins_are_throttled_like_logins(app, with_passkey):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "3 per minute"
    _member, phone = with_passkey
    client = app.test_client()
    for _ in range(3):
        client.post("/passkeys/sign-in/options", json={})
        assert client.post("/passkeys/sign-in", json={"credential": "wrong"}).status_code == 401
    client.post("/passkeys/sign-in/options", json={})
    paused = client.post("/passkeys/sign-in", json={"credential": "wrong"})
    assert paused.status_code == 429 and "Too many tries" in paused.get_json()["error"]["message"]
    # The same count as the password form: it is paused too.
    assert client.post("/login", data={"email": "x@example.org", "password": "wrong-one"}).status_code == 429


def test_the_last_way_in_of_a_member_without_password_is_kept(app, session, make_member):
    from tests.test_signup_without_email import sign_up_without_email
    client, phone = sign_up_without_email(app)
    passkey = session.scalars(sa.select(Passkey)).one()
    answer = client.post(f"/passkeys/{passkey.id}/remove")
    assert answer.status_code == 302
    session.commit()
    assert session.get(Passkey, passkey.id) is not None
    assert "only way to sign in" in client.get("/profile").get_data(as_text=True)


def test_login_page_offers_the_passkey_first_then_email_and_the_card(client):
    page = client.get("/login").get_data(as_text=True)
    passkey = page.index("fingerprint or screen lock")
    assert passkey < page.index('id="email"')
    assert 'data-passkey="get"' in page and "/login/card" in page
    assert "js/passkeys.js" in page
    # Hidden until the script finds WebAuthn in the browser: without it the page is as before.
    assert 'data-passkey="get" hidden' in page


def test_profile_offers_to_add_a_passkey(app, make_member):
    page = logged_in(app, make_member()).get("/profile").get_data(as_text=True)
    assert "You have no passkey yet." in page and 'data-passkey="create"' in page
    assert 'data-name-input="#passkey-name"' in page and 'id="passkey-name"' in page


def test_adding_a_passkey_needs_a_login(client):
    assert client.post("/passkeys/options", json={}).status_code in (302, 401)
    assert client.post("/passkeys", json={}).status_code in (302, 401)


def test_an_email_signup_is_offered_a_passkey_next(client):
    answer = client.post("/signup", data={"name": "Choi Young", "email": "young@example.org",
                                          "password": "long enough pw", "neighbourhood": "Hyoja-dong"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/welcome/passkey")
    page = client.get("/welcome/passkey").get_data(as_text=True)
    assert "Sign in next time without a password" in page and "/posts/new" in page


def test_a_member_with_a_passkey_has_a_login(app, session, with_passkey):
    member, _phone = with_passkey
    session.commit()
    reloaded = session.get(Member, member.id)
    session.refresh(reloaded)
    assert reloaded.has_passkey and reloaded.has_login
    assert members.authenticate(session, member.email, "correct horse battery") is not None
