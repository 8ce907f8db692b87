"""Exchanges and visit confirmation through the web pages: answering, showing a QR code,
scanning it on the other phone, and the ledger moving exactly once."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import balance, logged_in

from carebank.confirmations import services as confirmations
from carebank.confirmations.models import ConfirmationCode
from carebank.core.database import utcnow
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction


def count_transactions(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction))


def press_show_code(client, exchange, hours=1, extra_minutes=30) -> str:
    """Press "Show a code for this visit"; returns the code page's URL."""
    response = client.post(f"/exchanges/{exchange.id}/codes", data={"hours": hours, "extra_minutes": extra_minutes})
    assert response.status_code == 302
    return response.location


def make_code_via_web(client, exchange, hours=1, extra_minutes=30):
    """The code page's URL and the raw code, read from the grouped text on that page."""
    url = press_show_code(client, exchange, hours, extra_minutes)
    page = client.get(url).get_data(as_text=True)
    shown = re.search(r'class="code-text"[^>]*>([0-9A-Z-]+)<', page).group(1)
    return url, shown.replace("-", "")


@pytest.fixture
def parties(app, make_member, make_exchange):
    """An accepted exchange where Alex helps Kim, each logged in on their own phone."""
    provider, receiver = make_member("Alex"), make_member("Kim Young-ja")
    exchange = make_exchange(provider, receiver)
    return exchange, provider, logged_in(app, provider), receiver, logged_in(app, receiver)


def test_code_page_shows_a_qr_of_the_confirm_link(parties):
    exchange, _, provider_client, receiver, _ = parties
    code_url, token = make_code_via_web(provider_client, exchange)
    page = provider_client.get(code_url).get_data(as_text=True)
    code_id = code_url.rsplit("/", 1)[1]
    assert f'<img src="/codes/{code_id}/qr.svg"' in page
    image = provider_client.get(f"/codes/{code_id}/qr.svg")
    expected_svg, _version = confirmations.qr_svg(confirmations.confirm_url("http://localhost", token))
    assert image.mimetype == "image/svg+xml" and image.get_data(as_text=True) == expected_svg
    # Kept by the phone while the page reloads, never by a shared cache.
    assert re.fullmatch(r"private, max-age=\d+", image.headers["Cache-Control"])
    assert "Ask Kim Young-ja to scan this with their phone camera" in page
    assert "1 h 30 min" in page and 'http-equiv="refresh"' in page
    with provider_client.session_transaction() as flask_session:
        assert token in flask_session["codes"].values()


def test_other_party_confirms_by_scanning_and_minutes_move(parties, session):
    exchange, provider, provider_client, receiver, receiver_client = parties
    _, token = make_code_via_web(provider_client, exchange)
    question = receiver_client.get(f"/c/{token}")
    assert question.status_code == 200
    assert "Confirm 1 h 30 min of care from Alex to Kim Young-ja for “Lunch together”?" in question.get_data(as_text=True)
    assert balance(session, receiver) == 0  # looking at the question changes nothing

    confirmed = receiver_client.post(f"/c/{token}")
    assert confirmed.status_code == 302 and confirmed.location == f"/exchanges/{exchange.id}"
    assert "Confirmed: 1 h 30 min" in receiver_client.get(confirmed.location).get_data(as_text=True)
    assert (balance(session, provider), balance(session, receiver)) == (90, -90)
    assert receiver_client.get("/api/v1/me").get_json()["member"]["balance_minutes"] == -90


def test_confirming_twice_counts_once(parties, session):
    exchange, provider, provider_client, receiver, receiver_client = parties
    _, token = make_code_via_web(provider_client, exchange)
    receiver_client.post(f"/c/{token}")
    again = receiver_client.post(f"/c/{token}", follow_redirects=True)
    assert again.status_code == 200 and "already confirmed" in again.get_data(as_text=True)
    assert "already confirmed" in receiver_client.get(f"/c/{token}").get_data(as_text=True)
    assert count_transactions(session) == 1
    assert balance(session, provider) == 90


