"""Who may use the coordinator console, checked on EVERY /console route in the URL map (so
routes added later are covered too): visitors are sent to log in, members are refused, and a
coordinator of another centre finds none of its members, exchanges, transactions, check-ins
or disputes, and never sees that centre's members' names."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import logged_in
from flask import url_for
from werkzeug.routing import IntegerConverter

from carebank.audit.models import AuditEntry
from carebank.cards import services as cards
from carebank.centres import services as centre_rules
from carebank.checkins.models import CardCheckin, CheckinConsent
from carebank.core.database import utcnow
from carebank.disputes.models import Dispute
from carebank.governance import pool, voice
from carebank.ledger import services as ledger
from carebank.members.models import Role
from carebank.members.services import register_resident
from carebank.visits.models import Visit, VisitStatus
from config import TestConfig

# Names only the other centre's people carry: none may appear on our coordinator's pages.
FOREIGN_NAMES = ("Otherside", "Quentin Faraway")
OBJECT_ARGUMENTS = {"member_id", "exchange_id", "transaction_id", "checkin_id", "dispute_id",
                    "post_id", "card_id", "centre_id", "code_id", "visit_id", "neighbourhood_id",
                    # A centre's own part of the co-op: its grant requests and its members' seats.
                    # (Assemblies and proposals are the whole co-op's, run by any centre.)
                    "request_id", "seat_id"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _console_routes() -> list[tuple[str, str]]:
    """(endpoint, method) for every console route; the URL map is read from a fresh app."""
    from carebank import create_app

    app = create_app(TestConfig, DATABASE_URL="sqlite://")
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/console")
        for method in rule.methods - IGNORED_METHODS
    )


ROUTES = _console_routes()


@pytest.fixture
def elsewhere(session, make_centre, make_member, make_exchange, policy):
    """Another centre with a coordinator, a resident registered by them (audited), a member
    with a login, an accepted exchange between the two, a confirmed visit, a card, a pending
    check-in and an open dispute."""
    centre = make_centre("Distant Centre", neighbourhoods="Far-dong")
    coordinator = make_member("Quentin Faraway", role=Role.COORDINATOR, centre_id=centre.id)
    resident = register_resident(session, coordinator, name="Zelda Otherside", consent_note="Signed form")
    carer = make_member("Yusuf Otherside", centre_id=centre.id)
    session.commit()
    exchange = make_exchange(provider=carer, receiver=resident)
    visit = ledger.credit_visit(session, carer.id, resident.id, 60, exchange_id=exchange.id,
                                created_by_id=coordinator.id, policy=policy)
    card = cards.issue_card(session, resident, coordinator).card
    checkin = CardCheckin(card_id=card.id, exchange_id=exchange.id, carer_id=carer.id, minutes=30,
                          consent=CheckinConsent.COORDINATOR, request_token="t" * 32)
    dispute = Dispute(exchange_id=exchange.id, raised_by_id=resident.id, reason="Never came")
    started = utcnow() - timedelta(hours=3)  # checked in, never out: on that centre's board
    overdue = Visit(exchange_id=exchange.id, starts_at=started, minutes=60, status=VisitStatus.CHECKED_IN,
                    checked_in_at=started, overdue_alerted_at=started + timedelta(minutes=90))
    session.add_all([checkin, dispute, overdue])
    grant_request = pool.request_grant(session, coordinator, resident.id, 900, "Winter", "meals", policy)
    seat = voice.add_seat(session, coordinator, resident.id, "board", utcnow().date())
    session.commit()
    return {
        "member_id": resident.id, "exchange_id": exchange.id, "transaction_id": visit.id,
        "checkin_id": checkin.id, "dispute_id": dispute.id, "post_id": exchange.post_id,
        "card_id": card.id, "centre_id": centre.id, "visit_id": overdue.id,
        "neighbourhood_id": centre_rules.neighbourhood_list(session, centre.id)[0].id,
        "request_id": grant_request.id, "seat_id": seat.id,
    }


def build_url(app, endpoint: str, ids: dict) -> tuple[str, bool]:
    """The route's URL with the other centre's objects, and whether it names an object."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {}
    for name in rule.arguments:
        if name in ids:
            values[name] = ids[name]
        elif isinstance(rule._converters[name], IntegerConverter):
            values[name] = ids["member_id"]
        else:
            values[name] = "members"  # e.g. a report table's name
    with app.test_request_context():
        return url_for(endpoint, **values), bool(set(rule.arguments) & OBJECT_ARGUMENTS)


def call(client, method: str, url: str):
    return client.open(url, method=method, data={})


def audit_entries_by(session, actor) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).where(AuditEntry.actor_id == actor.id))


@pytest.mark.parametrize("endpoint, method", ROUTES)
def test_visitor_is_sent_to_log_in(app, client, elsewhere, endpoint, method):
    url, _ = build_url(app, endpoint, elsewhere)
    response = call(client, method, url)
    assert response.status_code in (302, 401), (url, response.status_code)
    if response.status_code == 302:
        assert "/login" in response.location


@pytest.mark.parametrize("endpoint, method", ROUTES)
def test_plain_member_is_refused(app, make_member, elsewhere, endpoint, method):
    url, _ = build_url(app, endpoint, elsewhere)
    response = call(logged_in(app, make_member("Plain Member")), method, url)
    assert response.status_code == 403, (url, response.status_code)


@pytest.mark.parametrize("endpoint, method", ROUTES)
def test_coordinator_of_other_centre_finds_nothing_of_it(app, session, make_member, elsewhere, endpoint, method):
    ours = make_member("Bora Homebody", role=Role.COORDINATOR)
    make_member("Minho Homebody")
    url, names_object = build_url(app, endpoint, elsewhere)
    response = call(logged_in(app, ours), method, url)
    body = response.get_data(as_text=True) if response.mimetype.startswith("text") else ""
    if names_object:
        assert response.status_code in (403, 404), (url, response.status_code)
    else:
        assert response.status_code < 500, (url, response.status_code)
    leaked = [name for name in FOREIGN_NAMES if name in body]
    assert not leaked, (url, leaked)
    if names_object:
        assert audit_entries_by(session, ours) == 0, url  # refused, so nothing was done


def test_console_pages_list_only_our_centre(app, make_member, elsewhere):
    ours = make_member("Bora Homebody", role=Role.COORDINATOR)
    make_member("Minho Homebody")
    page = logged_in(app, ours).get("/console/members").get_data(as_text=True)
    assert "Minho Homebody" in page and "Otherside" not in page


def test_admin_sees_every_centre(app, make_member, elsewhere):
    admin = logged_in(app, make_member("Admin Kang", role=Role.ADMIN))
    assert "Zelda Otherside" in admin.get("/console/members").get_data(as_text=True)
    assert admin.get(f"/console/members/{elsewhere['member_id']}").status_code == 200
