"""The OpenAPI description at /api/openapi.json stays true: it describes every API route and
only those, it is valid OpenAPI 3.1, and what a whole journey through the API answers (the
errors on the way included) validates against the schemas it documents."""
from __future__ import annotations

import base64
import os
import re
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import jsonschema_rs
import pytest
import time_machine
from conftest import PASSWORD, logged_in
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask_limiter.util import get_qualified_name
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from carebank.api.openapi import describe
from carebank.careplans import recurrence
from carebank.confirmations import services as confirmations
from carebank.core.database import utcnow
from carebank.core.extensions import limiter
from carebank.core.policy import Policy
from carebank.exchanges.models import Exchange
from carebank.governance import pool
from carebank.members import resets
from carebank.members.models import Role

API = "/api/v1"
SESSION_COOKIE = describe(Policy())["components"]["securitySchemes"]["session"]["name"]
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture
def spec(app) -> dict:
    return describe(Policy.from_config(app.config))


def spec_operations(spec: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in METHODS}


def app_views(app):
    """(method, path, view) of every route under /api/, Flask's <int:x> written {x}."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield method, path, app.view_functions[rule.endpoint]


def pointed_at(spec: dict, reference: str):
    """What a local $ref ("#/components/...") points at; KeyError if nothing."""
    assert reference.startswith("#/"), reference
    node = spec
    for part in reference[2:].split("/"):
        node = node[part]
    return node


# --- the description itself -----------------------------------------------------------------------

def test_every_api_route_is_described_and_nothing_else(app, spec):
    assert spec_operations(spec) == {(method, path) for method, path, _ in app_views(app)}


def test_the_description_is_valid_openapi_3_1(spec):
    OPENAPI_31_VALIDATOR.validate(spec)
    for schema in spec["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)  # each one a valid JSON Schema 2020-12 as well


def test_every_reference_points_at_something(spec):
    references = re.findall(r"'\$ref': '([^']+)'", str(spec))
    assert len(references) > 50
    for reference in references:
        pointed_at(spec, reference)


def test_path_parameters_are_the_ones_in_the_path(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)


def test_the_description_is_served_to_anyone_as_json_and_follows_the_policy(app, client):
    app.config["MAX_MINUTES_PER_TRANSFER"] = 600
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    assert served == describe(Policy.from_config(app.config))
    assert served["components"]["schemas"]["Gift"]["properties"]["minutes"]["maximum"] == 600


def test_rate_limited_operations_and_only_those_document_429(app, spec):
    with app.test_request_context():  # the limits are read from the config when a request comes
        limited = {(method, path) for method, path, view in app_views(app)
                   if any(limit.methods is None or method.lower() in limit.methods
                          for limit in limiter.limit_manager.decorated_limits(get_qualified_name(view)))}
    documented = {(method.upper(), path) for path, item in spec["paths"].items()
                  for method, operation in item.items() if "429" in operation["responses"]}
    assert limited and documented == limited


# --- real answers against it -----------------------------------------------------------------------

class Contract:
    """Checks answers against the description: a documented status, and a JSON body valid
    against that status's schema (formats too) or no body where none is documented."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.seen: set[tuple[str, str]] = set()

    def template(self, path: str) -> str:
        if path in self.spec["paths"]:  # /posts/mine before /posts/{post_id}
            return path
        for template in self.spec["paths"]:
            if re.fullmatch(re.sub(r"{\w+}", "[^/]+", template), path):
                return template
        raise AssertionError(f"{path} is not described")

    def check(self, response, status: int):
        method, path = response.request.method, response.request.path
        assert response.status_code == status, (method, path, response.get_data(as_text=True))
        template = self.template(path)
        documented = self.spec["paths"][template][method.lower()]["responses"].get(str(status))
        assert documented, f"{method} {template} answered {status}, which is not documented"
        self.seen.add((method, template))
        documented = pointed_at(self.spec, documented["$ref"]) if "$ref" in documented else documented
        for header in documented.get("headers", {}):
            assert response.headers.get(header, "").isdigit(), (method, path, status, header)
        if "content" not in documented:
            assert not response.get_data()
            return None
        if "application/json" not in documented["content"]:  # a file, e.g. the minutes' PDF
            assert response.mimetype in documented["content"], (method, path, status, response.mimetype)
            return response.get_data()
        assert response.mimetype == "application/json"
        schema = {**documented["content"]["application/json"]["schema"], "components": self.spec["components"]}
        validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        problems = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(response.get_json())]
        assert not problems, (method, path, status, problems)
        return response.get_json()