def test_code_page_flips_to_confirmed_after_redemption(parties):
    exchange, _, provider_client, _, receiver_client = parties
    code_url, token = make_code_via_web(provider_client, exchange)
    assert "Confirmed ✓" not in provider_client.get(code_url).get_data(as_text=True)
    receiver_client.post(f"/c/{token}")
    page = provider_client.get(code_url).get_data(as_text=True)
    assert "Confirmed ✓ 1 h 30 min" in page and 'http-equiv="refresh"' not in page


def test_maker_cannot_confirm_own_code(parties, session):
    exchange, provider, provider_client, receiver, _ = parties
    _, token = make_code_via_web(provider_client, exchange)
    assert provider_client.get(f"/c/{token}").status_code == 403
    refused = provider_client.post(f"/c/{token}")
    assert refused.status_code == 403 and "You made this code" in refused.get_data(as_text=True)
    assert count_transactions(session) == 0
    assert (balance(session, provider), balance(session, receiver)) == (0, 0)


def test_stranger_cannot_redeem_code(app, parties, make_member, session):
    exchange, _, provider_client, _, _ = parties
    _, token = make_code_via_web(provider_client, exchange)
    stranger = logged_in(app, make_member("Stranger"))
    assert stranger.get(f"/c/{token}").status_code == 403
    assert stranger.post(f"/c/{token}").status_code == 403
    assert count_transactions(session) == 0


def test_garbage_code_is_a_bad_request(parties):
    *_, receiver_client = parties
    response = receiver_client.get("/c/NOT-A-REAL-CODE")
    assert response.status_code == 400
    assert "not a valid confirmation code" in response.get_data(as_text=True)
    assert receiver_client.get(f"/c/{confirmations.new_token()}").status_code == 400  # well formed, unknown


def test_expired_code_is_gone(parties, session, policy):
    exchange, provider, _, receiver, receiver_client = parties
    _, token = confirmations.make_code(session, provider, exchange.id, 60, policy,
                                       now=utcnow() - timedelta(seconds=policy.code_ttl_seconds + 1))
    assert receiver_client.get(f"/c/{token}").status_code == 410
    assert receiver_client.post(f"/c/{token}").status_code == 410
    assert balance(session, receiver) == 0


def test_code_page_offers_a_new_code_once_expired(app, parties):
    exchange, _, provider_client, _, _ = parties
    app.config["CONFIRMATION_CODE_TTL"] = 0  # expires as it is made
    page = provider_client.get(press_show_code(provider_client, exchange)).get_data(as_text=True)
    assert "This code has expired." in page and "Make a new code" in page


def test_code_cannot_be_shown_again_without_the_session(parties):
    exchange, _, provider_client, _, _ = parties
    code_url = press_show_code(provider_client, exchange)
    with provider_client.session_transaction() as flask_session:
        flask_session.pop("codes")
    page = provider_client.get(code_url).get_data(as_text=True)
    assert "can't be shown again" in page and "qr.svg" not in page
    assert provider_client.get(f"{code_url}/qr.svg").status_code == 410


def test_session_keeps_only_the_newest_five_codes(parties):
    exchange, _, provider_client, _, _ = parties
    urls = [press_show_code(provider_client, exchange) for _ in range(6)]
    with provider_client.session_transaction() as flask_session:
        assert len(flask_session["codes"]) == 5
    assert "can't be shown again" in provider_client.get(urls[0]).get_data(as_text=True)
    assert "qr.svg" in provider_client.get(urls[-1]).get_data(as_text=True)
    assert provider_client.get(f"{urls[0]}/qr.svg").status_code == 410
    assert provider_client.get(f"{urls[-1]}/qr.svg").status_code == 200


def test_only_the_maker_can_watch_a_code(parties):
    exchange, _, provider_client, _, receiver_client = parties
    code_url, _ = make_code_via_web(provider_client, exchange)
    assert receiver_client.get(code_url).status_code == 403


