"""Who may use which route, checked on EVERY route in the URL map outside the console (which
tests/test_console_access.py covers), so a route added later is covered too:

- a visitor is sent to log in (pages) or gets 401 (API) everywhere but the public routes;
- a member who is not a party to an exchange, code, check-in or post, and a coordinator of
  another centre, are refused (403 or 404) on every route that names one, and the database
  is exactly as before;
- the rightful party passes the same routes, so the refusals are not an accident of wrong ids.
"""
import base64
import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from conftest import PASSWORD, logged_in
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import url_for

from carebank import create_app
from carebank.cards import services as cards
from carebank.careplans.models import CarePlan
from carebank.checkins.models import CardCheckin, CheckinConsent
from carebank.confirmations import services as confirmations
from carebank.core.database import Base, utcnow
from carebank.exchanges import services as exchanges
from carebank.governance import assemblies, pool, proposals
from carebank.ledger import services as ledger
from carebank.members.models import Role
from carebank.members.services import create_member, register_resident
from carebank.messages import services as messages
from carebank.notifications.models import Notification
from carebank.passkeys.models import Passkey
from carebank.posts import services as posts
from carebank.push import services as push
from carebank.visits.models import Visit
from config import TestConfig

IGNORED_METHODS = {"HEAD", "OPTIONS"}

# What a visitor may use without logging in (endpoint, method).
PUBLIC = {
    ("main.home", "GET"), ("posts.browse", "GET"), ("posts.detail", "GET"),
    ("auth.login", "GET"), ("auth.login", "POST"), ("auth.signup", "GET"), ("auth.signup", "POST"),
    ("auth.logout", "POST"), ("auth.set_language", "POST"),
    ("pwa.manifest", "GET"), ("pwa.offline", "GET"), ("pwa.service_worker", "GET"),
    ("api.openapi", "GET"), ("api.categories", "GET"), ("api.list_posts", "GET"), ("api.get_post", "GET"),
    ("api.get_session", "GET"), ("api.log_in", "POST"), ("api.log_out", "DELETE"), ("api.sign_up", "POST"),
    # The signed link in a notification e-mail is the credential (RFC 8058 one-click unsubscribe).
    ("notifications.unsubscribe", "GET"), ("notifications.unsubscribe", "POST"),
    # Whoever forgot their password is logged out; the reset link's token is the authority.
    ("auth.reset_request", "GET"), ("auth.reset_request", "POST"),
    ("auth.reset_password", "GET"), ("auth.reset_password", "POST"),
    ("api.request_password_reset", "POST"), ("api.complete_password_reset", "POST"),
    # A calendar app fetches the feed without a login: its secret address is the credential.
    ("visits.calendar_feed", "GET"),
    # Signing in with a passkey or one's member card, and signing up without e-mail: the
    # authenticator's signature, or the card and its PIN, are the credential.
    ("passkeys.sign_in_options", "POST"), ("passkeys.sign_in", "POST"),
    ("passkeys.signup", "GET"), ("passkeys.signup", "POST"), ("passkeys.signup_passkey", "GET"),
    ("passkeys.signup_options", "POST"), ("passkeys.signup_finish", "PUT"),
    ("passkeys.card_login", "GET"), ("passkeys.card_login", "POST"),
    ("passkeys.card_pin", "GET"), ("passkeys.card_pin", "POST"),
    # A newcomer picks their neighbourhood before they have an account.
    ("api.neighbourhoods", "GET"),
}