@pytest.fixture
def contract(spec):
    return Contract(spec)


@pytest.fixture
def people(app, make_member):
    """A provider and a coordinator of the centre, and a stranger, each on their own phone."""
    return (logged_in(app, make_member("Alex")), logged_in(app, make_member("Coordinator", role=Role.COORDINATOR)),
            logged_in(app, make_member("Stranger")))


@pytest.fixture
def governed(session, policy, make_member):
    """For the governance steps: six members to come to the assembly and one who gives a
    proxy, and a budget ballot (a treasurer's grant request put on it) open for a week."""
    hall = [make_member(f"Member at the assembly {n}") for n in range(6)]
    absent = make_member("Away on the day")
    treasurer = make_member("Treasurer", role=Role.COORDINATOR)
    request = pool.request_grant(session, treasurer, make_member("Elder").id, 700, "Long illness", "meals", policy)
    budget = pool.open_budget(session, treasurer, 1000, utcnow() + timedelta(days=7), [request.id])
    session.commit()
    return SimpleNamespace(hall=[m.id for m in hall], absent=absent.id, budget=budget.id,
                           budget_options=[o.id for o in budget.options])


def test_a_journey_through_the_api_answers_as_documented(app, client, session, policy, people, contract, governed):
    provider, coordinator, stranger = people
    ok = contract.check
    me = visit_and_sign_up(client, ok)
    need = post_and_browse(client, provider, ok)
    exchange = respond_and_accept(client, provider, stranger, ok, need["id"])
    confirm_visit(client, provider, session, policy, ok, exchange["id"])
    plan_and_visit(client, provider, stranger, ok, exchange["id"])
    move_minutes(client, provider, coordinator, ok, me["id"], provider.get(f"{API}/me").get_json()["member"]["id"])
    decline_cancel_and_close(client, provider, ok)
    write_to_each_other(client, provider, stranger, ok, exchange["id"])
    hear_about_it(client, ok)
    turn_on_push(client, stranger, ok)
    proposed = propose_and_vote(client, provider, ok)
    hold_an_assembly(client, coordinator, ok, governed)
    govern_the_pool(client, provider, coordinator, ok, governed, me["id"], proposed)
    limited_logins(app, ok)
    reset_a_password(client, session, ok)
    assert contract.seen == spec_operations(contract.spec)  # every operation was checked


def visit_and_sign_up(client, ok) -> dict:
    ok(client.get(f"{API}/session"), 200)
    ok(client.get(f"{API}/categories"), 200)
    assert ok(client.get(f"{API}/neighbourhoods"), 200)["centres"]
    ok(client.get("/api/openapi.json"), 200)
    ok(client.get(f"{API}/me"), 401)
    ok(client.post(f"{API}/members", json={"name": "Kim", "email": "nobody", "password": PASSWORD}), 400)
    ok(client.post(f"{API}/members", json={"name": "Kim", "email": "kim@example.org", "password": PASSWORD,
                                           "neighbourhood": "Hyoja-dong", "locale": "ko"}), 201)
    ok(client.post(f"{API}/members", json={"name": "Kim", "email": "kim@example.org", "password": PASSWORD}), 409)
    assert client.get_cookie(SESSION_COOKIE)  # the cookie the description names
    ok(client.delete(f"{API}/session"), 204)
    ok(client.post(f"{API}/session", json={"email": "kim@example.org", "password": "wrong password"}), 401)
    ok(client.post(f"{API}/session", json={"email": "kim@example.org", "password": PASSWORD}), 200)
    ok(client.patch(f"{API}/me", json={"phone": "call me"}), 400)
    ok(client.patch(f"{API}/me", json={"languages": "Korean", "phone": "010-1234-5678"}), 200)
    return ok(client.get(f"{API}/me"), 200)["member"]


