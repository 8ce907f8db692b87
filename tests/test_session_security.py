"""The session and its cookies: a new session at every login, nothing left at logout, no
redirect off the site, no unsafe request without its CSRF token, HSTS and Secure cookies
over HTTPS (and only plain HTTP to this machine without them), and the proxy's word taken
only when we say so."""
import re
from datetime import timedelta
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import sqlalchemy as sa
import time_machine
from conftest import PASSWORD, CsrfClient, logged_in
from flask import url_for
from test_route_authorisation import database_state, world  # noqa: F401 (a fixture)

from carebank import create_app
from carebank.centres import services as centre_rules
from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.core.security import STRICT_TRANSPORT_SECURITY
from carebank.ledger.models import Transaction
from carebank.members.models import LoginSession, Role
from config import TestConfig

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def cookie_value(client, name: str = "session") -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def web_login(client, make_member):
    member = make_member()
    return client.post("/login", data={"email": member.email, "password": PASSWORD})


def api_login(client, make_member):
    member = make_member()
    return client.post("/api/v1/session", json={"email": member.email, "password": PASSWORD})


def web_signup(client, make_member):
    return client.post("/signup", data={"name": "New", "email": "new@example.org", "password": "long enough"})


def api_signup(client, make_member):
    return client.post("/api/v1/members", json={"name": "New", "email": "new@example.org",
                                                "password": "long enough"})


WAYS_IN = [web_login, api_login, web_signup, api_signup]


# ---- a new session at every login -----------------------------------------------------------


@pytest.mark.parametrize("way_in", WAYS_IN)
def test_logging_in_starts_a_new_session(client, make_member, way_in):
    """A session planted before the login (say, on a shared phone) carries nothing into it:
    not its keys, and not its CSRF secret, which whoever planted it would know."""
    client.get("/login")
    with client.session_transaction() as planted:
        planted["planted_by"] = "someone else"
        planted_secret = planted["csrf_token"]
    planted_cookie = cookie_value(client)
    planted_token = client.fetch_csrf_token()

    assert way_in(client, make_member).status_code in (200, 201, 302)

    assert cookie_value(client) != planted_cookie
    with client.session_transaction() as now:
        assert "planted_by" not in now and now.get("csrf_token") != planted_secret
        assert now["_user_id"]
    stale = client.patch("/api/v1/me", json={"name": "Changed"}, headers={"X-CSRFToken": planted_token})
    assert stale.status_code == 400 and stale.get_json()["error"]["code"] == "csrf_failed"
    assert client.patch("/api/v1/me", json={"name": "Changed"}).status_code == 200  # a fresh token works


def test_a_cookie_from_before_the_login_is_not_logged_in_after_logout(client, make_member):
    client.get("/login")
    before_login = cookie_value(client)
    client.login(make_member())
    client.delete("/api/v1/session")

    client.set_cookie("session", before_login)

    assert client.get("/api/v1/me").status_code == 401


def web_logout(client):
    return client.post("/logout")


def api_logout(client):
    return client.delete("/api/v1/session")


@pytest.mark.parametrize("log_out", [web_logout, api_logout])
def test_logging_out_forgets_everything_the_session_held(client, make_member, make_exchange, log_out):
    exchange = make_exchange()
    client.login(exchange.provider)
    client.post(f"/exchanges/{exchange.id}/codes", data={"hours": 1, "extra_minutes": 0})
    with client.session_transaction() as held:
        assert held["codes"]  # the raw code shown as a QR lives in the session

    log_out(client)

    with client.session_transaction() as left:
        assert set(left) <= {"_flashes"}  # only "You have logged out."
    assert client.get("/api/v1/me").status_code == 401


def test_logging_out_removes_the_remember_me_cookie(client, make_member):
    member = make_member()
    client.post("/login", data={"email": member.email, "password": PASSWORD, "remember": "y"})
    assert cookie_value(client, "remember_token")

    client.post("/logout")

    assert cookie_value(client, "remember_token") is None
    assert client.get("/api/v1/me").status_code == 401


# ---- never a redirect off the site ----------------------------------------------------------

