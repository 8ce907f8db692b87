"""Hostile input against the real server: schemathesis sends generated and mutated requests
to every operation of /api/openapi.json on a live server on loopback, logged in as a member,
and every answer must be documented (status, content type, body schema) and never a 5xx.

Bounded and reproducible: a fixed number of examples per operation, derandomized, no example
database. Unsafe operations really run (gifts, donations, posts) on the test's throwaway
database."""
from __future__ import annotations

import json
import threading
from collections import Counter
from types import SimpleNamespace

import pytest
import requests
import schemathesis
from conftest import PASSWORD
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from carebank.api.openapi import describe
from carebank.confirmations import services as confirmations
from carebank.core.policy import Policy
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.members.models import Role
from config import TestConfig

API = "/api/v1"
EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# These change who the session belongs to, so each of their examples gets a fresh visitor's
# session; everything else runs as the one logged-in member, who must stay logged in.
IDENTITY_OPERATIONS = {f"POST {API}/session", f"DELETE {API}/session", f"POST {API}/members"}


def fuzz_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": 5,
        "generation": {
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,  # the same requests on every run, so CI failures reproduce
            "database": "none",  # no .hypothesis directory replaying old failures
            # The session cookie and CSRF token are ours; generated ones would only be refused.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {"response_schema_conformance": {"validate-formats": True}},
        "request-timeout": 60,
    })


@pytest.fixture
def live_url(app):
    """The test's app served on 127.0.0.1 in a thread, on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def world(session, policy, make_member, make_post, make_exchange, earn):
    """A coordinator with something real behind the low ids: a neighbour in their centre, posts,
    a proposal to answer, an accepted exchange, a code and a funded pool (and, beyond the low
    ids, the visits that earned the minutes given)."""
    fuzzer = make_member("Fuzz Coordinator", role=Role.COORDINATOR)
    neighbour = make_member("Neighbour")
    own_offer = make_post(fuzzer, kind="offer")
    exchanges.respond(session, neighbour, own_offer.id, "Me please")
    make_post(neighbour, kind="need", category="escort")
    accepted = make_exchange(provider=fuzzer, receiver=neighbour)
    confirmations.make_code(session, neighbour, accepted.id, 30, policy)
    earn(neighbour, 600)
    earn(fuzzer, 600)  # so the fuzzer's gifts and donations go through, too
    ledger.donate_to_pool(session, neighbour, 600, "For anyone", policy)
    session.commit()
    return SimpleNamespace(fuzzer_email=fuzzer.email)


def browser_session(base_url: str, email: str | None = None) -> SimpleNamespace:
    """A requests session like the PWA's: logged in when an email is given, with its CSRF token."""
    http = requests.Session()
    if email:
        csrf = http.get(f"{base_url}{API}/session").json()["csrf_token"]
        answer = http.post(f"{base_url}{API}/session", json={"email": email, "password": PASSWORD},
                           headers={"X-CSRFToken": csrf})
        assert answer.status_code == 200, answer.text
    csrf = http.get(f"{base_url}{API}/session").json()["csrf_token"]
    return SimpleNamespace(http=http, headers={"X-CSRFToken": csrf})


@pytest.fixture
def fuzzer(live_url, world):
    member = browser_session(live_url, world.fuzzer_email)
    yield member
    member.http.close()


@pytest.fixture
def seen():
    """Statuses answered per operation, printed at the end (pytest -s) for the report."""
    counts: Counter = Counter()
    yield counts
    print(f"\nschemathesis examples: {sum(counts.values())}")
    for (label, status), count in sorted(counts.items()):
        print(f"  {label} {status}: {count}")


# The description the test app serves (test_openapi.py checks that it does), built here so
# that each operation is its own test, on its own fresh database and server.
TEST_POLICY = Policy.from_config({name: getattr(TestConfig, name) for name in dir(TestConfig)})
schema = schemathesis.openapi.from_dict(describe(TEST_POLICY), config=fuzz_config())


@schema.parametrize()
# The server and its database are meant to live through all of an operation's examples.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_answer_is_documented_and_none_is_a_server_error(case, live_url, fuzzer, seen):
    identity = case.operation.label in IDENTITY_OPERATIONS
    client = browser_session(live_url) if identity else fuzzer
    response = case.call(base_url=live_url, session=client.http, headers=client.headers)
    seen[case.operation.label, response.status_code] += 1
    case.validate_response(response, checks=CHECKS)
    # The examples reached the operations themselves, not just the login or CSRF guard.
    assert error_code(response) != "csrf_failed", response.text
    if not identity:
        assert response.status_code != 401, response.text


def error_code(response) -> str | None:
    if response.status_code < 400 or "json" not in response.headers.get("Content-Type", ""):
        return None
    return response.json()["error"]["code"]


# JSON can carry what the generator above never sends (it only makes encodable text): half a
# character, the lone surrogate escape "\ud800", which no database driver can encode. Every
# text field refuses it like any other unstorable text: 400 naming the field, never a 500.
TEXT_FIELDS = [
    ("POST", "/session", "email"), ("POST", "/session", "password"), ("POST", "/members", "name"),
    ("POST", "/members", "email"), ("POST", "/members", "neighbourhood"), ("PATCH", "/me", "name"),
    ("PATCH", "/me", "offers_text"), ("PATCH", "/me", "phone"), ("POST", "/posts", "title"),
    ("POST", "/posts", "description"), ("POST", "/posts/1/responses", "message"),
    ("POST", "/transfers", "memo"), ("POST", "/donations", "memo"), ("POST", "/grants", "memo"),
]
VALID = {"email": "someone@example.org", "password": PASSWORD, "name": "Kim", "kind": "need", "category": "meals",
         "title": "Soup", "minutes": 30, "to_member_id": 1}


@pytest.mark.parametrize("method, path, field", TEXT_FIELDS)
def test_half_a_character_in_text_is_400_naming_the_field(client, make_member, method, path, field):
    client.login(make_member())
    body = json.dumps({**VALID, field: "Kim \ud800"})  # json writes it as the escape a client would send
    response = client.open(API + path, method=method, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field in response.get_json()["error"]["fields"]