# Routes naming an object that only some may act on, with who rightfully may: the owner of
# the post or receiver of the visit ("alice"), or the carer who makes codes and check-ins ("bob").
PARTY_ROUTES = {
    ("exchanges.detail", "GET"): "alice", ("exchanges.accept", "POST"): "alice",
    ("exchanges.decline", "POST"): "alice", ("exchanges.cancel", "POST"): "bob",
    ("exchanges.make_code", "POST"): "bob", ("exchanges.code", "GET"): "bob",
    ("exchanges.code_qr", "GET"): "bob",
    ("exchanges.confirm_code", "GET"): "alice", ("exchanges.confirm_code", "POST"): "alice",
    ("exchanges.confirm_form", "POST"): "alice",  # the code is in the form
    ("disputes.new", "GET"): "alice", ("disputes.new", "POST"): "alice",
    ("checkins.card", "GET"): "bob", ("checkins.card", "POST"): "bob", ("checkins.result", "GET"): "bob",
    ("posts.close", "POST"): "alice", ("posts.accept", "POST"): "alice", ("posts.decline", "POST"): "alice",
    ("api.get_exchange", "GET"): "alice", ("api.accept", "POST"): "alice", ("api.decline", "POST"): "alice",
    ("api.cancel", "POST"): "bob", ("api.make_code", "POST"): "bob", ("api.close_post", "POST"): "alice",
    ("api.redeem", "POST"): "alice",  # the code is in the body
    ("exchanges.finish", "GET"): "alice", ("exchanges.finish", "POST"): "alice", ("api.finish", "POST"): "alice",
    ("passkeys.rename", "POST"): "alice", ("passkeys.remove", "GET"): "alice", ("passkeys.remove", "POST"): "alice",
    ("messages.thread", "GET"): "alice", ("messages.write", "POST"): "alice",
    ("messages.report", "POST"): "alice",  # Bob wrote it: Alice, the other party, reports it
    ("messages.share_phone", "POST"): "alice",
    ("api.list_messages", "GET"): "alice", ("api.write_message", "POST"): "alice",
    ("notifications.open_one", "POST"): "alice",  # Bob's response told Alice
    ("api.delete_push_subscription", "DELETE"): "alice",
    # Bob proposed the plan, Alice agrees it; Bob checks in to the visit Alice receives.
    ("api.propose_plan", "POST"): "alice", ("api.accept_plan", "POST"): "alice",
    ("api.get_plan", "GET"): "alice", ("api.plan_visits", "GET"): "alice",
    ("api.get_visit", "GET"): "alice", ("api.cancel_visit", "POST"): "alice",
    ("api.check_in_visit", "POST"): "bob", ("api.check_out_visit", "POST"): "bob",
    ("api.confirm_visit", "POST"): "alice",
    ("careplans.propose", "POST"): "alice", ("careplans.accept", "POST"): "alice",
    ("careplans.end", "POST"): "alice", ("careplans.change", "POST"): "alice",
    ("visits.visit_page", "GET"): "alice", ("visits.check_in", "POST"): "bob", ("visits.check_out", "POST"): "bob",
    ("visits.confirm", "POST"): "alice", ("visits.cancel", "POST"): "alice", ("visits.dispute", "POST"): "alice",
    ("visits.move", "POST"): "alice", ("visits.schedule_one_off", "POST"): "alice",
    # The member is in the body: a coordinator grants only to their own centre's members.
    ("api.grant", "POST"): "cora", ("ledger.grant", "POST"): "cora",
    # A grant request is for a member of the coordinator's centre (in the body, or the request's).
    ("api.grant_request_create", "POST"): "cora", ("api.grant_request_decide", "POST"): "cora",
}

# Routes naming an object of the whole co-op that only coordinators may act on: the general
# assembly is the co-op's, so a coordinator of any centre may run its door and its count.
COORDINATOR_ROUTES = {
    ("api.assembly_show", "GET"), ("api.assembly_attendance", "POST"), ("api.assembly_close", "POST"),
    ("api.assembly_minutes", "GET"), ("api.assembly_motion", "POST"), ("api.assembly_officers", "POST"),
    ("api.motion_tally", "POST"),
}

# Forms that show a refusal under the field that named the object (400), as they would for
# a mistyped number, rather than on an error page: what they must say.
REFUSED_ON_THE_FORM = {("ledger.grant", "POST"): "That member does not exist."}

