"""The coordinator console's member pages: registering residents without email or phone,
editing them, vetting carers, and posting and answering for them — each act in the audit log
as "done by coordinator X for member Y"."""
import pytest
import sqlalchemy as sa
from conftest import PASSWORD, logged_in

from carebank.audit import services as audit
from carebank.audit.models import AuditEntry
from carebank.centres.models import Centre
from carebank.core.errors import NotAllowed, NotFound
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.members import on_behalf
from carebank.members.models import Member, Role, VettingStatus
from carebank.members.services import register_resident
from carebank.posts.models import Post, PostStatus


@pytest.fixture
def resident(session, coordinator):
    """A resident the coordinator registered: no email, no password, consent recorded."""
    member = register_resident(session, coordinator, name="Kim Young-ja", consent_note="Signed paper form",
                               neighbourhood="Hyoja-dong", locale="ko")
    session.commit()
    return member


def entries_for(session, member, action):
    session.commit()
    return [e for e in audit.entries(session, member_id=member.id) if e.action == action]


def count_members(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Member))


def test_coordinator_registers_resident_without_email_or_phone(console, coordinator, session, centre):
    response = console.post("/console/members/new", data={
        "name": "Kim Young-ja", "neighbourhood": "Hyoja-dong", "phone": "", "locale": "ko",
        "languages": "Korean", "offers_text": "Kimchi lessons", "consent_note": "Signed paper form"})
    assert response.status_code == 302
    session.commit()
    resident = session.scalar(sa.select(Member).where(Member.name == "Kim Young-ja"))
    assert response.location == f"/console/members/{resident.id}"
    assert (resident.email, resident.password_hash, resident.phone) == (None, None, None)
    assert resident.centre_id == centre.id and resident.registered_by_id == coordinator.id
    assert resident.consent_note == "Signed paper form" and resident.consent_at is not None
    page = console.get(response.location).get_data(as_text=True)
    assert f"member number {resident.number}" in page and "Print their card" in page
    [entry] = entries_for(session, resident, "member.register")
    assert entry.actor_id == coordinator.id


def test_registering_without_consent_rerenders_and_creates_nothing(console, session, coordinator):
    before = count_members(session)
    response = console.post("/console/members/new", data={"name": "Kim Young-ja", "locale": "ko",
                                                          "consent_note": "  "})
    assert response.status_code == 400
    assert "Record how the resident gave their consent" in response.get_data(as_text=True)
    assert count_members(session) == before


def test_new_resident_form_suggests_the_centres_first_neighbourhood(console):
    page = console.get("/console/members/new").get_data(as_text=True)
    assert 'value="Hyoja-dong"' in page


def test_audit_log_says_what_was_done_by_whom_for_whom(console, resident):
    page = console.get("/console/audit").get_data(as_text=True)
    assert "Han Mi-gyeong registered Kim Young-ja" in page and "Signed paper form" in page


def test_member_list_searches_by_name_number_and_phone(console, resident, make_member):
    make_member("Park Chul-soo", phone="010-5555-1234")
    by_name = console.get("/console/members?q=young").get_data(as_text=True)
    assert "Kim Young-ja" in by_name and "Park Chul-soo" not in by_name
    by_number = console.get(f"/console/members?q={resident.number}").get_data(as_text=True)
    assert "Kim Young-ja" in by_number and "Park Chul-soo" not in by_number
    by_phone = console.get("/console/members?q=5555").get_data(as_text=True)
    assert "Park Chul-soo" in by_phone and "Kim Young-ja" not in by_phone


def test_member_list_filters_residents_without_login(console, resident, make_member):
    make_member("Park Chul-soo")
    page = console.get("/console/members?show=no_login").get_data(as_text=True)
    assert "Kim Young-ja" in page and "Park Chul-soo" not in page
    assert console.get("/console/members?show=nonsense").status_code == 400


def test_coordinator_edits_member_profile(console, resident, session):
    response = console.post(f"/console/members/{resident.id}/edit", data={
        "name": "Kim Young-ja", "neighbourhood": "Hyoja-dong", "phone": "010-1234-5678", "locale": "en",
        "languages": "Korean", "offers_text": ""})
    assert response.status_code == 302
    session.refresh(resident)
    assert (resident.phone, resident.locale) == ("010-1234-5678", "en")
    [entry] = entries_for(session, resident, "member.edit")
    assert "phone" in entry.reason and "name" not in entry.reason


def test_edit_with_bad_phone_is_refused(console, resident, session):
    response = console.post(f"/console/members/{resident.id}/edit", data={
        "name": "Kim Young-ja", "phone": "call me", "locale": "ko"})
    assert response.status_code == 400
    session.refresh(resident)
    assert resident.phone is None and not entries_for(session, resident, "member.edit")


