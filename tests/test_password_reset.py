"""Password resets: a member who forgot their password gets a single-use link by mail, in their
language, valid for one hour; using it sets the new password and logs them out everywhere.
Nobody learns from the answer whether an address belongs to a member. A real SMTP server on
loopback (aiosmtpd) receives the mail."""
from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from conftest import PASSWORD, logged_in, race

from carebank.audit.models import AuditEntry
from carebank.core.database import utcnow
from carebank.core.errors import Expired, ValidationFailed
from carebank.members import resets
from carebank.members.models import PasswordReset
from carebank.members.services import authenticate, register_resident

NEW_PASSWORD = "a brand new password"
SENT = "If that address belongs to a member, we have sent a link. It works for one hour."
LINK = re.compile(r"http://localhost/reset/[A-Za-z0-9_\-]+")


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message) -> str:
    links = set(LINK.findall(text_of(message)))
    assert links == set(LINK.findall(html_of(message))) and len(links) == 1, text_of(message)
    return links.pop().removeprefix("http://localhost")


def ask_on_the_page(client, address: str):
    return client.post("/reset", data={"email": address}, follow_redirects=True)


def set_on_the_page(client, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"password": password, "confirm": password})


def api_token(path: str) -> str:
    return path.rsplit("/", 1)[1]


def can_log_in(session, member, password: str) -> bool:
    session.commit()
    return authenticate(session, member.email, password) is not None


# ---- the mail and the link ------------------------------------------------------------------


def test_a_member_gets_a_link_in_english_that_sets_the_password_once(client, session, make_member, inbox):
    member = make_member("Sarah Kim", locale="en")

    answer = ask_on_the_page(client, member.email.upper())

    assert answer.status_code == 200 and SENT in answer.get_data(as_text=True)
    [message] = inbox
    assert message["To"] == member.email and message["From"] == "carebank@localhost"
    assert message["Content-Language"] == "en" and "Sarah Kim" in text_of(message)
    assert "Care time bank for our neighbourhood" in text_of(message)
    link = link_in(message)
    opened = client.get(link)
    assert opened.status_code == 200 and opened.headers["Cache-Control"] == "no-store"  # not kept offline

    done = set_on_the_page(client, link)

    assert done.status_code == 302 and done.location.endswith("/login")
    assert can_log_in(session, member, NEW_PASSWORD) and not can_log_in(session, member, PASSWORD)
    again = client.get(link)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    assert set_on_the_page(client, link, "yet another password").status_code == 410
    assert can_log_in(session, member, NEW_PASSWORD)


def test_a_korean_member_gets_the_mail_in_korean_and_the_api_link_works_once(client, session, make_member, inbox):
    member = make_member("김영자", locale="ko")

    assert client.post("/api/v1/password-resets", json={"email": member.email}).status_code == 202

    [message] = inbox
    assert message["Content-Language"] == "ko"
    body = text_of(message)
    assert "우리 동네 돌봄 시간 은행" in body and "우리 동네 돌봄 시간 은행" in html_of(message)
    assert re.search(r"\d{4}\. \d{1,2}\. \d{1,2}\. 오[전후] \d{1,2}:\d\d", body), body  # the hour, in Seoul
    assert '<html lang="ko">' in html_of(message)
    token = api_token(link_in(message))
    assert client.post(f"/api/v1/password-resets/{token}", json={"password": NEW_PASSWORD}).status_code == 204
    assert can_log_in(session, member, NEW_PASSWORD)

    again = client.post(f"/api/v1/password-resets/{token}", json={"password": "yet another password"})

    assert again.status_code == 410 and again.get_json()["error"]["code"] == "reset_used"
    assert can_log_in(session, member, NEW_PASSWORD)


def test_without_a_mail_server_the_mail_is_written_to_the_instance_folder(app, client, make_member, tmp_path):
    app.instance_path = str(tmp_path)
    member = make_member()

    assert SENT in ask_on_the_page(client, member.email).get_data(as_text=True)

    [written] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["To"] == member.email
    assert client.get(link_in(message)).status_code == 200


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, make_member, inbox):
    member = make_member()

    known, unknown = ask_on_the_page(client, member.email), ask_on_the_page(client, "nobody@example.org")
    api_known = client.post("/api/v1/password-resets", json={"email": member.email})
    api_unknown = client.post("/api/v1/password-resets", json={"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 200
    assert SENT in known.get_data(as_text=True) and SENT in unknown.get_data(as_text=True)
    assert (api_known.status_code, api_known.data) == (api_unknown.status_code, api_unknown.data) == (202, b"")
    assert [message["To"] for message in inbox] == [member.email, member.email]


def test_a_deactivated_member_gets_no_link(client, session, console, make_member, inbox):
    member = make_member()
    console.post(f"/console/members/{member.id}/deactivate", data={"reason": "moved away"})

    assert SENT in ask_on_the_page(client, member.email).get_data(as_text=True)

    assert inbox == []


def test_a_link_that_never_was_is_not_found(client):
    assert client.get("/reset/not-a-real-token").status_code == 404
    refused = client.post("/api/v1/password-resets/not-a-real-token", json={"password": NEW_PASSWORD})
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "reset_not_found"


# ---- one hour, once -------------------------------------------------------------------------


def test_the_link_expires_after_an_hour(client, session, make_member, inbox):
    member = make_member()
    asked_at = utcnow()
    with time_machine.travel(asked_at, tick=False):
        ask_on_the_page(client, member.email)
    link = link_in(inbox[0])

    with time_machine.travel(asked_at + timedelta(minutes=59), tick=False):
        assert client.get(link).status_code == 200
    with time_machine.travel(asked_at + timedelta(minutes=60, seconds=1), tick=False):
        page = client.get(link)
        answer = client.post(f"/api/v1/password-resets/{api_token(link)}", json={"password": NEW_PASSWORD})

    assert page.status_code == 410 and "it works for one hour" in page.get_data(as_text=True)
    assert answer.status_code == 410 and answer.get_json()["error"]["code"] == "reset_expired"
    assert can_log_in(session, member, PASSWORD) and not can_log_in(session, member, NEW_PASSWORD)


def test_a_refused_new_password_leaves_the_link_usable(client, session, make_member, inbox):
    member = make_member()
    ask_on_the_page(client, member.email)
    link = link_in(inbox[0])

    short = set_on_the_page(client, link, "short")
    mismatched = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})

    assert short.status_code == 400 and "at least 8" in short.get_data(as_text=True)
    assert mismatched.status_code == 400 and "not the same" in mismatched.get_data(as_text=True)
    assert set_on_the_page(client, link).status_code == 302
    assert can_log_in(session, member, NEW_PASSWORD)