def post_and_browse(client, provider, ok) -> dict:
    ok(provider.post(f"{API}/posts", json={"kind": "offer", "category": "escort", "title": "Walks to the clinic",
                                            "minutes": 60}), 201)
    need = ok(client.post(f"{API}/posts", json={
        "kind": "need", "category": "escort", "title": "Walk to the clinic", "description": "Tuesday",
        "minutes": 90, "starts_at": "2030-05-07T10:00:00+09:00", "ends_at": "2030-05-07T12:00:00+09:00"}), 201)["post"]
    ok(client.post(f"{API}/posts", json={"kind": "need", "category": "escort", "title": " ", "minutes": 90}), 400)
    assert ok(client.get(f"{API}/posts?kind=need&q=clinic"), 200)["posts"]
    ok(client.get(f"{API}/posts/{need['id']}"), 200)
    ok(client.get(f"{API}/posts/999"), 404)
    ok(client.get(f"{API}/posts/mine"), 200)
    assert ok(client.get(f"{API}/posts/{need['id']}/matches"), 200)["matches"]
    return need


def respond_and_accept(client, provider, stranger, ok, post_id: int) -> dict:
    exchange = ok(provider.post(f"{API}/posts/{post_id}/responses", json={"message": "I can"}), 201)["exchange"]
    ok(provider.post(f"{API}/posts/{post_id}/responses"), 409)
    ok(client.post(f"{API}/posts/{post_id}/responses"), 403)
    ok(provider.get(f"{API}/exchanges"), 200)
    ok(stranger.get(f"{API}/exchanges/{exchange['id']}"), 403)
    ok(stranger.post(f"{API}/exchanges/{exchange['id']}/accept"), 403)
    ok(client.post(f"{API}/exchanges/{exchange['id']}/accept"), 200)
    ok(client.post(f"{API}/exchanges/{exchange['id']}/accept"), 409)
    return ok(provider.get(f"{API}/exchanges/{exchange['id']}"), 200)["exchange"]


def confirm_visit(client, provider, session, policy, ok, exchange_id: int) -> None:
    url = f"{API}/exchanges/{exchange_id}/confirmation-codes"
    ok(provider.post(url, json={"minutes": 0}), 400)
    code = ok(provider.post(url, json={"minutes": 90}), 201)["code"]
    key = {"Idempotency-Key": "visit-1"}
    ok(client.post(f"{API}/confirmations", json={"code": code}, headers=key), 201)
    ok(client.post(f"{API}/confirmations", json={"code": code}, headers=key), 201)  # the stored answer
    ok(client.post(f"{API}/confirmations", json={"code": code}), 200)
    other = ok(provider.post(url, json={"minutes": 30}), 201)["code"]
    ok(client.post(f"{API}/confirmations", json={"code": other}, headers=key), 422)
    ok(provider.post(f"{API}/confirmations", json={"code": other}), 403)
    long_ago = utcnow() - timedelta(seconds=policy.code_ttl_seconds + 60)
    maker = session.get(Exchange, exchange_id).provider
    _, expired = confirmations.make_code(session, maker, exchange_id, 30, policy, now=long_ago)
    session.commit()
    ok(client.post(f"{API}/confirmations", json={"code": expired}), 410)
    ok(client.get(f"{API}/ledger"), 200)
    ok(client.post(f"{API}/exchanges/{exchange_id}/cancel"), 409)  # a visit is confirmed: report a problem


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def plan_and_visit(client, provider, stranger, ok, exchange_id: int) -> None:
    """A weekly plan on the next working day at 10:00 Seoul, lived half an hour before it."""
    day = next(d for d in (date.today() + timedelta(days=n) for n in range(1, 15)) if recurrence.is_working_day(d))
    start = datetime.combine(day, time(10), ZoneInfo("Asia/Seoul"))
    plan_body = {"rrule": f"FREQ=WEEKLY;BYDAY={WEEKDAYS[day.weekday()]}", "starts_at": start.isoformat(),
                 "minutes": 60, "until": (day + timedelta(days=60)).isoformat(), "holiday_policy": "skip"}
    with time_machine.travel(start - timedelta(minutes=30), tick=True):
        url = f"{API}/exchanges/{exchange_id}/care-plans"
        ok(provider.post(url, json={**plan_body, "rrule": "FREQ=WEEKLY;COUNT=3"}), 400)
        plan = ok(provider.post(url, json=plan_body), 201)["care_plan"]
        ok(stranger.get(f"{API}/care-plans/{plan['id']}"), 403)
        ok(provider.post(f"{API}/care-plans/{plan['id']}/accept"), 403)  # not one's own proposal
        ok(client.post(f"{API}/care-plans/{plan['id']}/accept"), 200)
        ok(client.post(f"{API}/care-plans/{plan['id']}/accept"), 409)
        ok(client.get(f"{API}/care-plans/{plan['id']}"), 200)
        first, second, *_ = ok(client.get(f"{API}/care-plans/{plan['id']}/visits"), 200)["visits"]
        ok(provider.get(f"{API}/visits?from=soon"), 400)
        assert ok(provider.get(f"{API}/visits"), 200)["visits"]
        ok(stranger.get(f"{API}/visits/{first['id']}"), 403)
        ok(client.post(f"{API}/visits/{first['id']}/check-in"), 403)  # only the carer checks in
        ok(provider.post(f"{API}/visits/{first['id']}/check-in", headers={"Idempotency-Key": "in-1"}), 200)
        ok(provider.post(f"{API}/visits/{first['id']}/check-in"), 409)
        ok(provider.post(f"{API}/visits/{first['id']}/check-out"), 200)
        ok(provider.post(f"{API}/visits/{first['id']}/check-out"), 409)
        confirm = f"{API}/visits/{first['id']}/confirm"
        ok(client.post(confirm, json={"minutes": 0}), 400)
        ok(client.post(confirm, json={"minutes": 60}, headers={"Idempotency-Key": "confirm-1"}), 200)
        ok(client.post(confirm, json={"minutes": 30}, headers={"Idempotency-Key": "confirm-1"}), 422)
        ok(client.get(f"{API}/visits/{first['id']}"), 200)
        ok(client.post(f"{API}/visits/{second['id']}/cancel", json={"reason": " "}), 400)
        ok(client.post(f"{API}/visits/{second['id']}/cancel", json={"reason": "In hospital"}), 200)
        ok(stranger.post(f"{API}/visits/2147483646/check-out"), 404)
        ok(client.get(f"{API}/me/calendar"), 200)
        ok(client.post(f"{API}/me/calendar"), 201)