# Routes naming an object that every member may use, and why.
ANY_MEMBER = {
    ("auth.member", "GET"): "profiles are shown to every member",
    ("api.get_member", "GET"): "profiles are shown to every member",
    ("posts.respond", "POST"): "answering someone else's post is the point",
    ("api.respond", "POST"): "answering someone else's post is the point",
    ("api.matches", "GET"): "matches are among open posts, which every member sees",
    # The co-op's self-government is every member's: who may vote is the register's rule,
    # checked by the service (tests/test_governance_*.py), not a party's.
    **{route: "proposals and their discussion are the co-op's, open to every member" for route in (
        ("governance.proposal", "GET"), ("governance.proposal_vote", "POST"),
        ("governance.proposal_message", "POST"), ("governance.proposal_receipt", "GET"),
        ("governance.proposal_receipt", "POST"), ("api.proposal_get", "GET"),
        ("api.proposal_vote_create", "POST"), ("api.proposal_messages", "GET"),
        ("api.proposal_message_create", "POST"), ("api.proposal_receipt_check", "POST"))},
    **{route: "an assembly's notice, results and minutes go to every member" for route in (
        ("governance.assembly", "GET"), ("governance.assembly_minutes", "GET"),
        ("governance.assembly_voice", "GET"))},
    **{route: "every member may split the month's pool budget" for route in (
        ("governance.budget", "GET"), ("governance.budget", "POST"), ("api.budget_allocate", "POST"))},
}

# Which exchange and post a route acts on: decisions need a response still waiting.
WAITING = {"exchanges.accept", "exchanges.decline", "exchanges.cancel", "posts.accept", "posts.decline",
           "posts.close", "api.accept", "api.decline", "api.cancel", "api.close_post"}

FORM = {"hours": "1", "extra_minutes": "0", "reason": "It did not happen", "message": "I can help",
        "body": "On my way", "memo": "For the winter", "pin": "2468", "exchange_id": "", "request_token": "t" * 32}
JSON = {"body": "On my way", "minutes": 30, "message": "I can help", "memo": "For the winter"}


def _rules() -> list:
    """Every rule outside the console and static files, read from a fresh app."""
    app = create_app(TestConfig, DATABASE_URL="sqlite://")
    return [rule for rule in app.url_map.iter_rules()
            if not rule.rule.startswith("/console") and rule.endpoint != "static"]


RULES = _rules()
ROUTES = sorted((rule.endpoint, method) for rule in RULES for method in rule.methods - IGNORED_METHODS)
GUARDED = [route for route in ROUTES if route not in PUBLIC]
NAMING_AN_OBJECT = {(rule.endpoint, method) for rule in RULES if rule.arguments
                    for method in rule.methods - IGNORED_METHODS}


def database_state(session) -> dict:
    """Every row of every table: two equal states mean a request changed nothing."""
    session.commit()
    return {table.name: sorted(map(tuple, session.execute(sa.select(table))), key=repr)
            for table in Base.metadata.sorted_tables}