def test_vetting_badge_appears_on_profile_and_offers(app, console, coordinator, make_member, make_post, session):
    carer = make_member("Choi Su-min")
    response = console.post(f"/console/members/{carer.id}/vetting", data={"status": "verified",
                                                                        "note": "References checked"})
    assert response.status_code == 302
    session.refresh(carer)
    assert carer.vetting is VettingStatus.VERIFIED and carer.vetted_by_id == coordinator.id
    assert carer.vetted_at is not None
    make_post(carer, kind="offer", title="Walks in the park")
    make_post(carer, kind="need", title="Help with my laptop")
    viewer = logged_in(app, make_member("Neighbour"))
    assert "Verified by the centre on" in viewer.get(f"/members/{carer.id}").get_data(as_text=True)
    browse = viewer.get("/posts/").get_data(as_text=True)
    offer_card, need_card = browse.split("Walks in the park")[1], browse.split("Help with my laptop")[1]
    assert "Verified by the centre on" in offer_card.split("</li>")[0]
    assert "Verified by the centre on" not in need_card.split("</li>")[0]
    [entry] = entries_for(session, carer, "member.vetting")
    assert "Han Mi-gyeong set the carer check of Choi Su-min to “Verified by the centre”" in \
        console.get("/console/audit").get_data(as_text=True)
    assert entry.reason.endswith("References checked")


def test_unverified_member_shows_no_badge(app, make_member):
    carer = make_member("Choi Su-min")
    viewer = logged_in(app, make_member("Neighbour"))
    assert "Verified by the centre" not in viewer.get(f"/members/{carer.id}").get_data(as_text=True)


def test_suspending_a_carer_needs_a_reason(console, make_member, session):
    carer = make_member("Choi Su-min")
    response = console.post(f"/console/members/{carer.id}/vetting", data={"status": "suspended", "note": ""})
    assert response.status_code == 400 and "Please give the reason" in response.get_data(as_text=True)
    session.refresh(carer)
    assert carer.vetting is VettingStatus.UNVERIFIED


def test_coordinator_cannot_vet_themselves(console, coordinator, session):
    response = console.post(f"/console/members/{coordinator.id}/vetting", data={"status": "verified"})
    assert response.status_code == 403
    session.refresh(coordinator)
    assert coordinator.vetting is VettingStatus.UNVERIFIED


def test_coordinator_posts_for_a_member(console, coordinator, resident, session):
    response = console.post(f"/console/members/{resident.id}/posts/new", data={
        "kind": "need", "category": "meals", "title": "Lunch on Tuesdays", "hours": 1, "extra_minutes": 30,
        "neighbourhood": "Hyoja-dong"})
    assert response.status_code == 302
    session.commit()
    post = session.scalar(sa.select(Post).where(Post.title == "Lunch on Tuesdays"))
    assert (post.member_id, post.created_by_id, post.minutes) == (resident.id, coordinator.id, 90)
    [entry] = entries_for(session, resident, "post.create")
    assert (entry.actor_id, entry.post_id) == (coordinator.id, post.id)


def test_post_for_member_with_bad_input_is_refused(console, resident, session):
    response = console.post(f"/console/members/{resident.id}/posts/new", data={
        "kind": "need", "category": "meals", "title": "", "hours": 1, "extra_minutes": 0})
    assert response.status_code == 400
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_coordinator_responds_to_a_match_for_a_member(console, coordinator, resident, make_member,
                                                      make_post, session):
    carer = make_member("Choi Su-min")
    offer = make_post(carer, kind="offer", category="meals", title="Cooking together")
    make_post(resident, kind="need", category="meals", title="Lunch on Tuesdays")
    hub = console.get(f"/console/members/{resident.id}").get_data(as_text=True)
    assert "Cooking together" in hub and f"/console/members/{resident.id}/posts/{offer.id}/respond" in hub
    response = console.post(f"/console/members/{resident.id}/posts/{offer.id}/respond")
    assert response.status_code == 302
    session.commit()
    exchange = session.scalar(sa.select(Exchange).where(Exchange.post_id == offer.id))
    assert (exchange.responder_id, exchange.receiver_id, exchange.provider_id) == (resident.id, resident.id, carer.id)
    [entry] = entries_for(session, resident, "exchange.respond")
    assert (entry.actor_id, entry.exchange_id) == (coordinator.id, exchange.id)


def test_coordinator_accepts_a_response_for_a_member(console, coordinator, resident, make_member,
                                                     make_post, session):
    need = make_post(resident, kind="need", title="Lunch on Tuesdays")
    carer = make_member("Choi Su-min")
    exchange = exchanges.respond(session, carer, need.id, "I can cook")
    session.commit()
    hub = console.get(f"/console/members/{resident.id}").get_data(as_text=True)
    assert "I can cook" in hub
    response = console.post(f"/console/members/{resident.id}/exchanges/{exchange.id}/accept")
    assert response.status_code == 302
    session.refresh(exchange)
    assert exchange.status is ExchangeStatus.ACCEPTED
    [entry] = entries_for(session, resident, "exchange.accept")
    assert entry.actor_id == coordinator.id
    again = console.post(f"/console/members/{resident.id}/exchanges/{exchange.id}/accept", follow_redirects=True)
    assert "already been answered" in again.get_data(as_text=True)