def move_minutes(client, provider, coordinator, ok, me_id: int, provider_id: int) -> None:
    # The provider gives on the 90 minutes the visit earned (one gives only time one has).
    ok(provider.post(f"{API}/transfers", json={"to_member_id": me_id, "minutes": 30, "memo": "Thanks"}), 201)
    ok(provider.post(f"{API}/transfers", json={"to_member_id": 999, "minutes": 30}), 404)
    ok(provider.post(f"{API}/transfers", json={"to_member_id": me_id, "minutes": 1440}), 409)
    ok(provider.post(f"{API}/donations", json={"minutes": 60, "memo": None}), 201)
    ok(client.get(f"{API}/pool"), 200)
    ok(client.post(f"{API}/grants", json={"to_member_id": provider_id, "minutes": 30, "memo": "Help"}), 403)
    ok(coordinator.post(f"{API}/grants", json={"to_member_id": me_id, "minutes": 30, "memo": "Winter help"}), 201)
    ok(coordinator.get(f"{API}/members/{me_id}"), 200)  # her centre's coordinator: with the balance
    ok(client.get(f"{API}/members/{provider_id}"), 200)  # another member: without it
    ok(coordinator.get(f"{API}/members/999"), 404)


def decline_cancel_and_close(client, provider, ok) -> None:
    for action, status in (("decline", "declined"), ("cancel", "cancelled")):
        need = ok(client.post(f"{API}/posts", json={"kind": "need", "category": "meals", "title": "Soup",
                                                    "minutes": 30}), 201)["post"]
        exchange = ok(provider.post(f"{API}/posts/{need['id']}/responses"), 201)["exchange"]
        assert ok(client.post(f"{API}/exchanges/{exchange['id']}/{action}"), 200)["exchange"]["status"] == status
        ok(client.post(f"{API}/posts/{need['id']}/close"), 200)
        ok(client.post(f"{API}/posts/{need['id']}/close"), 409)
    ok(provider.post(f"{API}/posts", json={"kind": "offer", "category": "meals", "title": "Soup", "minutes": 30,
                                            "once": True}), 400)
    once = ok(client.post(f"{API}/posts", json={"kind": "need", "category": "meals", "title": "Soup today",
                                                "minutes": 30, "once": True}), 201)["post"]
    exchange = ok(provider.post(f"{API}/posts/{once['id']}/responses"), 201)["exchange"]
    ok(client.post(f"{API}/exchanges/{exchange['id']}/finish"), 409)  # not agreed yet
    ok(client.post(f"{API}/exchanges/{exchange['id']}/accept"), 200)
    assert ok(provider.post(f"{API}/exchanges/{exchange['id']}/finish"), 200)["exchange"]["state"] == "finished"