@pytest.mark.parametrize("as_typed", [
    lambda token: confirmations.display_code(token),
    lambda token: confirmations.display_code(token).lower(),
    lambda token: f"http://localhost/c/{token}",
])
def test_paste_form_confirms_a_typed_code_or_link(parties, session, as_typed):
    """Typing a code first shows who, what and how long; one tap then confirms."""
    exchange, provider, provider_client, receiver, receiver_client = parties
    _, token = make_code_via_web(provider_client, exchange, hours=0, extra_minutes=45)
    preview = receiver_client.post("/confirm", data={"code": as_typed(token)})
    assert preview.status_code == 200 and "45 min" in preview.get_data(as_text=True)
    assert balance(session, provider) == 0
    action = re.search(r'<form method="post" action="([^"]+)"', preview.get_data(as_text=True)).group(1)
    response = receiver_client.post(action)
    assert response.status_code == 302 and response.location == f"/exchanges/{exchange.id}"
    assert (balance(session, provider), balance(session, receiver)) == (45, -45)


def test_paste_form_shows_errors_under_the_field(parties, session):
    exchange, _, provider_client, _, receiver_client = parties
    bad = receiver_client.post("/confirm", data={"code": "1234"})
    assert bad.status_code == 400
    assert re.search(r'id="code-error">[^<]*not a valid confirmation code', bad.get_data(as_text=True))
    _, token = make_code_via_web(provider_client, exchange)
    own = provider_client.post("/confirm", data={"code": token})
    assert own.status_code == 403 and 'id="code-error">You made this code' in own.get_data(as_text=True)
    assert receiver_client.post("/confirm", data={"code": ""}).status_code == 400
    assert count_transactions(session) == 0


def test_confirming_beyond_the_balance_floor_explains_why(parties, session, policy, make_member, make_exchange):
    exchange, provider, provider_client, receiver, receiver_client = parties
    earlier = make_exchange(make_member("Carer Oh"), receiver)
    ledger.credit_visit(session, earlier.provider_id, receiver.id, 900, exchange_id=earlier.id,
                        created_by_id=receiver.id, policy=policy)  # down to −15 h; the floor is −20 h
    session.commit()
    _, token = make_code_via_web(provider_client, exchange, hours=8, extra_minutes=0)
    response = receiver_client.post(f"/c/{token}")
    assert response.status_code == 409
    assert "Kim Young-ja&#39;s balance cannot go below −20 h" in response.get_data(as_text=True)
    assert balance(session, provider) == 0


def test_scan_while_logged_out_returns_to_the_code_after_login(app, parties):
    exchange, _, provider_client, _, _ = parties
    _, token = make_code_via_web(provider_client, exchange)
    response = app.test_client().get(f"/c/{token}")
    assert response.status_code == 302 and f"next=%2Fc%2F{token}" in response.location


def test_codes_cannot_be_made_for_a_proposed_exchange(app, make_exchange, session):
    exchange = make_exchange(accepted=False)
    client = logged_in(app, exchange.provider)
    detail = client.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert "Show a code for this visit" not in detail
    response = client.post(f"/exchanges/{exchange.id}/codes", data={"hours": 1, "extra_minutes": 0})
    assert response.status_code == 400 and "accepted exchange" in response.get_data(as_text=True)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(ConfirmationCode)) == 0


def test_zero_minute_code_is_refused_under_the_duration(parties):
    exchange, _, provider_client, _, _ = parties
    response = provider_client.post(f"/exchanges/{exchange.id}/codes", data={"hours": 0, "extra_minutes": 0})
    assert response.status_code == 400 and "The time must be between 1 minute and 24 h" in response.get_data(as_text=True)


def test_owner_accepts_a_response_from_the_detail_page(app, make_exchange, session):
    exchange = make_exchange(accepted=False)
    owner = logged_in(app, exchange.receiver)
    page = owner.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert "Accept" in page and "Decline" in page and "Waiting for your answer" in page
    assert owner.post(f"/exchanges/{exchange.id}/accept").status_code == 302
    page = owner.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert "Agreed" in page and "Show a code for this visit" in page
    assert status_of(session, exchange) is ExchangeStatus.ACCEPTED