def test_two_uses_at_once_only_one_wins(app, session, make_member, inbox, client):
    member = make_member()
    ask_on_the_page(client, member.email)
    token = api_token(link_in(inbox[0]))
    phones = [app.test_client() for _ in range(2)]
    clients = [(phone, phone.fetch_csrf_token()) for phone in phones]

    answers = race(app, session, clients, f"/api/v1/password-resets/{token}",
                   [{"password": "first new password"}, {"password": "second new password"}])

    assert sorted(status for status, _ in answers) == [204, 410], answers
    winner = "first new password" if answers[0][0] == 204 else "second new password"
    loser = "second new password" if winner == "first new password" else "first new password"
    assert can_log_in(session, member, winner) and not can_log_in(session, member, loser)


def test_a_new_password_closes_every_other_link_of_the_member(session, make_member):
    member = make_member()
    _, first = resets.request_reset(session, member.email)
    _, second = resets.request_reset(session, member.email)
    session.commit()

    resets.complete_reset(session, second, NEW_PASSWORD)
    session.commit()

    with pytest.raises(Expired):
        resets.complete_reset(session, first, "an older link's password")
    assert authenticate(session, member.email, NEW_PASSWORD)


def test_a_too_short_password_is_refused_before_the_link_is_used(session, make_member):
    member = make_member()
    reset, token = resets.request_reset(session, member.email)

    with pytest.raises(ValidationFailed):
        resets.complete_reset(session, token, "short")

    assert reset.used_at is None and authenticate(session, member.email, PASSWORD)


# ---- logged out everywhere ------------------------------------------------------------------


def test_after_a_reset_every_login_of_the_member_has_ended(app, client, session, make_member, inbox):
    member = make_member()
    phone = logged_in(app, member)
    remembered = app.test_client()
    remembered.post("/login", data={"email": member.email, "password": PASSWORD, "remember": "y"})
    assert phone.get("/api/v1/me").status_code == remembered.get("/api/v1/me").status_code == 200

    ask_on_the_page(client, member.email)
    assert set_on_the_page(client, link_in(inbox[0])).status_code == 302

    assert phone.get("/api/v1/me").status_code == 401
    remembered.delete_cookie("session")  # only the remember-me cookie is left
    assert remembered.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/session", json={"email": member.email, "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/session", json={"email": member.email, "password": NEW_PASSWORD}).status_code == 200


# ---- the centre sends a link ----------------------------------------------------------------


def test_a_coordinator_sends_a_link_to_a_member_of_their_centre(console, coordinator, session, make_member, inbox):
    member = make_member("Park Soon-ja", locale="ko")
    page = console.get(f"/console/members/{member.id}").get_data(as_text=True)
    assert "Send a password reset link" in page

    sent = console.post(f"/console/members/{member.id}/password-reset", follow_redirects=True)

    assert sent.status_code == 200 and f"on its way to {member.email}" in sent.get_data(as_text=True)
    assert "sent a password reset link to Park Soon-ja" in sent.get_data(as_text=True)  # the audit log
    [message] = inbox
    assert message["To"] == member.email and message["Content-Language"] == "ko"
    session.commit()
    reset = session.scalar(sa.select(PasswordReset).where(PasswordReset.member_id == member.id))
    assert reset.requested_by_id == coordinator.id
    assert session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "member.reset")).member_id == member.id


def test_a_coordinator_cannot_send_a_link_to_another_centres_member(console, session, make_member, make_centre, inbox):
    elsewhere = make_member("Far Away", centre_id=make_centre("Distant Centre").id)

    refused = console.post(f"/console/members/{elsewhere.id}/password-reset")

    assert refused.status_code == 404 and inbox == []
    assert session.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 0


def test_a_resident_without_a_login_has_no_reset_button(console, session, coordinator):
    rita = register_resident(session, coordinator, name="Rita Resident", consent_note="Signed form")
    session.commit()
    assert "Send a password reset link" not in console.get(f"/console/members/{rita.id}").get_data(as_text=True)
    assert console.post(f"/console/members/{rita.id}/password-reset").status_code == 302
    assert session.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 0


# ---- asking too often -----------------------------------------------------------------------


def test_asking_too_often_is_refused_with_429(app, client, make_member, inbox):
    app.config["RESET_RATE_LIMIT"] = "2 per hour"
    member = make_member()

    assert SENT in ask_on_the_page(client, member.email).get_data(as_text=True)
    assert client.post("/api/v1/password-resets", json={"email": member.email}).status_code == 202
    page, api = ask_on_the_page(client, member.email), client.post("/api/v1/password-resets", json={"email": "x@example.org"})

    assert page.status_code == 429 and api.status_code == 429 and "Retry-After" in api.headers
    assert len(inbox) == 2
