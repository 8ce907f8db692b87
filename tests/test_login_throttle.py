"""No one can lock a member out: failed logins are limited per address and per account from
one address, and an account tried from many addresses is slowed by short waits (429 with a
Retry-After of a few seconds, doubling, at most a minute), never locked; an address that has
not failed on the account (the member on their own phone) goes straight in.

Each test sets the production limits (the test config's are high, so that other tests never
meet them); the clock is frozen where the waits must pass."""
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from conftest import PASSWORD
from test_rate_limits import (
    REDIS_URL,
    address,
    another_app,
    api_login,
    assert_too_many_in_json,
    redis_counters,  # noqa: F401 (a fixture)
    web_login,
)

from carebank.core.extensions import db
from config import Config

LOGIN_SETTINGS = ("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT", "LOGIN_SLOWDOWN_AFTER",
                  "LOGIN_SLOWDOWN_FIRST_WAIT", "LOGIN_SLOWDOWN_MAX_WAIT")
PAUSED = "Too many tries from here. Please try again in "


@pytest.fixture
def production_limits(app):
    app.config.update({name: getattr(Config, name) for name in LOGIN_SETTINGS})
    return app


@pytest.fixture
def clock():
    """A frozen clock that moves only when told to (`clock.shift(seconds)`)."""
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def retry_after(response) -> int:
    assert response.status_code == 429, response.get_data(as_text=True)
    return int(response.headers["Retry-After"])


def test_ten_wrong_passwords_from_one_address_do_not_lock_the_member_out(production_limits, client,
                                                                        make_member):
    member = make_member()
    answers = [api_login(client, member.email, **address(1)).status_code for _ in range(12)]
    assert answers == [401] * 10 + [429] * 2

    # The member, on their own phone (another address), gets in on the page and the API.
    phone, tablet = production_limits.test_client(), production_limits.test_client()
    assert web_login(phone, member.email, PASSWORD, **address(2)).status_code == 302
    assert api_login(tablet, member.email, PASSWORD, **address(2)).status_code == 200
    # The guesser's address still waits, even with the right password (it must not learn it).
    assert_too_many_in_json(api_login(client, member.email, PASSWORD, **address(1)))
    assert retry_after(api_login(client, member.email, **address(1))) <= 60


def test_many_addresses_slow_an_account_with_short_growing_waits(production_limits, client, clock,
                                                                 make_member):
    member = make_member()
    waits = []
    for n in range(1, 7):  # six addresses, three wrong passwords each: 18 failures
        failures = 0
        while failures < 3:
            response = api_login(client, member.email, **address(n))
            if response.status_code == 429:
                waits.append(retry_after(response))
                clock.shift(waits[-1])  # waits out exactly what it was told, then tries again
            else:
                assert response.status_code == 401
                failures += 1

    assert waits[0] == Config.LOGIN_SLOWDOWN_FIRST_WAIT  # from the tenth failure on
    assert waits == sorted(waits) and waits[-1] > waits[0]  # growing with the failures
    assert max(waits) == Config.LOGIN_SLOWDOWN_MAX_WAIT == 60  # and never more than a minute
    assert api_login(client, member.email, PASSWORD, **address(99)).status_code == 200
    assert retry_after(api_login(client, member.email, PASSWORD, **address(6))) <= 60


def test_the_wait_is_over_when_its_seconds_have_passed(production_limits, client, clock, make_member):
    production_limits.config["LOGIN_SLOWDOWN_AFTER"] = "2 per 15 minutes"
    member = make_member()
    for n in (1, 2):
        assert api_login(client, member.email, **address(n)).status_code == 401

    wait = retry_after(api_login(client, member.email, PASSWORD, **address(2)))
    clock.shift(wait - 1)
    assert api_login(client, member.email, PASSWORD, **address(2)).status_code == 429
    clock.shift(1)
    assert api_login(client, member.email, PASSWORD, **address(2)).status_code == 200


def test_the_page_and_the_api_share_the_slowdown(production_limits, client, clock, make_member):
    production_limits.config["LOGIN_SLOWDOWN_AFTER"] = "3 per 15 minutes"
    member = make_member()
    assert web_login(client, member.email, **address(1)).status_code == 400
    assert api_login(client, member.email, **address(2)).status_code == 401
    assert web_login(client, member.email, **address(3)).status_code == 400

    assert_too_many_in_json(api_login(client, member.email, **address(3)))
    page = web_login(client, member.email, **address(3))
    assert retry_after(page) == Config.LOGIN_SLOWDOWN_FIRST_WAIT
    assert PAUSED + "2 seconds." in page.get_data(as_text=True)
    assert 'name="password"' in page.get_data(as_text=True)  # the form, to try again in a moment


def test_one_address_is_still_limited_across_many_accounts(production_limits, client):
    guesses = [api_login(client, f"guess{n}@example.org", **address(9)).status_code for n in range(21)]
    assert guesses == [401] * 20 + [429]
    assert api_login(client, "guess21@example.org", **address(10)).status_code == 401


def test_a_member_who_mistypes_during_an_attack_waits_seconds(production_limits, client, clock, make_member):
    member = make_member()
    for _ in range(10):
        assert api_login(client, member.email, **address(1)).status_code == 401  # the attacker
    phone = production_limits.test_client()
    assert api_login(phone, member.email, **address(2)).status_code == 401  # the member's typo

    wait = retry_after(api_login(phone, member.email, PASSWORD, **address(2)))
    assert wait <= Config.LOGIN_SLOWDOWN_MAX_WAIT
    clock.shift(wait)
    assert api_login(phone, member.email, PASSWORD, **address(2)).status_code == 200


def test_workers_on_one_redis_share_the_slowdown(database_url, redis_counters):  # noqa: F811
    """What one worker counted, another refuses (two apps here, as two workers would be)."""
    _, marker = redis_counters
    settings = {"DATABASE_URL": database_url, "RATELIMIT_STORAGE_URI": REDIS_URL,
                "LOGIN_SLOWDOWN_AFTER": "2 per 15 minutes"}
    here = {"environ_base": {"REMOTE_ADDR": marker}}
    email = f"{uuid.uuid4().hex}@example.org"  # no account: the counts are the same
    first, second = another_app(**settings), another_app(**settings)
    try:
        assert api_login(first.test_client(), email, **here).status_code == 401
        assert api_login(first.test_client(), email, **address(1)).status_code == 401

        assert retry_after(api_login(second.test_client(), email, **here)) <= 2
        assert api_login(second.test_client(), email, **address(2)).status_code == 401
    finally:
        for app in (first, second):
            with app.app_context():
                db.engine.dispose()