def test_responder_cannot_accept_own_response(app, make_exchange, session):
    exchange = make_exchange(accepted=False)
    responder = logged_in(app, exchange.provider)
    assert ">Accept<" not in responder.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert responder.post(f"/exchanges/{exchange.id}/accept").status_code == 403
    assert status_of(session, exchange) is ExchangeStatus.PROPOSED


def test_owner_declines_and_stale_buttons_explain_themselves(app, make_exchange, session):
    exchange = make_exchange(accepted=False)
    owner = logged_in(app, exchange.receiver)
    owner.post(f"/exchanges/{exchange.id}/decline")
    again = owner.post(f"/exchanges/{exchange.id}/accept", follow_redirects=True)
    assert "already been answered" in again.get_data(as_text=True)
    assert status_of(session, exchange) is ExchangeStatus.DECLINED


def test_either_party_can_cancel(parties, session):
    exchange, _, _, _, receiver_client = parties
    assert receiver_client.post(f"/exchanges/{exchange.id}/cancel").status_code == 302
    assert status_of(session, exchange) is ExchangeStatus.CANCELLED
    assert "Cancel this exchange" not in receiver_client.get(f"/exchanges/{exchange.id}").get_data(as_text=True)


def status_of(session, exchange) -> ExchangeStatus:
    session.commit()
    return session.get(Exchange, exchange.id).status


def test_non_party_gets_403_on_an_exchange(app, parties, make_member):
    exchange = parties[0]
    stranger = logged_in(app, make_member("Stranger"))
    assert stranger.get(f"/exchanges/{exchange.id}").status_code == 403
    assert stranger.post(f"/exchanges/{exchange.id}/cancel").status_code == 403
    assert stranger.post(f"/exchanges/{exchange.id}/codes", data={"hours": 1}).status_code == 403


def test_exchange_list_shows_roles_and_the_other_person(parties):
    _, _, provider_client, _, receiver_client = parties
    mine = provider_client.get("/exchanges/").get_data(as_text=True)
    assert "Lunch together" in mine and "You help" in mine and "with Kim Young-ja" in mine
    theirs = receiver_client.get("/exchanges/").get_data(as_text=True)
    assert "You receive help" in theirs and "with Alex" in theirs and "Agreed" in theirs


def test_detail_lists_confirmed_visits_and_their_total(parties):
    exchange, _, provider_client, _, receiver_client = parties
    for hours in (1, 2):
        _, token = make_code_via_web(provider_client, exchange, hours=hours, extra_minutes=0)
        # The second within the hour is asked about, and confirmed again.
        receiver_client.post(f"/c/{token}", data={"confirm_again": "1"} if hours == 2 else {})
    page = provider_client.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert re.search(r"Total</th><th class=\"num\">3 h<", page)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_pages_render_in_both_languages(parties, language):
    exchange, _, provider_client, _, receiver_client = parties
    headers = {"Accept-Language": language}
    code_url, token = make_code_via_web(provider_client, exchange)
    for client, url in [(provider_client, "/exchanges/"), (provider_client, f"/exchanges/{exchange.id}"),
                        (provider_client, code_url), (receiver_client, f"/c/{token}"),
                        (receiver_client, "/confirm")]:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.get_data(as_text=True)


def test_the_qr_of_a_redeemed_code_is_gone_with_a_message_in_the_members_language(app, parties):
    exchange, _, provider_client, _, receiver_client = parties
    code_url, token = make_code_via_web(provider_client, exchange)
    assert receiver_client.post(f"/c/{token}").status_code == 302

    gone = provider_client.get(f"{code_url}/qr.svg", headers={"Accept-Language": "ko"})

    assert gone.status_code == 410
    assert "더 이상 볼 수 없어요." in gone.get_data(as_text=True)
