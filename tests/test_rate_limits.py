"""Rate limits on logging in, signing up and redeeming codes: past the limit the answer is 429
with the usual error body and Retry-After, nothing is done, and everything else still works.

Each test sets low limits in its app's config (the test config's are high, so that other
tests never meet them)."""
import os
import uuid

import pytest
import redis
import sqlalchemy as sa
from conftest import PASSWORD, CsrfClient, logged_in
from test_security_headers import assert_secured

from carebank import create_app
from carebank.confirmations import services as confirmations
from carebank.core.extensions import db, limiter
from carebank.ledger.models import Transaction
from carebank.members.models import Member
from config import Config, TestConfig

KOREAN_429 = "너무 여러 번 시도했어요. 잠시 기다려 주세요."
ENGLISH_429 = "Too many tries. Please wait a moment."


def address(n: int) -> dict:
    """Request options that make a request come from another client address."""
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{n}"}}


def web_login(client, email, password="wrong password", **options):
    return client.post("/login", data={"email": email, "password": password}, **options)


def api_login(client, email, password="wrong password", **options):
    return client.post("/api/v1/session", json={"email": email, "password": password}, **options)


def assert_too_many_in_json(response):
    assert response.status_code == 429
    assert response.get_json() == {"error": {"code": "too_many_requests", "message": ENGLISH_429}}
    assert int(response.headers["Retry-After"]) > 0


def assert_too_many_in_html(response, message=ENGLISH_429):
    assert response.status_code == 429
    assert response.mimetype == "text/html" and message in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def count(session, model) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


# ---- logging in -----------------------------------------------------------------------------


def test_failed_web_logins_past_the_limit_get_the_form_saying_how_long_to_wait(app, client, make_member):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    member = make_member()
    assert [web_login(client, member.email).status_code for _ in range(3)] == [400, 400, 400]

    refused = web_login(client, member.email)

    assert_too_many_in_html(refused, "Too many tries from here. Please try again in ")
    assert 'name="password"' in refused.get_data(as_text=True)  # the form, to try again later
    assert_secured(refused)
    # Even the right password waits: the guesser must not learn when they found it.
    assert web_login(client, member.email, PASSWORD).status_code == 429
    assert client.get("/api/v1/me").status_code == 401


def test_failed_api_logins_past_the_limit_get_429_json(app, client, make_member):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    member = make_member()
    assert [api_login(client, member.email).status_code for _ in range(3)] == [401, 401, 401]

    refused = api_login(client, member.email)

    assert_too_many_in_json(refused)
    assert_secured(refused)
    in_korean = api_login(client, member.email, headers={"Accept-Language": "ko"})
    assert in_korean.get_json()["error"]["message"] == KOREAN_429


def test_the_page_and_the_api_share_one_count(app, client, make_member):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    member = make_member()
    web_login(client, member.email)
    api_login(client, member.email)
    web_login(client, member.email)
    assert api_login(client, member.email).status_code == 429


def test_one_address_cannot_try_many_accounts(app, client, make_member):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "3 per minute"
    for n in range(3):
        assert api_login(client, f"guess{n}@example.org", **address(9)).status_code == 401

    assert api_login(client, "guess3@example.org", **address(9)).status_code == 429
    assert api_login(client, "guess3@example.org", **address(10)).status_code == 401


@pytest.mark.parametrize("email", ["a\ud800@example.org", 12345, ["a@example.org"]])
def test_an_email_no_one_could_have_is_refused_and_still_counted(app, client, email):
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    assert api_login(client, email).status_code == 400
    assert api_login(client, email).status_code == 429


def test_successful_logins_do_not_count(app, make_member):
    """A member on many phones, or logging in and out all day, never meets the limit."""
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    member = make_member()
    for _ in range(5):
        assert api_login(app.test_client(), member.email, PASSWORD).status_code == 200


def test_the_default_login_limit_allows_ten_failures_a_minute(app, client, make_member):
    app.config["LOGIN_RATE_LIMIT"] = Config.LOGIN_RATE_LIMIT
    member = make_member()
    assert {api_login(client, member.email).status_code for _ in range(10)} == {401}
    assert api_login(client, member.email).status_code == 429


def test_other_pages_still_work_for_a_limited_address(app, client, make_member):
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    api_login(client, "someone@example.org")
    assert api_login(client, "someone@example.org").status_code == 429

    assert client.get("/login").status_code == 200  # showing the form is not limited
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/session").status_code == 200
    signup = client.post("/api/v1/members", json={"name": "New", "email": "new@example.org",
                                                   "password": "long enough"})
    assert signup.status_code == 201


def another_app(**settings):
    """A second app in this process, as a second worker would be."""
    app = create_app(TestConfig, **settings)
    app.test_client_class = CsrfClient
    return app


def test_a_new_app_counts_afresh_in_memory(app, client, database_url):
    """Memory counters belong to one app (one process): the next test's app starts at zero."""
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    api_login(client, "someone@example.org")
    assert api_login(client, "someone@example.org").status_code == 429

    fresh = another_app(DATABASE_URL=database_url, LOGIN_RATE_LIMIT="1 per minute")
    try:
        assert api_login(fresh.test_client(), "someone@example.org").status_code == 401
    finally:
        with fresh.app_context():
            db.engine.dispose()


# ---- signing up -----------------------------------------------------------------------------


def signup_on_web(client, n, **options):
    return client.post("/signup", data={"name": f"New {n}", "email": f"new{n}@example.org",
                                        "password": "long enough"}, **options)