HOSTILE_TARGETS = [
    "//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
    "/%2F%2Fevil.example", "%2F%2Fevil.example", "/\t/evil.example", " //evil.example", "http:evil.example",
    "https:/evil.example", "/\\/evil.example", "//evil.example@localhost", "data:text/html,hello",
]


def lands_on_this_site(location: str) -> bool:
    """Where a browser goes with this Location: it drops tabs and newlines, reads \\ as /, and
    resolves it against the page's address."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()
    resolved = urlsplit(urljoin("https://carebank.example/login", cleaned))
    return (resolved.scheme, resolved.netloc) == ("https", "carebank.example")


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_login_redirects_only_within_the_site(client, make_member, target):
    member = make_member()
    response = client.post("/login?" + urlencode({"next": target}), data={"email": member.email, "password": PASSWORD})
    assert response.status_code == 302
    assert lands_on_this_site(response.location), response.location


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_a_logged_in_member_sent_to_login_stays_on_the_site(client, make_member, target):
    client.login(make_member())
    response = client.get("/login?" + urlencode({"next": target}))
    assert response.status_code == 302 and lands_on_this_site(response.location), response.location


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_the_language_switch_stays_on_the_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.status_code == 302 and lands_on_this_site(response.location), response.location


def test_the_check_knows_an_open_redirect_when_it_sees_one():
    assert not lands_on_this_site("//evil.example")
    assert not lands_on_this_site("/\t/evil.example")
    assert not lands_on_this_site("/\\evil.example")
    assert lands_on_this_site("/ledger/") and lands_on_this_site("/%2F%2Fevil.example")


# ---- no unsafe request without its CSRF token -----------------------------------------------


# Unsafe routes that take no CSRF token, and why.
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: the mail client posts it with no page open; the signed
    # link itself is the credential, and it can only turn e-mail off.
    "notifications.unsubscribe",
}


def _unsafe_routes() -> list[tuple[str, str]]:
    app = create_app(TestConfig, DATABASE_URL="sqlite://")
    return sorted((rule.endpoint, method) for rule in app.url_map.iter_rules()
                  for method in rule.methods & UNSAFE
                  if rule.rule != "/api/openapi.json" and rule.endpoint not in CSRF_EXEMPT)


UNSAFE_ROUTES = _unsafe_routes()


def unsafe_url(app, session, world, endpoint: str) -> str:  # noqa: F811 (world is the fixture's value)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    first_transaction = session.scalar(sa.select(sa.func.min(Transaction.id)))
    known = {"exchange_id": world.accepted.id, "post_id": world.accepted.post_id, "code_id": world.code.id,
             "checkin_id": world.checkin.id, "member_id": world.alice.id, "text": world.token,
             "token": world.card_token, "transaction_id": first_transaction,
             "centre_id": world.alice.centre_id, "dispute_id": 1, "table": "members",
             "message_id": world.message.id, "notification_id": world.notification_id,
             "subscription_id": world.push_subscription.id, "plan_id": world.plan.id,
             "visit_id": world.visit.id, "passkey_id": world.passkey.id,
             "neighbourhood_id": centre_rules.neighbourhood_list(session, world.alice.centre_id)[0].id,
             "proposal_id": world.proposal.id, "assembly_id": world.assembly.id, "motion_id": world.motion.id,
             "request_id": world.grant_request.id, "seat_id": 1}
    with app.test_request_context():
        return url_for(endpoint, **{name: known[name] for name in rule.arguments})


@pytest.mark.parametrize("endpoint, method", UNSAFE_ROUTES)
def test_an_unsafe_request_without_the_csrf_token_is_refused_and_changes_nothing(
        app, session, make_member, world, endpoint, method):  # noqa: F811
    """As the person who could otherwise do it (an admin in the console, Alice elsewhere)."""
    actor = make_member("Ada Admin", role=Role.ADMIN) if endpoint.startswith("console.") else world.alice
    client = logged_in(app, actor)
    url = unsafe_url(app, session, world, endpoint)
    before = database_state(session)

    if url.startswith("/api/"):
        response = client.open(url, method=method, json={"minutes": 30, "code": world.token}, with_csrf=False)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"
    else:
        response = client.open(url, method=method, data={"hours": "1", "code": world.token}, with_csrf=False)
        assert response.status_code == 400, response.status_code
        assert "The form had expired or was sent from elsewhere" in response.get_data(as_text=True)
    assert database_state(session) == before
    assert client.get("/api/v1/me").status_code == 200  # not even logged out


# ---- HSTS, and the proxy --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/v1/session", "/static/css/carebank.css", "/no-such-page"])
def test_hsts_is_sent_over_https(client, path):
    response = client.get(path, base_url="https://carebank.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert STRICT_TRANSPORT_SECURITY == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("headers", [{}, {"X-Forwarded-Proto": "https"}])
def test_no_hsts_over_plain_http_whatever_the_client_claims(client, headers):
    response = client.get("/", base_url="http://carebank.example", headers=headers)
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def behind_a_proxy(database_url):
    """The app as deployed behind one reverse proxy (CAREBANK_TRUST_PROXY=1)."""
    app = create_app(TestConfig, DATABASE_URL=database_url, TRUST_PROXY=1, LOGIN_RATE_LIMIT="1 per minute",
                     LOGIN_ADDRESS_RATE_LIMIT="1 per minute")
    app.test_client_class = CsrfClient
    yield app
    with app.app_context():
        db.engine.dispose()


def test_behind_a_trusted_proxy_its_forwarded_https_counts(behind_a_proxy):
    response = behind_a_proxy.test_client().get("/", base_url="http://carebank.example",
                                                headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == STRICT_TRANSPORT_SECURITY


def failed_login_from(client, forwarded_for: str, email: str):
    return client.post("/api/v1/session", json={"email": email, "password": "wrong password"},
                       headers={"X-Forwarded-For": forwarded_for})


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(behind_a_proxy):
    client = behind_a_proxy.test_client()
    assert failed_login_from(client, "192.0.2.1", "a@example.org").status_code == 401
    assert failed_login_from(client, "192.0.2.2", "b@example.org").status_code == 401
    assert failed_login_from(client, "192.0.2.1", "c@example.org").status_code == 429


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(app, client):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "1 per minute"
    assert failed_login_from(client, "192.0.2.1", "a@example.org").status_code == 401
    assert failed_login_from(client, "192.0.2.2", "b@example.org").status_code == 429


# ---- Secure cookies -------------------------------------------------------------------------


def set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def csrf_header(client, base_url: str) -> dict:
    """The CSRF token for this host (the client's own fetch asks localhost), and the Referer
    a browser sends, which Flask-WTF wants to see on HTTPS."""
    token = client.get("/api/v1/session", base_url=base_url).get_json()["csrf_token"]
    return {"X-CSRFToken": token, "Referer": f"{base_url}/login"}


def log_in_remembered(app, member, base_url: str):
    client = app.test_client()
    response = client.post("/login", base_url=base_url, headers=csrf_header(client, base_url),
                           data={"email": member.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    return client, response


@pytest.mark.parametrize("base_url, secure", [
    ("http://carebank.example", True),  # plain HTTP elsewhere: Secure, the browser drops the cookie
    ("https://carebank.example", True),
    ("https://localhost", True),
    ("http://localhost", False),  # the quick start, `flask --app app run`
    ("http://127.0.0.1:5000", False),
    ("http://[::1]:5000", False),
    ("http://192.168.0.20:5000", True),  # another device on the LAN: see CAREBANK_SESSION_COOKIE_SECURE
])
def test_cookies_are_secure_except_over_plain_http_to_this_machine(app, make_member, base_url, secure):
    client, response = log_in_remembered(app, make_member(), base_url)
    cookies = set_cookies(response)
    assert ("; Secure" in cookies["session"]) == secure, cookies["session"]
    assert ("; Secure" in cookies["remember_token"]) == secure, cookies["remember_token"]
    language = client.post("/language", base_url=base_url, data={"lang": "ko", "next": "/"},
                           headers=csrf_header(client, base_url))
    assert ("; Secure" in set_cookies(language)["lang"]) == secure


def test_the_quick_start_over_http_on_localhost_logs_in(app, make_member):
    client, _ = log_in_remembered(app, make_member(), "http://localhost:5000")
    assert client.get("/api/v1/me", base_url="http://localhost:5000").status_code == 200


def test_secure_cookies_can_be_turned_off_for_plain_http_on_a_lan(app, make_member):
    app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    _, response = log_in_remembered(app, make_member(), "http://192.168.0.20:5000")
    assert not [header for header in set_cookies(response).values() if "; Secure" in header]


def test_the_tests_run_with_the_production_cookie_policy(app):
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True


# ---- a login ends on the server: copies of its cookies stop working -------------------------


def copy_of(app, client, *names: str) -> CsrfClient:
    """Another browser holding copies of these cookies of `client` (say, taken off a shared phone)."""
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, cookie_value(client, name))
    return thief


def remembered_login(app, member) -> CsrfClient:
    client = app.test_client()
    client.post("/login", data={"email": member.email, "password": PASSWORD, "remember": "y"})
    assert cookie_value(client, "remember_token")
    return client


@pytest.mark.parametrize("log_out", [web_logout, api_logout])
def test_a_copied_session_cookie_stops_working_after_logout(app, client, make_member, log_out):
    client.login(make_member())
    copy = copy_of(app, client, "session")
    assert copy.get("/api/v1/me").status_code == 200

    log_out(client)

    assert copy.get("/api/v1/me").status_code == 401


def test_a_copied_remember_cookie_stops_working_after_logout(app, make_member):
    phone = remembered_login(app, make_member())
    copy = copy_of(app, phone, "remember_token")  # no session cookie: the remember-me cookie logs in
    assert copy.get("/api/v1/me").status_code == 200
    copy.delete_cookie("session")

    phone.post("/logout")

    assert copy.get("/api/v1/me").status_code == 401


def test_logging_out_on_one_phone_leaves_the_other_logged_in(app, make_member):
    member = make_member()
    phone, tablet = logged_in(app, member), remembered_login(app, member)

    phone.delete("/api/v1/session")

    assert phone.get("/api/v1/me").status_code == 401
    assert tablet.get("/api/v1/me").status_code == 200


def test_a_password_change_ends_every_other_login_and_copied_cookies(app, make_member):
    member = make_member()
    phone, other_phone = logged_in(app, member), remembered_login(app, member)
    copied_session = copy_of(app, other_phone, "session")
    copied_remember = copy_of(app, other_phone, "remember_token")

    changed = phone.post("/profile/password", data={"current_password": PASSWORD, "new_password": "a new password"})

    assert changed.status_code == 302
    assert phone.get("/api/v1/me").status_code == 200  # the phone that changed it stays logged in
    for ended in (other_phone, copied_session, copied_remember):
        assert ended.get("/api/v1/me").status_code == 401


def test_a_cookie_naming_a_bare_member_id_no_longer_logs_in(client, make_member):
    """Cookies from before logins were kept on the server carried the member number."""
    member = make_member()
    with client.session_transaction() as forged:
        forged["_user_id"], forged["_fresh"] = str(member.id), True

    assert client.get("/api/v1/me").status_code == 401


def test_a_deactivated_member_stays_logged_out_after_being_reactivated(app, console, make_member):
    member = make_member()
    phone = remembered_login(app, member)

    console.post(f"/console/members/{member.id}/deactivate", data={"reason": "moved away"})
    console.post(f"/console/members/{member.id}/reactivate")

    assert phone.get("/api/v1/me").status_code == 401
    assert logged_in(app, member).get("/api/v1/me").status_code == 200  # a new login works


def test_a_login_older_than_its_cookies_can_live_is_forgotten_at_the_next_login(app, session, make_member):
    member = make_member()
    with time_machine.travel(utcnow() - timedelta(days=400), tick=False):
        logged_in(app, member)
    kept = logged_in(app, member)

    logged_in(app, member)

    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginSession)
                          .where(LoginSession.member_id == member.id)) == 2
    assert kept.get("/api/v1/me").status_code == 200