@pytest.fixture
def world(session, centre, make_centre, policy):
    """Bob helps Alice (accepted, with a code Bob made for Alice to redeem); Bob's answer to
    Alice's second need waits for her; Bob visits Rita, a resident with a card, and checked in;
    the pool holds time. Carol is a neighbour in none of it; Dave coordinates another centre;
    Cora coordinates theirs. Written in one transaction: this runs before every test here."""
    elsewhere = make_centre("Distant Centre", neighbourhoods="Far-dong")

    def member(name, role=Role.MEMBER, centre_id=centre.id):
        return create_member(session, name=name, email=f"{name.split()[0].lower()}@example.org",
                             password=PASSWORD, role=role, centre_id=centre_id)

    def exchange(provider, receiver, accepted=True):
        need = posts.create_post(session, receiver, kind="need", category="meals", title="Lunch together",
                                 description="", minutes=60, policy=policy)
        made = exchanges.respond(session, provider, need.id)
        return exchanges.accept(session, receiver, made.id) if accepted else made

    alice, bob, carol = member("Alice Owner"), member("Bob Carer"), member("Carol Neighbour")
    cora = member("Cora Coordinator", Role.COORDINATOR)
    dave = member("Dave Faraway", Role.COORDINATOR, elsewhere.id)
    accepted, waiting = exchange(bob, alice), exchange(bob, alice, accepted=False)
    code, token = confirmations.make_code(session, bob, accepted.id, 60, policy)
    message = messages.write(session, bob, accepted.id, "I will bring soup")
    rita = register_resident(session, cora, name="Rita Resident", consent_note="Signed form")
    visit = exchange(bob, rita)
    issued = cards.issue_card(session, rita, cora)
    checkin = CardCheckin(card_id=issued.card.id, exchange_id=visit.id, carer_id=bob.id, minutes=30,
                          consent=CheckinConsent.COORDINATOR, request_token="r" * 32)
    session.add(checkin)
    erin = member("Erin Earlier")  # Alice helped her once, so Alice has time to give
    ledger.credit_visit(session, alice.id, erin.id, 120, exchange_id=exchange(alice, erin).id,
                        created_by_id=erin.id, policy=policy)
    ledger.donate_to_pool(session, alice, 120, "", policy)
    plan = CarePlan(exchange_id=accepted.id, rrule="FREQ=WEEKLY;BYDAY=MO", starts_at=utcnow() + timedelta(days=7),
                    minutes=60, until=(utcnow() + timedelta(days=60)).date(), proposed_by_id=bob.id)
    # A visit about to begin: the carer may check in (from an hour before).
    visit_soon = Visit(exchange_id=accepted.id, starts_at=utcnow() + timedelta(minutes=10), minutes=60)
    session.add_all([plan, visit_soon])
    passkey = Passkey(member_id=alice.id, credential_id=os.urandom(32), public_key=b"k", user_handle=os.urandom(32),
                      name="Alice's phone")
    session.add(passkey)
    phone = push.subscribe(session, alice, "https://push.example.org/send/alice", *push_keys())
    proposal = proposals.create_proposal(session, alice, title="Meet on Thursdays?", body="", options=None,
                                         closes_at=utcnow() + timedelta(days=3), secret=False, kind="member")
    assembly = assemblies.call_assembly(session, cora, title="Annual meeting",
                                        held_at=utcnow() + timedelta(days=14))
    motion = assemblies.add_motion(session, cora, assembly.id, title="Accept the accounts")
    grant_request = pool.request_grant(session, cora, alice.id, 900, "For the winter", "meals", policy)
    told = session.scalar(sa.select(Notification.id).where(Notification.member_id == alice.id)
                          .order_by(Notification.id))
    session.commit()
    return SimpleNamespace(alice=alice, bob=bob, cora=cora, carol=carol, dave=dave, accepted=accepted,
                           waiting=waiting, code=code, token=token, checkin=checkin, card_token=issued.token,
                           message=message, notification_id=told, push_subscription=phone, plan=plan,
                           visit=visit_soon, passkey=passkey, proposal=proposal, assembly=assembly,
                           motion=motion, grant_request=grant_request)