def test_coordinator_declines_a_response_for_a_member(console, resident, make_member, make_post, session):
    need = make_post(resident, kind="need")
    exchange = exchanges.respond(session, make_member("Choi Su-min"), need.id)
    session.commit()
    assert console.post(f"/console/members/{resident.id}/exchanges/{exchange.id}/decline").status_code == 302
    session.refresh(exchange)
    assert exchange.status is ExchangeStatus.DECLINED
    assert entries_for(session, resident, "exchange.decline")


def test_accepting_for_a_member_who_did_not_post_is_refused(console, resident, make_member, make_exchange, session):
    exchange = make_exchange(accepted=False)
    response = console.post(f"/console/members/{resident.id}/exchanges/{exchange.id}/accept")
    assert response.status_code == 403
    session.refresh(exchange)
    assert exchange.status is ExchangeStatus.PROPOSED


def test_deactivating_a_member_stops_login_and_closes_posts(app, console, make_member, make_post, session):
    member = make_member("Park Chul-soo")
    post = make_post(member)
    response = console.post(f"/console/members/{member.id}/deactivate", data={"reason": "Moved away"})
    assert response.status_code == 302
    session.commit()
    session.refresh(member)
    session.refresh(post)
    assert member.deactivated_at is not None and post.status is PostStatus.CLOSED
    login = app.test_client().post("/api/v1/session", json={"email": member.email, "password": PASSWORD})
    assert login.status_code != 200
    [entry] = entries_for(session, member, "member.deactivate")
    assert entry.reason == "Moved away"
    assert console.post(f"/console/members/{member.id}/reactivate").status_code == 302
    session.refresh(member)
    assert member.is_active and entries_for(session, member, "member.reactivate")


def test_coordinator_cannot_deactivate_themselves(console, coordinator, session):
    assert console.post(f"/console/members/{coordinator.id}/deactivate", data={}).status_code == 403
    session.refresh(coordinator)
    assert coordinator.is_active


def test_acting_for_a_member_of_another_centre_is_not_found(session, coordinator, make_centre, make_member, policy):
    elsewhere = make_member("Elsewhere", centre_id=make_centre("Other Centre").id)
    with pytest.raises(NotFound):
        on_behalf.post_for(session, coordinator, elsewhere, kind="need", category="meals", title="x",
                           minutes=30, policy=policy)
    with pytest.raises(NotFound):
        on_behalf.set_vetting(session, coordinator, elsewhere, "verified")


def test_plain_member_cannot_act_for_others(session, make_member):
    member, other = make_member("Plain"), make_member("Other")
    with pytest.raises(NotAllowed):
        on_behalf.update_member(session, member, other, name="Changed")
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_admin_creates_a_centre_and_moves_a_member(app, make_member, session):
    admin = make_member("Admin Kang", role=Role.ADMIN)
    client = logged_in(app, admin)
    response = client.post("/console/centres/new", data={"name": "Mapo Centre", "neighbourhoods": "Mapo-dong\nAhyeon"})
    assert response.status_code == 302
    page = client.get("/console/centres").get_data(as_text=True)
    assert "Mapo Centre" in page and "Mapo-dong, Ahyeon" in page
    session.commit()
    mapo = session.scalar(sa.select(Centre).where(Centre.name == "Mapo Centre"))
    worker = make_member("Yoon Hee")
    response = client.post("/console/centres/membership", data={
        "member_number": worker.number, "centre_id": mapo.id, "role": "coordinator"})
    assert response.status_code == 302
    session.refresh(worker)
    assert (worker.centre_id, worker.role) == (mapo.id, Role.COORDINATOR)
    assert entries_for(session, worker, "member.role")
    actions = {e.action for e in audit.entries(session)}
    assert {"centre.create", "member.role"} <= actions


def test_admin_cannot_change_their_own_role(app, make_member, session, centre):
    admin = make_member("Admin Kang", role=Role.ADMIN)
    client = logged_in(app, admin)
    response = client.post("/console/centres/membership", data={
        "member_number": admin.id, "centre_id": centre.id, "role": "member"})
    assert response.status_code == 400
    session.refresh(admin)
    assert admin.role is Role.ADMIN


def test_plain_coordinator_cannot_manage_centres(console, centre):
    assert console.get("/console/centres").status_code == 403
    assert console.post("/console/centres/new", data={"name": "Mine"}).status_code == 403
    assert console.get(f"/console/centres/{centre.id}/edit").status_code == 403