def limited_logins(app, ok) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    visitor = app.test_client()
    ok(visitor.post(f"{API}/session", json={"email": "kim@example.org", "password": "guess"}), 401)
    ok(visitor.post(f"{API}/session", json={"email": "kim@example.org", "password": "guess again"}), 429)


def reset_a_password(client, session, ok):
    ok(client.post(f"{API}/password-resets", json={"email": 5}), 400)
    ok(client.post(f"{API}/password-resets", json={"email": "nobody@example.org"}), 202)
    ok(client.post(f"{API}/password-resets/not-a-link", json={"password": "a new password"}), 404)
    _, token = resets.request_reset(session, "kim@example.org")
    session.commit()
    ok(client.post(f"{API}/password-resets/{token}", json={"password": "short"}), 400)
    ok(client.post(f"{API}/password-resets/{token}", json={"password": "a new password"}), 204)
    ok(client.post(f"{API}/password-resets/{token}", json={"password": "a new password"}), 410)


def write_to_each_other(client, provider, stranger, ok, exchange_id: int) -> None:
    thread = f"{API}/exchanges/{exchange_id}/messages"
    ok(provider.post(thread, json={"body": "I'm on my way"}), 201)
    ok(provider.post(thread, json={"body": " "}), 400)
    ok(client.get(thread), 200)
    ok(stranger.get(thread), 404)


def hear_about_it(client, ok) -> None:
    listed = ok(client.get(f"{API}/notifications?unread=1"), 200)
    assert listed["unread_count"] >= 1
    ok(client.post(f"{API}/notifications/read", json={"ids": [listed["notifications"][0]["id"]]}), 204)
    ok(client.post(f"{API}/notifications/read", json={"ids": "all"}), 400)
    ok(client.post(f"{API}/notifications/read", json={"all": True}), 204)
    ok(client.get(f"{API}/notification-preferences"), 200)
    ok(client.put(f"{API}/notification-preferences", json={"email": {"gift_received": False}}), 200)
    ok(client.put(f"{API}/notification-preferences", json={"quiet_hours": {"start": "9pm"}}), 400)