def push_keys() -> tuple[str, str]:
    """A browser's subscription keys: a real P-256 point and a 16-byte auth secret, base64url."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64(point), b64(os.urandom(16))


def build_url(app, endpoint: str, world) -> str:
    rule = next(r for r in RULES if r.endpoint == endpoint)
    exchange = world.waiting if endpoint in WAITING else world.accepted
    known = {"exchange_id": exchange.id, "post_id": exchange.post_id, "code_id": world.code.id,
             "checkin_id": world.checkin.id, "member_id": world.alice.id, "text": world.token,
             "token": world.card_token, "message_id": world.message.id,
             "notification_id": world.notification_id, "subscription_id": world.push_subscription.id,
             "plan_id": world.plan.id, "visit_id": world.visit.id, "passkey_id": world.passkey.id,
             "proposal_id": world.proposal.id, "assembly_id": world.assembly.id, "motion_id": world.motion.id,
             "request_id": world.grant_request.id}
    with app.test_request_context():
        return url_for(endpoint, **{name: known[name] for name in rule.arguments})


def call(client, app, world, endpoint: str, method: str):
    """The route, asked the way its page or the PWA would, with what a real request sends."""
    url = build_url(app, endpoint, world)
    if url.startswith("/api/"):
        payload = {**JSON, "code": world.token, "to_member_id": world.alice.id, "member_id": world.alice.id}
        return client.open(url, method=method, json=payload if method != "GET" else None)
    data = {**FORM, "code": world.token, "to_member_id": str(world.alice.id)}
    return client.open(url, method=method, data=data if method != "GET" else None)


def test_every_route_naming_an_object_is_classified():
    """A new route with an id or a token in its URL must say who may use it."""
    unclassified = NAMING_AN_OBJECT - PUBLIC - set(PARTY_ROUTES) - set(ANY_MEMBER) - COORDINATOR_ROUTES
    assert not unclassified
    assert set(PARTY_ROUTES) | set(ANY_MEMBER) | PUBLIC | COORDINATOR_ROUTES <= set(ROUTES)  # no stale entries


def asks_to_log_in(response) -> bool:
    """A redirect to the login page (pages), or 401 "unauthorized" (API)."""
    if response.is_json:
        return response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    return response.status_code == 302 and response.location.startswith("/login?next=")


@pytest.mark.parametrize("endpoint, method", GUARDED)
def test_a_visitor_is_asked_to_log_in(app, client, session, world, endpoint, method):
    before = database_state(session)
    response = call(client, app, world, endpoint, method)
    assert asks_to_log_in(response), (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json == endpoint.startswith("api.")
    assert database_state(session) == before


@pytest.mark.parametrize("endpoint, method", sorted(PUBLIC))
def test_public_routes_answer_a_visitor(app, client, world, endpoint, method):
    response = call(client, app, world, endpoint, method)
    assert not asks_to_log_in(response), response.status_code
    assert response.status_code < 500


@pytest.mark.parametrize("actor", ["carol", "dave"])
@pytest.mark.parametrize("endpoint, method", sorted(PARTY_ROUTES))
def test_someone_else_is_refused_and_nothing_changes(app, session, world, actor, endpoint, method):
    client = logged_in(app, getattr(world, actor))
    before = database_state(session)

    response = call(client, app, world, endpoint, method)

    if (endpoint, method) in REFUSED_ON_THE_FORM and response.status_code == 400:
        assert REFUSED_ON_THE_FORM[endpoint, method] in response.get_data(as_text=True)
    else:
        assert response.status_code in (403, 404), (response.status_code, response.get_data(as_text=True)[:300])
    assert database_state(session) == before


@pytest.mark.parametrize("endpoint, method", sorted(PARTY_ROUTES))
def test_the_rightful_party_passes_the_same_route(app, world, endpoint, method):
    client = logged_in(app, getattr(world, PARTY_ROUTES[endpoint, method]))
    response = call(client, app, world, endpoint, method)
    assert response.status_code not in (401, 403, 404), response.get_data(as_text=True)[:300]
    assert response.status_code < 500


@pytest.mark.parametrize("endpoint, method", sorted(COORDINATOR_ROUTES))
def test_a_member_is_refused_what_only_coordinators_do_and_nothing_changes(app, session, world, endpoint, method):
    client = logged_in(app, world.carol)
    before = database_state(session)

    response = call(client, app, world, endpoint, method)

    assert response.status_code == 403, (response.status_code, response.get_data(as_text=True)[:300])
    assert database_state(session) == before


@pytest.mark.parametrize("actor", ["cora", "dave"])
@pytest.mark.parametrize("endpoint, method", sorted(COORDINATOR_ROUTES))
def test_a_coordinator_of_any_centre_passes_the_co_ops_routes(app, world, actor, endpoint, method):
    response = call(logged_in(app, getattr(world, actor)), app, world, endpoint, method)
    assert response.status_code not in (401, 403, 404), response.get_data(as_text=True)[:300]
    assert response.status_code < 500
