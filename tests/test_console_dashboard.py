"""The console dashboard: what needs the centre's attention, counted within the centre only
(an admin counts every centre), as tiles that lead to each area."""
import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import logged_in, statements_sent

from carebank.cards import services as cards
from carebank.cards.models import CardStatus
from carebank.checkins.models import CardCheckin, CheckinConsent, CheckinStatus
from carebank.core.database import utcnow
from carebank.core.errors import NotAllowed
from carebank.dashboard import services as waiting
from carebank.disputes import services as disputes
from carebank.disputes.models import DisputeStatus
from carebank.ledger import services as ledger
from carebank.members.models import Member, Role
from carebank.posts.models import Post


def backdate(session, model, row_id, days):
    session.execute(sa.update(model).where(model.id == row_id)
                    .values(created_at=utcnow() - timedelta(days=days)))
    session.commit()


def checkin(session, exchange, card, status=CheckinStatus.PENDING):
    session.add(CardCheckin(card_id=card.id, exchange_id=exchange.id, carer_id=exchange.provider_id,
                            minutes=60, consent=CheckinConsent.COORDINATOR, status=status,
                            request_token=uuid.uuid4().hex))
    session.commit()


def locked_card(session, member, status=CardStatus.ACTIVE):
    card = cards.issue_card(session, member, None).card
    card.locked_at, card.status = utcnow(), status
    session.commit()
    return card


def centre_activity(session, policy, make_member, make_exchange, make_post, centre_id):
    """In one centre: one waiting exchange with a pending check-in, an open dispute and a
    locked card; things that must not count beside each of them."""
    alice, bora, chul, dami = (make_member(name, centre_id=centre_id) for name in ("Alice", "Bora", "Chul", "Dami"))
    waiting_one = make_exchange(alice, bora)
    confirmed = make_exchange(chul, dami)
    ledger.credit_visit(session, chul.id, dami.id, 60, exchange_id=confirmed.id,
                        created_by_id=dami.id, policy=policy)
    make_exchange(alice, dami, accepted=False)  # proposed: not waiting
    card = locked_card(session, bora)
    checkin(session, waiting_one, card)
    checkin(session, confirmed, cards.issue_card(session, dami, None).card, CheckinStatus.CONFIRMED)
    locked_card(session, chul, CardStatus.BLOCKED)  # a blocked card is not "locked" work
    disputes.raise_dispute(session, bora, waiting_one.id, "Nobody came")
    settled = disputes.raise_dispute(session, dami, confirmed.id, "Too long")
    settled.status = DisputeStatus.DISMISSED
    backdate(session, Post, make_post(bora, kind="need").id, 8)  # unmatched for a week
    backdate(session, Post, make_post(chul, kind="need").id, 3)  # not yet a week
    backdate(session, Post, make_post(dami, kind="offer").id, 8)  # offers are not counted
    backdate(session, Member, make_member("Old member", centre_id=centre_id).id, 10)
    return alice


@pytest.fixture
def known_data(session, policy, centre, make_centre, make_member, make_exchange, make_post):
    coordinator = make_member("Coordinator Kim", role=Role.COORDINATOR)
    centre_activity(session, policy, make_member, make_exchange, make_post, centre.id)
    far = make_centre("Far Centre")
    centre_activity(session, policy, make_member, make_exchange, make_post, far.id)
    admin = make_member("Admin", role=Role.ADMIN, centre_id=far.id)
    return coordinator, admin


def test_dashboard_counts_only_the_coordinators_centre(session, known_data):
    coordinator, _ = known_data
    assert waiting.dashboard_counts(session, coordinator) == waiting.DashboardCounts(
        checkins_pending=1, disputes_open=1, exchanges_waiting=1, needs_unmatched=1,
        new_members=5, cards_locked=1)  # new: the coordinator and four residents


def test_admin_dashboard_counts_every_centre(session, known_data):
    _, admin = known_data
    assert waiting.dashboard_counts(session, admin) == waiting.DashboardCounts(
        checkins_pending=2, disputes_open=2, exchanges_waiting=2, needs_unmatched=2,
        new_members=10, cards_locked=2)


def test_dashboard_page_shows_the_centre_and_tiles_leading_to_each_area(app, known_data):
    coordinator, _ = known_data
    page = logged_in(app, coordinator).get("/console/").get_data(as_text=True)
    assert "<h1>Hyoja Care Centre</h1>" in page

    def tile(label):
        return re.search(r'<span class="tile-count">(\d+)</span> <span class="tile-label">' + label, page)

    assert tile("Problems reported").group(1) == "1"
    assert tile("Exchanges waiting for confirmation").group(1) == "1"
    assert tile("New members this week").group(1) == "5"
    assert 'href="/console/disputes"' in page and 'href="/console/waiting"' in page


def test_a_coordinator_without_a_centre_sees_nothing(app, session, known_data, make_member):
    loner = make_member("Coordinator Alone", role=Role.COORDINATOR, centre_id=None)
    session.execute(sa.update(Member).where(Member.id == loner.id).values(centre_id=None))
    session.commit()
    assert waiting.dashboard_counts(session, loner) == waiting.DashboardCounts(0, 0, 0, 0, 0, 0)
    assert logged_in(app, loner).get("/console/").status_code == 200


def test_dashboard_uses_one_query(app, session, known_data):
    coordinator, _ = known_data
    session.get(Member, coordinator.id)  # loaded, so only the counting is measured
    with statements_sent(session.get_bind()) as statements:
        waiting.dashboard_counts(session, coordinator)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_member_is_refused_and_visitor_sent_to_log_in(app, client, make_member):
    assert logged_in(app, make_member("Plain member")).get("/console/").status_code == 403
    response = client.get("/console/")
    assert response.status_code == 302 and "/login" in response.location


def test_unanswered_responses_are_those_waiting_more_than_48_hours(
        session, coordinator, make_member, make_exchange, make_centre):
    now = utcnow()

    elsewhere = make_centre("Distant Centre")

    def response(hours_ago, accepted=False, **centre):
        made = make_exchange(make_member(**centre), make_member(**centre), accepted=accepted)
        made.created_at = now - timedelta(hours=hours_ago)
        session.commit()
        return made

    old, fresh = response(49), response(47)
    response(60, accepted=True)  # answered
    response(72, centre_id=elsewhere.id)  # another centre's

    assert [e.id for e in waiting.unanswered_responses(session, coordinator, now)] == [old.id]
    assert [e.id for e in waiting.unanswered_responses(session, coordinator, now, hours=46)] == [
        old.id, fresh.id]
    with pytest.raises(NotAllowed):
        waiting.unanswered_responses(session, make_member(), now)


def test_a_response_unanswered_for_two_days_shows_on_the_dashboard_and_the_waiting_page(
        app, session, coordinator, make_member, make_exchange):
    old = make_exchange(make_member("Park"), make_member("Kim"), accepted=False)
    old.created_at = utcnow() - timedelta(hours=49)
    session.commit()
    assert waiting.dashboard_counts(session, coordinator).responses_unanswered == 1
    console = logged_in(app, coordinator)
    assert re.search(r'<span class="tile-count">1</span> <span class="tile-label">Responses unanswered',
                     console.get("/console/").get_data(as_text=True))
    page = console.get("/console/waiting").get_data(as_text=True)
    assert "Responses unanswered for 2 days" in page and old.post.title in page