def signup_by_api(client, n, **options):
    return client.post("/api/v1/members", json={"name": f"New {n}", "email": f"new{n}@example.org",
                                                "password": "long enough"}, **options)


def test_signups_past_the_limit_get_429_and_create_no_one(app, session):
    app.config["SIGNUP_RATE_LIMIT"] = "2 per hour"
    assert signup_on_web(app.test_client(), 1).status_code == 302
    assert signup_by_api(app.test_client(), 2).status_code == 201

    assert_too_many_in_html(signup_on_web(app.test_client(), 3))
    assert_too_many_in_json(signup_by_api(app.test_client(), 4))
    assert count(session, Member) == 2
    assert signup_by_api(app.test_client(), 5, **address(20)).status_code == 201  # another address


def test_failed_signups_count_too(app):
    """Trying emails one after another ("already an account") is what the limit slows."""
    app.config["SIGNUP_RATE_LIMIT"] = "2 per hour"
    client = app.test_client()
    assert client.post("/api/v1/members", json={"name": "", "email": "x@example.org"}).status_code == 400
    assert client.post("/api/v1/members", json={"name": "", "email": "y@example.org"}).status_code == 400
    assert client.post("/api/v1/members", json={"name": "", "email": "z@example.org"}).status_code == 429


# ---- redeeming codes ------------------------------------------------------------------------


@pytest.fixture
def code(session, make_exchange, policy):
    """A code the provider shows, for the receiver to redeem."""
    exchange = make_exchange()
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    session.commit()
    return exchange, token


def test_redemptions_past_the_limit_get_429_on_the_api_and_the_pages(app, session, code):
    app.config["REDEEM_RATE_LIMIT"] = "2 per minute"
    exchange, token = code
    phone = logged_in(app, exchange.receiver)
    assert phone.post("/api/v1/confirmations", json={"code": token}).status_code == 201
    assert phone.post("/api/v1/confirmations", json={"code": "not-a-code"}).status_code == 400

    assert_too_many_in_json(phone.post("/api/v1/confirmations", json={"code": token}))
    assert_too_many_in_html(phone.post(f"/c/{token}"))
    assert_too_many_in_html(phone.post("/confirm", data={"code": token}))
    assert phone.get(f"/c/{token}").status_code == 200  # looking at the code is not limited
    assert count(session, Transaction) == 1


def test_the_redemption_limit_is_per_member(app, session, code, make_member):
    """Carers share a centre's Wi-Fi: one member's tries never hold back another's."""
    app.config["REDEEM_RATE_LIMIT"] = "1 per minute"
    exchange, token = code
    other = logged_in(app, make_member())
    assert other.post("/api/v1/confirmations", json={"code": "not-a-code"}).status_code == 400
    assert other.post("/api/v1/confirmations", json={"code": "not-a-code"}).status_code == 429

    receiver = logged_in(app, exchange.receiver)
    assert receiver.post("/api/v1/confirmations", json={"code": token}).status_code == 201


def test_a_visitor_is_asked_to_log_in_before_any_count(app, client, code):
    app.config["REDEEM_RATE_LIMIT"] = "1 per minute"
    _, token = code
    for _ in range(3):
        assert client.post("/api/v1/confirmations", json={"code": token}).status_code == 401


# ---- counters shared through Redis ----------------------------------------------------------

REDIS_URL = os.environ.get("CAREBANK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_counters():
    """A Redis to keep counters in (skipped without one); the keys a test made are removed."""
    connection = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} ({error}); set CAREBANK_TEST_REDIS_URL to test shared counters")
    before = set(connection.scan_iter(match="LIMITS:*"))
    yield connection, f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    for key in set(connection.scan_iter(match="LIMITS:*")) - before:
        connection.delete(key)
    connection.close()


def test_two_app_instances_on_one_redis_share_the_count(database_url, redis_counters):
    """Two workers (here two apps; the second one's fresh storage would start at zero if the
    counts lived in memory) refuse the fourth try between them."""
    connection, marker = redis_counters
    settings = {"DATABASE_URL": database_url, "RATELIMIT_STORAGE_URI": REDIS_URL,
                "LOGIN_ADDRESS_RATE_LIMIT": "3 per minute"}
    from_there = {"environ_base": {"REMOTE_ADDR": marker}}
    first = another_app(**settings)
    answers = [api_login(first.test_client(), f"{n}@example.org", **from_there).status_code for n in range(3)]
    second = another_app(**settings)
    try:
        answers.append(api_login(second.test_client(), "3@example.org", **from_there).status_code)
        assert answers == [401, 401, 401, 429]
        assert list(connection.scan_iter(match=f"*{marker}*")), "the counter is not in Redis"
    finally:
        for app in (first, second):
            with app.app_context():
                db.engine.dispose()


def test_logins_stay_limited_and_working_while_redis_is_down(database_url):
    """An unreachable Redis must not turn every login into a 500: the counting goes on in memory."""
    app = another_app(DATABASE_URL=database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/15",
                      LOGIN_RATE_LIMIT="2 per minute")
    try:
        client = app.test_client()
        assert [api_login(client, "x@example.org").status_code for _ in range(3)] == [401, 401, 429]
    finally:
        with app.app_context():
            db.engine.dispose()
        # The limiter is one object for the whole process and init_app does not clear this
        # mark, so later apps would keep counting in memory for a while: clear it here.
        limiter._storage_dead = False