def turn_on_push(client, stranger, ok) -> None:
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    keys = {"p256dh": b64(point), "auth": b64(os.urandom(16))}
    assert len(ok(client.get(f"{API}/push/vapid-public-key"), 200)["key"]) == 87
    made = ok(client.post(f"{API}/push-subscriptions",
                          json={"endpoint": "https://push.example.org/send/kim", "keys": keys}), 201)
    ok(client.post(f"{API}/push-subscriptions", json={"endpoint": "http://push.example.org/x", "keys": keys}), 400)
    ok(client.get(f"{API}/push-subscriptions"), 200)
    ok(stranger.delete(f"{API}/push-subscriptions/{made['subscription']['id']}"), 404)
    ok(client.delete(f"{API}/push-subscriptions/{made['subscription']['id']}"), 204)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def propose_and_vote(client, provider, ok) -> dict:
    """A member's proposal (voted, changed, discussed), a secret ballot with its receipt, and a
    per-class advisory poll; they close in two days."""
    closes = (utcnow() + timedelta(days=2)).isoformat()
    tea = {"title": "Tea on Fridays", "body": "At the centre, 3 pm.", "closes_at": closes, "kind": "member",
           "options": ["Fridays", "Saturdays"]}
    ok(client.post(f"{API}/proposals", json={**tea, "title": " "}), 400)
    ok(client.post(f"{API}/proposals", json={**tea, "kind": "board"}), 403)  # the board: coordinators only
    proposal = ok(client.post(f"{API}/proposals", json=tea), 201)["proposal"]
    first, second = (option["id"] for option in proposal["options"])
    votes = f"{API}/proposals/{proposal['id']}/votes"
    ok(provider.post(votes, json={"option": 2147483646}), 400)
    assert not ok(provider.post(votes, json={"option": first}), 201)["vote"]["replaced"]
    assert ok(provider.post(votes, json={"option": second}), 200)["vote"]["replaced"]
    thread = f"{API}/proposals/{proposal['id']}/messages"
    ok(provider.post(thread, json={"body": "Fridays are busy at the centre"}), 201)
    ok(provider.post(thread, json={"body": " "}), 400)
    ok(client.get(thread), 200)
    assert ok(provider.get(f"{API}/proposals/{proposal['id']}"), 200)["proposal"]["my_vote"] == second
    ok(client.get(f"{API}/proposals/2147483646"), 404)
    ok(client.post(f"{API}/proposals/{proposal['id']}/receipt", json={"receipt": "AAAA-BBBB-CCCC-DDDD"}), 409)

    secret = ok(client.post(f"{API}/proposals", json={**tea, "title": "A new chair", "secret": True}), 201)["proposal"]
    yes, no = (option["id"] for option in secret["options"])
    votes = f"{API}/proposals/{secret['id']}/votes"
    receipt = ok(provider.post(votes, json={"option": yes}), 201)["receipt"]
    ok(provider.post(votes, json={"option": no}), 409)  # a second vote needs the receipt
    ok(provider.post(votes, json={"option": no, "receipt": receipt}), 200)
    check = f"{API}/proposals/{secret['id']}/receipt"
    assert ok(provider.post(check, json={"receipt": receipt}), 200) == {"counted": True, "option": None}

    poll = ok(client.post(f"{API}/proposals", json={**tea, "title": "Longer hours?", "kind": "advisory",
                                                    "tally": "per_class"}), 201)["proposal"]
    ok(provider.post(f"{API}/proposals/{poll['id']}/votes", json={"option": poll["options"][0]["id"]}), 201)
    assert ok(client.get(f"{API}/proposals"), 200)["open"]
    return {"open": proposal["id"], "secret": secret["id"], "poll": poll["id"], "receipt": receipt}


def hold_an_assembly(client, coordinator, ok, governed) -> None:
    """The coordinator calls an assembly, keeps the register at the door, counts a motion and,
    after the meeting, closes it and seals its minutes."""
    held_at = utcnow() + timedelta(hours=2)
    notice = {"title": "Regular assembly", "held_at": held_at.isoformat(), "place": "Community hall",
              "agenda": "The 2026 accounts"}
    ok(client.post(f"{API}/assemblies", json=notice), 403)
    ok(coordinator.post(f"{API}/assemblies", json={**notice, "held_at": "2020-01-01T10:00:00+09:00"}), 400)
    assembly = ok(coordinator.post(f"{API}/assemblies", json=notice), 201)["assembly"]
    url = f"{API}/assemblies/{assembly['id']}"
    ok(client.get(url), 403)
    ok(coordinator.get(f"{API}/assemblies/2147483646"), 404)
    chair, teller, other_teller, *signers = governed.hall
    for member_id in governed.hall:
        ok(coordinator.post(f"{url}/attendance", json={"member_id": member_id}), 201)
    ok(coordinator.post(f"{url}/attendance", json={"member_id": chair}), 409)  # already present
    proxy = {"member_id": chair, "proxy_for_member_id": governed.absent, "proof": "Signed proxy form no. 1"}
    ok(coordinator.post(f"{url}/attendance", json={**proxy, "proof": " "}), 400)
    assert ok(coordinator.post(f"{url}/attendance", json=proxy), 201)["proxies"] == 1
    ok(coordinator.post(f"{url}/attendance", json={"card": "https://example.org/c/unknown-card"}), 400)
    ok(coordinator.post(f"{url}/attendance", json={"card": "2147483646", "pin": "1234"}), 404)  # no such card
    ok(coordinator.post(f"{url}/motions", json={"title": ""}), 400)
    motion = ok(coordinator.post(f"{url}/motions", json={"title": "Adopt the 2026 accounts"}), 201)["motion"]
    tally = f"{API}/motions/{motion['id']}/tally"
    ok(coordinator.post(tally, json={"for": 5, "against": 1, "abstain": 1}), 409)  # no tellers yet
    officers = {"chair_id": chair, "teller_ids": [teller, other_teller], "signer_ids": signers}
    ok(coordinator.post(f"{url}/officers", json={**officers, "teller_ids": [teller]}), 400)
    assert ok(coordinator.post(f"{url}/officers", json=officers), 200)["signer_ids"] == signers
    ok(coordinator.post(tally, json={"for": 50, "against": 1, "abstain": 1}), 400)  # more than are here
    ok(client.post(tally, json={"for": 5, "against": 1, "abstain": 1}), 403)
    ok(coordinator.post(tally, json={"for": 5, "against": 1, "abstain": 1}), 200)
    ok(coordinator.post(tally, json={"for": 5, "against": 1, "abstain": 1}), 409)  # final
    assert ok(coordinator.get(url), 200)["motions"][0]["votes_for"] == 5
    ok(coordinator.post(f"{url}/close"), 409)  # not yet held
    assert ok(coordinator.get(f"{url}/minutes.pdf"), 200).startswith(b"%PDF")  # the draft
    with time_machine.travel(held_at + timedelta(hours=1), tick=True):
        assert ok(coordinator.post(f"{url}/close"), 200)["assembly"]["minutes_sha256"]
        ok(coordinator.post(f"{url}/close"), 409)
        ok(coordinator.post(f"{url}/attendance", json={"member_id": governed.absent}), 409)
        assert ok(coordinator.get(f"{url}/minutes.pdf"), 200).startswith(b"%PDF")
        ok(client.get(f"{url}/minutes.pdf"), 403)


