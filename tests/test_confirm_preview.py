"""Confirming a visit shows who, what and how long before crediting; a second confirmation
for the same exchange within the hour is asked about first (pages and API alike)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from conftest import balance, logged_in

from carebank.confirmations import services as confirmations

VISIT_DAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def html(response) -> str:
    return response.get_data(as_text=True)


def new_code(session, policy, exchange, minutes=60) -> str:
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, minutes, policy)
    session.commit()
    return token


@pytest.fixture
def visit(make_member, make_exchange):
    """Carer Lee helps Resident Kim with "Lunch together"."""
    return make_exchange(make_member("Carer Lee"), make_member("Resident Kim"))


def test_a_typed_code_shows_who_what_and_how_long_before_crediting(app, session, policy, visit):
    token = new_code(session, policy, visit, 90)
    phone = logged_in(app, visit.receiver)
    preview = phone.post("/confirm", data={"code": confirmations.display_code(token)})
    page = html(preview)
    assert preview.status_code == 200
    assert "Carer Lee" in page and "Resident Kim" in page and "Lunch together" in page and "1 h 30 min" in page
    assert balance(session, visit.provider) == 0  # nothing counted yet
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    assert action == f"/c/{token}"
    confirmed = phone.post(action)  # one tap
    assert confirmed.status_code == 302 and balance(session, visit.provider) == 90


def test_a_scanned_code_shows_the_same_preview(app, session, policy, visit):
    token = new_code(session, policy, visit, 45)
    page = html(logged_in(app, visit.receiver).get(f"/c/{token}"))
    assert "Carer Lee" in page and "45 min" in page and "Confirm another" not in page


def test_a_typed_code_that_is_already_confirmed_says_so(app, session, policy, visit):
    token = new_code(session, policy, visit)
    phone = logged_in(app, visit.receiver)
    phone.post(f"/c/{token}")
    again = phone.post("/confirm", data={"code": token})
    assert again.status_code == 200 and "You have already confirmed this visit" in html(again)
    assert balance(session, visit.provider) == 60


def test_a_second_confirmation_five_minutes_later_is_asked_about(app, session, policy, visit):
    with time_machine.travel(VISIT_DAY, tick=False) as clock:
        phone = logged_in(app, visit.receiver)  # on the day: a login is younger than its clock
        phone.post(f"/c/{new_code(session, policy, visit)}")
        clock.shift(timedelta(minutes=5))
        token = new_code(session, policy, visit)
        asked = html(phone.get(f"/c/{token}"))
        assert "You confirmed 1 h for this exchange 5 minutes ago. Confirm another?" in asked
        assert 'name="confirm_again" value="1"' in asked
        refused = phone.post(f"/c/{token}")  # an old form without the second answer
        assert refused.status_code == 409 and "Confirm another?" in html(refused)
        assert balance(session, visit.provider) == 60
        assert phone.post(f"/c/{token}", data={"confirm_again": "1"}).status_code == 302
    assert balance(session, visit.provider) == 120


def test_a_confirmation_61_minutes_later_is_not_asked_about(app, session, policy, visit):
    with time_machine.travel(VISIT_DAY, tick=False) as clock:
        phone = logged_in(app, visit.receiver)  # on the day: a login is younger than its clock
        phone.post(f"/c/{new_code(session, policy, visit)}")
        clock.shift(timedelta(minutes=61))
        token = new_code(session, policy, visit)
        assert "Confirm another?" not in html(phone.get(f"/c/{token}"))
        assert phone.post(f"/c/{token}").status_code == 302
    assert balance(session, visit.provider) == 120


def test_the_api_answers_409_recent_confirmation_unless_told_to_confirm_again(app, session, policy, visit):
    with time_machine.travel(VISIT_DAY, tick=False) as clock:
        phone = logged_in(app, visit.receiver)  # on the day: a login is younger than its clock
        first = phone.post("/api/v1/confirmations", json={"code": new_code(session, policy, visit)})
        assert first.status_code == 201
        clock.shift(timedelta(minutes=5))
        token = new_code(session, policy, visit)
        asked = phone.post("/api/v1/confirmations", json={"code": token})
        assert asked.status_code == 409
        error = asked.get_json()["error"]
        assert error["code"] == "recent_confirmation"
        assert error["message"] == "You confirmed 1 h for this exchange 5 minutes ago. Confirm another?"
        assert balance(session, visit.provider) == 60
        again = phone.post("/api/v1/confirmations", json={"code": token, "confirm_again": True})
        assert again.status_code == 201
    assert balance(session, visit.provider) == 120


def test_a_retried_confirmation_of_the_same_code_is_not_asked_about(app, session, policy, visit):
    with time_machine.travel(VISIT_DAY, tick=False):
        phone = logged_in(app, visit.receiver)
        token = new_code(session, policy, visit)
        assert phone.post("/api/v1/confirmations", json={"code": token}).status_code == 201
        retry = phone.post("/api/v1/confirmations", json={"code": token})
    assert retry.status_code == 200 and balance(session, visit.provider) == 60


def test_the_question_names_who_confirmed_when_it_was_the_other_party(app, session, policy, visit):
    with time_machine.travel(VISIT_DAY, tick=False) as clock:
        # The carer confirmed a code the resident showed; then the resident confirms one.
        _, token = confirmations.make_code(session, visit.receiver, visit.id, 30, policy)
        confirmations.redeem(session, visit.provider, token, policy)
        session.commit()
        clock.shift(timedelta(minutes=10))
        question = confirmations.recent_confirmation(session, visit.receiver, visit)
    assert question.code == "recent_confirmation"
    assert str(question.message) == "30 min were confirmed for this exchange 10 minutes ago. Confirm another?"


def test_the_preview_reads_in_korean(app, session, policy, visit):
    token = new_code(session, policy, visit)
    page = html(logged_in(app, visit.receiver).get(f"/c/{token}", headers={"Accept-Language": "ko"}))
    assert '<html lang="ko">' in page and "Carer Lee" in page
