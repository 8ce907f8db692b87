"""Notifications: each event a member must hear about writes its notification in the same
transaction as the change (nothing when the change is refused), the inbox shows it in the
reader's language, and only its member can read or mark it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import logged_in

from carebank.cards import services as cards
from carebank.checkins import services as checkins
from carebank.core.errors import InsufficientBalance
from carebank.disputes import services as disputes
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.members.models import Role
from carebank.notifications.models import Notification


def kinds_of(session, member) -> list[str]:
    session.commit()
    return list(session.scalars(sa.select(Notification.kind).where(Notification.member_id == member.id)
                                .order_by(Notification.id)))


@pytest.fixture
def owner(make_member):
    return make_member("김순자", locale="ko")


@pytest.fixture
def helper(make_member):
    return make_member("Park Min-su")


# ---- events ----------------------------------------------------------------------------------


def test_a_response_tells_the_owner_and_accepting_tells_the_responder(session, owner, helper, make_post):
    need = make_post(owner, title="Escort to the hospital")
    exchange = exchanges.respond(session, helper, need.id)
    session.commit()
    assert kinds_of(session, owner) == ["response_received"]

    exchanges.accept(session, owner, exchange.id)
    session.commit()
    assert kinds_of(session, helper) == ["response_accepted"]


def test_declining_and_cancelling_tell_the_other_party(session, owner, helper, make_member, make_post):
    need = make_post(owner)
    first = exchanges.respond(session, helper, need.id)
    exchanges.decline(session, owner, first.id)
    other = make_member("Lee")
    second = exchanges.respond(session, other, need.id)
    exchanges.accept(session, owner, second.id)
    exchanges.cancel(session, other, second.id)
    session.commit()
    assert kinds_of(session, helper) == ["response_declined"]
    assert kinds_of(session, owner) == ["response_received", "response_received", "exchange_cancelled"]


def test_a_refused_change_leaves_no_notification(session, owner, helper, make_post, policy):
    need = make_post(owner)
    exchanges.respond(session, helper, need.id)
    session.rollback()  # the request failed after the service ran: nothing of it stays
    assert kinds_of(session, owner) == []

    with pytest.raises(InsufficientBalance):
        ledger.gift(session, helper, owner.id, -policy.min_balance_minutes + 60, "", policy)
    session.rollback()
    assert kinds_of(session, owner) == []


def test_a_confirmed_visit_tells_both_with_the_minutes(session, make_exchange, policy):
    exchange = make_exchange(minutes=90)
    ledger.credit_visit(session, exchange.provider_id, exchange.receiver_id, 90,
                        exchange_id=exchange.id, created_by_id=exchange.receiver_id, policy=policy)
    session.commit()
    assert kinds_of(session, exchange.provider)[-1] == "visit_credited"
    assert kinds_of(session, exchange.receiver)[-1] == "visit_debited"


def test_gifts_grants_and_reversals_tell_the_members_whose_time_moved(session, owner, helper, policy,
                                                                      coordinator, earn):
    earn(helper, 150)
    earned = len(kinds_of(session, helper))  # the news of the visit that earned them
    ledger.donate_to_pool(session, helper, 120, "", policy)
    gift = ledger.gift(session, helper, owner.id, 30, "thanks", policy)
    ledger.grant_from_pool(session, coordinator, owner.id, 60, "Winter heating help", policy)
    ledger.reverse(session, coordinator, gift.id, "Sent by mistake")
    session.commit()
    assert kinds_of(session, owner) == ["gift_received", "grant_received", "transaction_reversed"]
    assert kinds_of(session, helper)[earned:] == ["transaction_reversed"]


def test_a_problem_reported_tells_the_other_party_and_the_centre_and_its_settling_both(
        session, make_exchange, coordinator, policy):
    exchange = make_exchange()
    dispute = disputes.raise_dispute(session, exchange.receiver, exchange.id, "He never came")
    session.commit()
    assert kinds_of(session, exchange.provider) == ["response_accepted", "dispute_opened"]
    assert kinds_of(session, coordinator) == ["dispute_opened"]

    disputes.settle(session, coordinator, dispute.id, "dismiss", "Called both: it was a misunderstanding.",
                    policy=policy)
    session.commit()
    assert kinds_of(session, exchange.provider)[-1] == "dispute_settled"
    assert kinds_of(session, exchange.receiver)[-1] == "dispute_settled"


def test_a_card_check_in_waiting_for_approval_tells_the_centre(session, make_member, make_exchange,
                                                               coordinator, policy):
    resident = make_member("Kim Young-ja")
    carer = make_member("Carer Choi")
    exchange = make_exchange(carer, resident)
    issued = cards.issue_card(session, resident, None)
    checkins.request_approval(session, carer, issued.card, exchange.id, 60, "a-request-token-of-the-form-0001", policy=policy)
    checkins.request_approval(session, carer, issued.card, exchange.id, 60, "a-request-token-of-the-form-0001", policy=policy)
    session.commit()
    assert kinds_of(session, coordinator) == ["checkin_waiting"]  # the replay tells no one again


def test_an_inactive_coordinator_is_not_told(session, make_exchange, make_member):
    away = make_member("Away", role=Role.COORDINATOR)
    away.deactivated_at = sa.func.now()
    session.commit()
    exchange = make_exchange()
    disputes.raise_dispute(session, exchange.receiver, exchange.id, "No show")
    session.commit()
    assert kinds_of(session, away) == []


# ---- the inbox -------------------------------------------------------------------------------


def test_the_inbox_shows_it_in_the_readers_language_and_the_header_counts_it(app, session, owner,
                                                                             helper, make_post):
    need = make_post(owner, title="병원 동행")
    exchanges.respond(session, helper, need.id)
    session.commit()
    phone = logged_in(app, owner)
    page = phone.get("/notifications/", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "새 응답이 있어요" in page and "Park Min-su 님이 “병원 동행”에 응답했어요." in page
    assert 'data-unread="1"' in page


def test_the_title_names_no_health_detail(app, session, owner, helper, make_post):
    need = make_post(owner, title="Dialysis escort")
    exchanges.respond(session, helper, need.id)
    session.commit()
    found = logged_in(app, owner).get("/api/v1/notifications").get_json()["notifications"][0]
    assert "Dialysis" not in found["title"] and "Dialysis escort" in found["body"]


def test_the_api_lists_newest_first_and_marks_read_only_the_members_own(app, session, owner, helper,
                                                                        make_post):
    first, second = make_post(owner, title="One"), make_post(owner, title="Two")
    exchanges.respond(session, helper, first.id)
    exchanges.respond(session, helper, second.id)
    session.commit()
    phone, stranger = logged_in(app, owner), logged_in(app, helper)
    listed = phone.get("/api/v1/notifications?unread=1").get_json()
    assert listed["unread_count"] == 2
    assert [n["body"] for n in listed["notifications"]] == [  # in her language, Korean
        "Park Min-su 님이 “Two”에 응답했어요.", "Park Min-su 님이 “One”에 응답했어요."]
    ids = [n["id"] for n in listed["notifications"]]

    assert stranger.post("/api/v1/notifications/read", json={"ids": ids}).status_code == 204
    assert phone.get("/api/v1/notifications").get_json()["unread_count"] == 2

    assert phone.post("/api/v1/notifications/read", json={"ids": ids[:1]}).status_code == 204
    assert phone.get("/api/v1/notifications?unread=1").get_json()["unread_count"] == 1
    assert phone.post("/api/v1/notifications/read", json={"all": True}).status_code == 204
    after = phone.get("/api/v1/notifications").get_json()
    assert after["unread_count"] == 0 and all(n["read_at"] for n in after["notifications"])


@pytest.mark.parametrize("sent", [{"ids": "1"}, {"ids": [True]}, {"ids": [2**31]}, {}, {"all": "yes"}])
def test_marking_read_with_bad_ids_is_refused_and_changes_nothing(app, session, owner, helper,
                                                                  make_post, sent):
    exchanges.respond(session, helper, make_post(owner).id)
    session.commit()
    phone = logged_in(app, owner)
    refused = phone.post("/api/v1/notifications/read", json=sent)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_input"
    assert phone.get("/api/v1/notifications").get_json()["unread_count"] == 1


def test_opening_one_marks_it_read_and_goes_to_its_page(app, session, owner, helper, make_post):
    exchange = exchanges.respond(session, helper, make_post(owner).id)
    session.commit()
    phone = logged_in(app, owner)
    found = phone.get("/api/v1/notifications").get_json()["notifications"][0]
    opened = phone.post(f"/notifications/{found['id']}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/exchanges/{exchange.id}")
    assert phone.get("/api/v1/notifications").get_json()["unread_count"] == 0

    other = logged_in(app, helper)
    assert other.post(f"/notifications/{found['id']}/open").status_code == 404
    assert other.post(f"/notifications/{2**31}/open").status_code == 404


def test_mark_all_read_on_the_page(app, session, owner, helper, make_post):
    exchanges.respond(session, helper, make_post(owner).id)
    session.commit()
    phone = logged_in(app, owner)
    assert phone.post("/notifications/read").status_code == 302
    assert 'data-unread="0"' in phone.get("/notifications/").get_data(as_text=True)


def test_the_inbox_needs_a_login(client):
    assert client.get("/notifications/").status_code == 302
    assert client.get("/api/v1/notifications").status_code == 401


def test_a_message_tells_the_other_party_without_its_words(app, session, make_exchange):
    from carebank.messages import services as messages

    exchange = make_exchange()
    messages.write(session, exchange.provider, exchange.id, "My knee hurts, I will be late")
    session.commit()
    assert kinds_of(session, exchange.receiver)[-1] == "message_received"
    found = logged_in(app, exchange.receiver).get("/api/v1/notifications").get_json()["notifications"][0]
    assert "knee" not in found["title"] + found["body"]
    assert found["url"] == f"/exchanges/{exchange.id}/messages"


# ---- preferences and quiet hours ---------------------------------------------------------------


def deliveries_of(session, member) -> dict[str, str]:
    from carebank.notifications.models import Delivery

    session.commit()
    rows = session.execute(sa.select(Delivery.channel, Delivery.not_before).join(Notification)
                           .where(Notification.member_id == member.id).order_by(Delivery.id))
    return {channel: not_before for channel, not_before in rows}


def test_by_default_phone_and_email_both_hear_and_a_resident_without_email_is_on_the_call_list(
        session, owner, helper, make_post, coordinator):
    from carebank.members.services import register_resident

    exchanges.respond(session, helper, make_post(owner).id)
    resident = register_resident(session, coordinator, name="Rita", consent_note="Signed form")
    session.commit()
    exchanges.respond(session, helper, make_post(resident).id)
    session.commit()
    assert set(deliveries_of(session, owner)) == {"push", "email"}
    assert set(deliveries_of(session, resident)) == {"push", "call"}


def test_a_member_turns_a_kind_off_for_email_and_sets_quiet_hours(app, session, owner, helper, make_post):
    phone = logged_in(app, owner)
    chosen = phone.get("/api/v1/notification-preferences").get_json()
    assert chosen["email"]["response_received"] is True and chosen["quiet_hours"] == {"start": "21:00", "end": "08:00"}
    changed = phone.put("/api/v1/notification-preferences", json={
        "email": {"response_received": False}, "quiet_hours": {"start": "22:00", "end": "07:30"}})
    assert changed.status_code == 200
    assert changed.get_json()["email"]["response_received"] is False
    assert changed.get_json()["push"]["response_received"] is True
    exchanges.respond(session, helper, make_post(owner).id)
    assert set(deliveries_of(session, owner)) == {"push"}


@pytest.mark.parametrize("sent", [
    [], {"email": {"no_such_kind": True}}, {"push": {"response_received": "yes"}},
    {"quiet_hours": {"start": "25:00", "end": "08:00"}}, {"quiet_hours": "21-8"},
])
def test_bad_preferences_are_refused_and_change_nothing(app, session, owner, sent):
    phone = logged_in(app, owner)
    refused = phone.put("/api/v1/notification-preferences", json=sent)
    assert refused.status_code == 400
    assert phone.get("/api/v1/notification-preferences").get_json()["quiet_hours"]["start"] == "21:00"


def test_the_settings_page_saves_switches_and_quiet_hours(app, session, owner):
    phone = logged_in(app, owner)
    page = phone.get("/notifications/settings", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "알림 설정" in page
    saved = phone.post("/notifications/settings", data={"push-message_received": "on", "quiet_start": "20:00",
                                                        "quiet_end": "09:00"})
    assert saved.status_code == 302
    chosen = phone.get("/api/v1/notification-preferences").get_json()
    assert chosen["push"]["message_received"] is True and chosen["push"]["gift_received"] is False
    assert chosen["quiet_hours"] == {"start": "20:00", "end": "09:00"}
    assert phone.post("/notifications/settings", data={"quiet_start": "late"}).status_code == 400


def test_quiet_hours_hold_what_is_not_urgent_until_the_morning(session, owner):
    from datetime import UTC, datetime

    from carebank.notifications.preferences import hold_until

    late = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)  # 22:30 in Seoul
    assert hold_until(session, owner, late) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 08:00 Seoul
    assert hold_until(session, owner, late, urgent=True) == late
    midday = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
    assert hold_until(session, owner, midday) == midday
    early = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # 06:00 the next morning in Seoul
    assert hold_until(session, owner, early) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


# ---- the centre's call list --------------------------------------------------------------------


@pytest.fixture
def rita(session, coordinator):
    from carebank.members.services import register_resident

    resident = register_resident(session, coordinator, name="Rita Resident", consent_note="Signed form",
                                 phone="010-5555-1234")
    session.commit()
    return resident


def test_the_call_list_shows_what_a_resident_without_email_should_hear_until_ticked_off(
        app, session, rita, helper, make_post, console, make_centre, make_member):
    exchanges.respond(session, helper, make_post(rita, title="Walk to the clinic").id)
    session.commit()
    page = console.get("/console/calls").get_data(as_text=True)
    assert "Rita Resident" in page and "010-5555-1234" in page
    assert "Park Min-su responded to “Walk to the clinic”." in page

    elsewhere = make_member("Dave", role=Role.COORDINATOR, centre_id=make_centre("Far").id)
    other = logged_in(app, elsewhere)
    assert "Rita Resident" not in other.get("/console/calls").get_data(as_text=True)
    assert other.post(f"/console/calls/{rita.id}").status_code == 404
    assert "Rita Resident" in console.get("/console/calls").get_data(as_text=True)  # not theirs to tick

    assert console.post(f"/console/calls/{rita.id}").status_code == 302
    assert "Rita Resident" not in console.get("/console/calls").get_data(as_text=True)


def test_members_with_email_are_not_on_the_call_list(session, owner, helper, make_post, console):
    exchanges.respond(session, helper, make_post(owner).id)
    session.commit()
    assert "김순자" not in console.get("/console/calls").get_data(as_text=True)


def test_an_owner_hears_once_that_their_open_post_ends_in_three_days(session, owner, make_post):
    from datetime import timedelta

    from carebank.core.database import utcnow
    from carebank.notifications.events import posts_expiring

    ending, later = make_post(owner, title="Ending"), make_post(owner, title="Later")
    now = utcnow()
    ending.expires_at = now + timedelta(days=2)
    later.expires_at = now + timedelta(days=10)
    session.commit()
    assert posts_expiring(session, now) == 1
    session.commit()
    assert posts_expiring(session, now + timedelta(hours=1)) == 0  # told once
    assert kinds_of(session, owner) == ["post_expiring"]


# ---- the weekly digest -------------------------------------------------------------------------


def test_the_weekly_digest_names_new_posts_for_my_posts_or_near_me_once(session, make_member, make_post):
    from datetime import timedelta

    from carebank.core.database import utcnow
    from carebank.notifications.digest import weekly_digests

    me = make_member("Kim", neighbourhood="Hyoja-dong")
    make_post(me, kind="need", category="meals", title="My need")
    fits = make_post(make_member("A", neighbourhood="Far-dong"), kind="offer", category="meals", title="Soup")
    near = make_post(make_member("B"), kind="need", category="escort", title="Clinic walk")
    make_post(make_member("C", neighbourhood="Far-dong"), kind="offer", category="escort", title="Unrelated")
    old = make_post(make_member("D"), kind="offer", category="meals", title="Old one")
    old.created_at = utcnow() - timedelta(days=8)
    session.commit()

    weekly_digests(session, utcnow())
    session.commit()
    sent = session.scalar(sa.select(Notification).where(Notification.member_id == me.id,
                                                        Notification.kind == "new_matches"))
    assert sent.params["count"] == 2 and set(sent.params["titles"].split(" · ")) == {fits.title, near.title}

    weekly_digests(session, utcnow() + timedelta(days=7))  # next week: nothing new for Kim
    session.commit()
    assert kinds_of(session, me).count("new_matches") == 1


def test_the_digest_is_mailed_not_pushed_by_default(app, session, owner):
    chosen = logged_in(app, owner).get("/api/v1/notification-preferences").get_json()
    assert chosen["push"]["new_matches"] is False and chosen["email"]["new_matches"] is True


def test_cancelling_care_due_within_a_day_is_urgent_and_later_care_is_not(session, owner, helper, make_post):
    from datetime import timedelta

    from carebank.core.database import utcnow

    def cancelled(starts_in):
        need = make_post(owner, starts_at=utcnow() + starts_in, ends_at=utcnow() + starts_in + timedelta(hours=1))
        exchange = exchanges.respond(session, helper, need.id)
        exchanges.accept(session, owner, exchange.id)
        exchanges.cancel(session, owner, exchange.id)
        session.commit()
        return session.scalar(sa.select(Notification.urgent).where(
            Notification.member_id == helper.id, Notification.kind == "exchange_cancelled")
            .order_by(Notification.id.desc()))

    assert cancelled(timedelta(hours=5)) is True
    assert cancelled(timedelta(days=3)) is False
