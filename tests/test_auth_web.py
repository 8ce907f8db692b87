"""Signing up, logging in and out, profiles and language, through the web pages."""
import pytest
import sqlalchemy as sa
from conftest import PASSWORD

from carebank.members.models import Member


def form_post(client, url, data, **kwargs):
    return client.post(url, data=data, **kwargs)


def count_members(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Member))


@pytest.mark.real_password_hashing
def test_signup_logs_in_and_starts_at_zero(client, session):
    response = form_post(client, "/signup", {
        "name": "김영자", "email": "Youngja@Example.org", "password": "long enough", "neighbourhood": "효자동",
    })
    assert response.status_code == 302
    me = client.get("/api/v1/me").get_json()["member"]
    assert me["name"] == "김영자" and me["balance_minutes"] == 0 and me["neighbourhood"] == "효자동"
    stored = session.scalar(sa.select(Member).where(Member.email == "youngja@example.org"))
    assert stored.password_hash != "long enough" and stored.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize("data, message", [
    ({"name": "", "email": "a@example.org", "password": "long enough"}, "This field is required."),
    ({"name": "A", "email": "not-an-email", "password": "long enough"}, "Invalid email address."),
    ({"name": "A", "email": "a@example.org", "password": "short"}, "at least 8"),
])
def test_invalid_signup_rerenders_with_message_and_saves_nothing(client, session, data, message):
    response = form_post(client, "/signup", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_members(session) == 0


def test_signup_with_taken_email_says_so(client, session, make_member):
    member = make_member(email="taken@example.org")
    response = form_post(client, "/signup", {"name": "B", "email": "TAKEN@example.org", "password": "long enough"})
    assert response.status_code == 400
    assert "already an account" in response.get_data(as_text=True)
    assert count_members(session) == 1 and member.name != "B"


def test_login_with_wrong_password_is_refused(client, make_member):
    member = make_member()
    response = form_post(client, "/login", {"email": member.email, "password": "wrong password"})
    assert response.status_code == 400
    assert "not right" in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_login_then_logout(client, make_member):
    member = make_member()
    response = form_post(client, "/login", {"email": member.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/me").get_json()["member"]["id"] == member.id
    form_post(client, "/logout", {})
    assert client.get("/api/v1/me").status_code == 401


def test_login_returns_to_a_local_next_page(client, make_member):
    member = make_member()
    response = form_post(client, "/login?next=/ledger/", {"email": member.email, "password": PASSWORD})
    assert response.headers["Location"] == "/ledger/"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "http:/evil",
])
def test_login_never_redirects_off_site(client, make_member, target):
    member = make_member()
    response = form_post(client, f"/login?next={target}", {"email": member.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_httponly_and_samesite(client, make_member):
    member = make_member()
    response = form_post(client, "/login", {"email": member.email, "password": PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_form_post_without_csrf_token_is_refused(client, session):
    response = client.post("/signup", data={"name": "A", "email": "a@example.org", "password": "long enough"},
                           with_csrf=False)
    assert response.status_code == 400
    assert count_members(session) == 0


def test_profile_saves_fields_and_language(client, session, make_member):
    member = make_member()
    client.login(member)
    response = form_post(client, "/profile", {
        "name": "Sarah Kim", "neighbourhood": "Samcheong-dong", "languages": "English, Korean",
        "offers_text": "Help with phones", "phone": "010-1234-5678", "locale": "ko", "timezone": "Asia/Seoul",
    })
    assert response.status_code == 302
    session.refresh(member)
    assert (member.name, member.phone, member.locale) == ("Sarah Kim", "010-1234-5678", "ko")
    page = client.get("/profile").get_data(as_text=True)
    assert '<html lang="ko">' in page  # the profile language wins over Accept-Language: en


def test_profile_rejects_a_bad_phone_and_keeps_the_old_one(client, session, make_member):
    member = make_member(phone="010-0000-0000")
    client.login(member)
    response = form_post(client, "/profile", {"name": member.name, "phone": "call me maybe", "locale": "",
                                              "timezone": "Asia/Seoul"})
    assert response.status_code == 400
    assert "digits" in response.get_data(as_text=True)
    session.refresh(member)
    assert member.phone == "010-0000-0000"


def test_password_change_needs_the_current_password(client, session, make_member):
    member = make_member()
    client.login(member)
    refused = form_post(client, "/profile/password", {"current_password": "wrong one!", "new_password": "new password"})
    assert refused.status_code == 400
    form_post(client, "/profile/password", {"current_password": PASSWORD, "new_password": "new password"})
    client.delete("/api/v1/session")
    assert client.post("/api/v1/session", json={"email": member.email, "password": "new password"}).status_code == 200


@pytest.mark.parametrize("accept, lang", [("ko-KR,ko;q=0.9", "ko"), ("en-GB,en;q=0.8", "en"), ("fr-FR", "ko")])
def test_language_follows_accept_language_for_visitors(client, accept, lang):
    page = client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page


def test_language_switch_is_remembered(client):
    response = form_post(client, "/language", {"lang": "ko", "next": "/login"})
    assert response.headers["Location"] == "/login"
    assert '<html lang="ko">' in client.get("/login").get_data(as_text=True)


def test_member_page_shows_profile_to_members_only(client, make_member):
    person = make_member("이순자", offers_text="김치 담그기")
    assert client.get(f"/members/{person.id}").status_code == 302
    client.login(make_member())
    page = client.get(f"/members/{person.id}").get_data(as_text=True)
    assert "이순자" in page and "김치 담그기" in page
    assert client.get("/members/99999").status_code == 404


def test_member_pages_are_never_cached(client, make_member):
    client.login(make_member())
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_a_race_caught_by_a_database_constraint_is_a_409_not_a_500(client, session, monkeypatch, make_member):
    """Two sign-ups with one email at the same instant both pass the service's check; the
    unique constraint refuses the second, and the person sees a conflict, not a crash."""
    make_member(email="twice@example.org")
    monkeypatch.setattr("carebank.members.services.email_taken", lambda session, email: False)
    response = client.post("/api/v1/members", json={"name": "B", "email": "twice@example.org",
                                                    "password": "long enough"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert count_members(session) == 1


@pytest.mark.parametrize("method, url, data", [
    ("GET", "/posts/?q=a%00b", None),
    ("POST", "/login", {"email": "a\x00@example.org", "password": "whatever1"}),
    ("POST", "/signup", {"name": "A\x00", "email": "a@example.org", "password": "long enough"}),
])
def test_nul_characters_are_refused_with_400_and_nothing_saved(client, session, method, url, data):
    response = client.open(url, method=method, data=data)
    assert response.status_code == 400
    assert count_members(session) == 0