def govern_the_pool(client, provider, coordinator, ok, governed, me_id: int, proposed: dict) -> None:
    """Grants with their need, a grant above the coordinator's limit put to a ballot and
    decided after it closes, a budget ballot's picks, the pool's grants and the voice report;
    and the proposals again once closed, with their results."""
    grant = {"to_member_id": me_id, "minutes": 10, "memo": "Bus fare", "need": "escort"}
    ok(coordinator.post(f"{API}/grants", json={**grant, "need": "spaceships"}), 400)
    assert ok(coordinator.post(f"{API}/grants", json={**grant, "minutes": 700}), 409)["error"]["code"] == \
        "grant_needs_ballot"
    ok(coordinator.post(f"{API}/grants", json=grant), 201)
    asked = {**grant, "minutes": 700, "memo": "A long illness", "need": "meals"}
    ok(client.post(f"{API}/governance/grant-requests", json=asked), 403)
    ok(coordinator.post(f"{API}/governance/grant-requests", json={**asked, "need": None}), 400)
    request = ok(coordinator.post(f"{API}/governance/grant-requests", json=asked), 201)["grant_request"]
    decision = f"{API}/governance/grant-requests/{request['id']}/decision"
    ok(coordinator.post(decision), 409)  # the ballot is still open
    ok(client.post(decision), 403)
    ok(coordinator.post(f"{API}/governance/grant-requests/2147483646/decision"), 404)
    allocation = f"{API}/governance/budgets/{governed.budget}/allocation"
    ok(provider.post(allocation, json={"option_ids": [2147483646]}), 400)
    assert ok(provider.post(allocation, json={"option_ids": governed.budget_options}), 200)["option_ids"] == \
        governed.budget_options
    ok(provider.post(f"{API}/governance/budgets/2147483646/allocation", json={"option_ids": []}), 404)
    assert ok(client.get(f"{API}/governance/pool-grants"), 200)["grants"]
    ok(client.get(f"{API}/governance/voice-report"), 200)
    ok(client.get(f"{API}/governance/voice-report?quarter=2026-Q3"), 200)
    ok(client.get(f"{API}/governance/voice-report?quarter=soon"), 400)
    with time_machine.travel(utcnow() + timedelta(days=8), tick=True):
        assert ok(coordinator.post(decision), 200)["grant_request"]["status"] == "refused"  # no one voted yes
        ok(coordinator.post(decision), 409)
        ok(provider.post(allocation, json={"option_ids": []}), 409)  # closed
        assert ok(client.get(f"{API}/proposals"), 200)["closed"]
        for name in ("open", "secret", "poll"):
            assert ok(client.get(f"{API}/proposals/{proposed[name]}"), 200)["proposal"]["results"]
        check = f"{API}/proposals/{proposed['secret']}/receipt"
        assert ok(provider.post(check, json={"receipt": proposed["receipt"]}), 200)["option"]
        ok(provider.post(f"{API}/proposals/{proposed['open']}/messages", json={"body": "Too late"}), 409)
