"""An exchange that says where it stands: waiting for an answer → agreed → visited (n visits,
the last on a date) → finished, or declined, or cancelled; on the pages, in both languages,
and in the API. Finishing, the one-off need finished by its first visit, "report a problem"
instead of "cancel" after a visit, the card for a member without a phone, the partner's phone."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import logged_in

from carebank.cards import services as cards
from carebank.checkins import services as checkins
from carebank.confirmations import services as confirmations
from carebank.core.database import utcnow
from carebank.core.errors import Conflict
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.members import on_behalf
from carebank.members.models import Member, Role
from carebank.notifications.models import Notification
from carebank.posts import services as posts
from carebank.posts.models import Post, PostStatus

PIN = "2468"


def html(response) -> str:
    return response.get_data(as_text=True)


def fresh(session, exchange) -> Exchange:
    session.commit()
    return session.get(Exchange, exchange.id)


def confirm_visit(session, policy, exchange, minutes=60, confirm_again=True):
    """The provider shows a code, the receiver confirms it (asked nothing about the last hour)."""
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, minutes, policy)
    transaction, _ = confirmations.redeem(session, exchange.receiver, token, policy, confirm_again=confirm_again)
    session.commit()
    return transaction


def status_on_page(client, exchange, headers=None) -> str:
    page = html(client.get(f"/exchanges/{exchange.id}", headers=headers or {}))
    return re.search(r'<span class="status">([^<]*)</span>', page).group(1).strip()


@pytest.fixture
def one_off(session, make_member, make_post):
    """A need for one day (it names its start) with no care plan: Kim needs a walk to the clinic."""
    carer, resident = make_member("Carer Lee"), make_member("Resident Kim")
    need = make_post(resident, title="Walk to the clinic", starts_at=utcnow() + timedelta(days=2), once=True)
    exchange = exchanges.respond(session, carer, need.id)
    exchanges.accept(session, resident, exchange.id)
    session.commit()
    return exchange


# ---- the states, in words ----------------------------------------------------------------

def test_an_exchange_walks_from_waiting_to_visited_in_words_a_person_reads(app, session, policy, make_exchange):
    exchange = make_exchange(accepted=False)
    provider = logged_in(app, exchange.provider)
    assert status_on_page(provider, exchange) == "Waiting for an answer"
    exchanges.accept(session, exchange.receiver, exchange.id)
    session.commit()
    assert status_on_page(provider, exchange) == "Agreed, no visit yet"
    confirm_visit(session, policy, exchange)
    assert status_on_page(provider, exchange).startswith("Visited: 1 visit, the last on ")
    confirm_visit(session, policy, exchange)
    assert status_on_page(provider, exchange).startswith("Visited: 2 visits, the last on ")
    listed = html(provider.get("/exchanges/"))
    assert "Visited: 2 visits" in listed and "Agreed</span>" not in listed
    assert "Visited: 2 visits" in html(provider.get("/"))


def test_the_states_read_in_korean_too(app, session, policy, make_exchange):
    exchange = make_exchange()
    provider = logged_in(app, exchange.provider)
    korean = {"Accept-Language": "ko"}
    assert status_on_page(provider, exchange, korean) != "약속 완료"
    confirm_visit(session, policy, exchange)
    page = html(provider.get(f"/exchanges/{exchange.id}", headers=korean))
    # Needs the Korean strings of /tmp/move/po_exchanges.json in the catalogue.
    assert '<html lang="ko">' in page and "방문 1회" in page


def test_a_reversed_visit_does_not_count_as_a_visit(app, session, policy, make_exchange, coordinator):
    exchange = make_exchange()
    transaction = confirm_visit(session, policy, exchange)
    from carebank.ledger import services as ledger

    ledger.reverse(session, coordinator, transaction.id, "Visit did not happen")
    session.commit()
    assert exchanges.standing(session, fresh(session, exchange)).state == "agreed"


def test_the_post_page_shows_the_responses_standing(app, session, policy, make_exchange):
    exchange = make_exchange()
    confirm_visit(session, policy, exchange)
    owner = logged_in(app, exchange.receiver)
    page = html(owner.get(f"/posts/{exchange.post_id}"))
    assert "Visited: 1 visit" in page and ">Accepted<" not in page


def test_the_api_says_where_the_exchange_stands(app, session, policy, make_exchange):
    exchange = make_exchange()
    provider = logged_in(app, exchange.provider)
    body = provider.get(f"/api/v1/exchanges/{exchange.id}").get_json()["exchange"]
    assert (body["state"], body["visits"], body["last_visit_on"]) == ("agreed", 0, None)
    confirm_visit(session, policy, exchange)
    listed = provider.get("/api/v1/exchanges").get_json()["exchanges"]
    assert listed[0]["state"] == "visited" and listed[0]["visits"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", listed[0]["last_visit_on"])


# ---- finishing ---------------------------------------------------------------------------

def test_either_party_finishes_an_exchange_after_being_asked(app, session, policy, make_exchange):
    exchange = make_exchange()
    confirm_visit(session, policy, exchange)
    receiver = logged_in(app, exchange.receiver)
    detail = html(receiver.get(f"/exchanges/{exchange.id}"))
    assert f'href="/exchanges/{exchange.id}/finish"' in detail
    asked = html(receiver.get(f"/exchanges/{exchange.id}/finish"))
    assert "Finish this exchange?" in asked and 'name="csrf_token"' in asked
    assert fresh(session, exchange).status is ExchangeStatus.ACCEPTED  # asking changes nothing
    assert receiver.post(f"/exchanges/{exchange.id}/finish").status_code == 302
    finished = fresh(session, exchange)
    assert finished.status is ExchangeStatus.FINISHED and finished.finished_by_id == exchange.receiver_id
    assert status_on_page(receiver, exchange) == "Finished"
    told = session.scalars(sa.select(Notification.kind).where(
        Notification.member_id == exchange.provider_id)).all()
    assert "exchange_finished" in told


def test_finishing_without_the_csrf_token_changes_nothing(app, session, make_exchange):
    exchange = make_exchange()
    phone = logged_in(app, exchange.provider)
    response = phone.post(f"/exchanges/{exchange.id}/finish", with_csrf=False)
    assert response.status_code == 400
    assert fresh(session, exchange).status is ExchangeStatus.ACCEPTED


def test_a_finished_exchange_takes_no_new_code_or_check_in_but_keeps_its_history(
        app, session, policy, make_exchange, make_member):
    exchange = make_exchange()
    _, earlier_code = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    confirm_visit(session, policy, exchange)
    exchanges.finish(session, exchange.provider, exchange.id)
    session.commit()
    with pytest.raises(Conflict) as refused:
        confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    assert refused.value.code == "exchange_finished" and "finished" in str(refused.value.message)
    session.rollback()
    with pytest.raises(Conflict) as refused:
        confirmations.redeem(session, exchange.receiver, earlier_code, policy, confirm_again=True)
    assert refused.value.code == "exchange_finished"
    session.rollback()
    coordinator = make_member("Coordinator", role=Role.COORDINATOR)
    cards.set_pin(session, exchange.receiver, PIN, coordinator)
    issued = cards.issue_card(session, exchange.receiver, coordinator)
    session.commit()
    with pytest.raises(Conflict) as refused:
        checkins.check_in_with_pin(session, exchange.provider, issued.card, exchange.id, 60, PIN, "t" * 32, policy)
    assert refused.value.code == "exchange_finished"
    session.rollback()
    page = html(logged_in(app, exchange.provider).get(f"/exchanges/{exchange.id}"))
    assert "This exchange is finished" in page and "Show a code for this visit" not in page
    assert re.search(r'Total</th><th class="num">1 h<', page)
    messages = logged_in(app, exchange.receiver)
    assert messages.get(f"/exchanges/{exchange.id}/messages").status_code == 200


def test_the_api_finishes_an_exchange_once(app, session, make_exchange):
    exchange = make_exchange()
    phone = logged_in(app, exchange.provider)
    response = phone.post(f"/api/v1/exchanges/{exchange.id}/finish")
    assert response.status_code == 200 and response.get_json()["exchange"]["state"] == "finished"
    again = phone.post(f"/api/v1/exchanges/{exchange.id}/finish")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "exchange_finished"


def test_only_a_party_finishes_and_only_an_agreed_exchange(app, session, make_exchange, make_member):
    waiting = make_exchange(accepted=False)
    assert logged_in(app, waiting.provider).post(f"/api/v1/exchanges/{waiting.id}/finish").status_code == 409
    agreed = make_exchange()
    stranger = logged_in(app, make_member("Stranger"))
    assert stranger.post(f"/api/v1/exchanges/{agreed.id}/finish").status_code == 403
    assert fresh(session, agreed).status is ExchangeStatus.ACCEPTED


# ---- a one-off need ----------------------------------------------------------------------

def test_a_one_off_need_is_finished_by_its_first_confirmed_visit(app, session, policy, one_off):
    _, token = confirmations.make_code(session, one_off.provider, one_off.id, 60, policy)
    session.commit()
    receiver = logged_in(app, one_off.receiver)
    response = receiver.post(f"/c/{token}", follow_redirects=True)
    assert "the exchange is now finished" in html(response)
    finished = fresh(session, one_off)
    assert finished.status is ExchangeStatus.FINISHED and finished.finished_by_id is None


def test_a_one_off_need_checked_in_by_card_is_finished_in_the_same_transaction(
        session, policy, one_off, make_member):
    coordinator = make_member("Coordinator", role=Role.COORDINATOR)
    cards.set_pin(session, one_off.receiver, PIN, coordinator)
    issued = cards.issue_card(session, one_off.receiver, coordinator)
    session.commit()
    checkin = checkins.check_in_with_pin(session, one_off.provider, issued.card, one_off.id, 60, PIN,
                                         "r" * 32, policy)
    assert checkin.transaction_id is not None
    assert session.get(Exchange, one_off.id).status is ExchangeStatus.FINISHED  # flushed, not committed
    session.rollback()  # the credit and the finishing stand or fall together
    assert fresh(session, one_off).status is ExchangeStatus.ACCEPTED
    assert exchanges.standing(session, one_off).visits == 0


def test_a_need_without_a_day_goes_on_after_a_visit(session, policy, make_exchange):
    exchange = make_exchange()  # "Lunch together", no day named: visits may repeat
    confirm_visit(session, policy, exchange)
    assert fresh(session, exchange).status is ExchangeStatus.ACCEPTED


# ---- cancel, or report a problem ---------------------------------------------------------

def test_after_a_confirmed_visit_cancel_becomes_report_a_problem(app, session, policy, make_exchange):
    exchange = make_exchange()
    phone = logged_in(app, exchange.provider)
    assert "Cancel this exchange" in html(phone.get(f"/exchanges/{exchange.id}"))
    confirm_visit(session, policy, exchange)
    page = html(phone.get(f"/exchanges/{exchange.id}"))
    assert "Cancel this exchange" not in page
    assert f'class="button secondary" href="/exchanges/{exchange.id}/problem">Report a problem<' in page
    refused = phone.post(f"/api/v1/exchanges/{exchange.id}/cancel")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "visit_confirmed"
    assert "report a problem" in refused.get_json()["error"]["message"]
    page = phone.post(f"/exchanges/{exchange.id}/cancel", follow_redirects=True)
    assert "report a problem" in html(page)
    assert fresh(session, exchange).status is ExchangeStatus.ACCEPTED


# ---- a coordinator answering for a resident ----------------------------------------------

def test_a_coordinator_answering_for_a_resident_matches_the_need(
        app, session, console, coordinator, make_member, make_post):
    resident, carer = make_member("Resident Kim"), make_member("Carer Lee")
    need = make_post(resident, title="Help with the shopping")
    response = exchanges.respond(session, carer, need.id)
    session.commit()
    answered = console.post(f"/console/members/{resident.id}/exchanges/{response.id}/accept")
    assert answered.status_code == 302
    session.commit()
    assert session.get(Post, need.id).status is PostStatus.MATCHED
    assert fresh(session, response).status is ExchangeStatus.ACCEPTED
    still_open = posts.browse(session, posts.PostFilter())
    assert need.id not in [p.id for p in still_open]
    # The same as the resident answering: the carer hears "accepted" as from the resident.
    told = session.scalars(sa.select(Notification.kind).where(Notification.member_id == carer.id)).all()
    assert "response_accepted" in told


def test_on_behalf_answer_goes_through_the_same_service(session, coordinator, make_member, make_post):
    resident, carer = make_member("Resident Kim"), make_member("Carer Lee")
    need = make_post(resident)
    response = exchanges.respond(session, carer, need.id)
    on_behalf.accept_for(session, coordinator, resident, response.id)
    session.commit()
    assert session.get(Post, need.id).status is PostStatus.MATCHED


# ---- a member without a phone ------------------------------------------------------------

def test_a_member_without_a_phone_has_their_card_scanned_not_a_code(app, session, make_member, make_exchange):
    resident = make_member("Resident Kim")
    exchange = make_exchange(make_member("Carer Lee"), resident)
    session.get(Member, resident.id).password_hash = None  # a card and a PIN, no login
    session.commit()
    carer = logged_in(app, exchange.provider)
    page = html(carer.get(f"/exchanges/{exchange.id}"))
    assert "scan their member card instead" in page and 'href="/scan"' in page
    assert "Show a code for this visit" not in page


def test_members_with_phones_still_show_a_code(app, make_exchange):
    exchange = make_exchange()
    page = html(logged_in(app, exchange.provider).get(f"/exchanges/{exchange.id}"))
    assert "Show a code for this visit" in page and "scan their member card" not in page


# ---- the partner's phone -----------------------------------------------------------------

@pytest.mark.parametrize("shared, accepted, shown", [
    (True, True, True), (True, False, False), (False, True, False)])
def test_the_partners_phone_shows_only_when_shared_and_agreed(app, session, make_member, make_exchange,
                                                             shared, accepted, shown):
    receiver = make_member("Resident Kim", phone="010-1234-5678")
    row = session.get(Member, receiver.id)
    row.phone_shared_with_partners = shared
    session.commit()
    exchange = make_exchange(make_member("Carer Lee"), receiver, accepted=accepted)
    page = html(logged_in(app, exchange.provider).get(f"/exchanges/{exchange.id}"))
    assert ('href="tel:010-1234-5678"' in page) is shown


def test_the_partners_phone_is_gone_once_cancelled(app, session, make_member, make_exchange):
    receiver = make_member("Resident Kim", phone="010-1234-5678")
    session.get(Member, receiver.id).phone_shared_with_partners = True
    session.commit()
    exchange = make_exchange(make_member("Carer Lee"), receiver)
    exchanges.cancel(session, exchange.provider, exchange.id)
    session.commit()
    page = html(logged_in(app, exchange.provider).get(f"/exchanges/{exchange.id}"))
    assert 'href="tel:010-1234-5678"' not in page
