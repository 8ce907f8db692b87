"""A gift by member number shows the recipient's name and neighbourhood before anything is
sent: look up → "Send 1 h to 김영희 (효자동)?" → send, all without JavaScript."""
from __future__ import annotations

import re

import pytest
from conftest import balance, logged_in

from carebank.members import on_behalf
from carebank.members.models import Role


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def giver(make_member, earn):
    giver = make_member("Park Min-su")
    earn(giver, 120)
    return giver


@pytest.fixture
def phone(app, giver):
    return logged_in(app, giver)


def hidden_fields(page: str) -> dict:
    """What the second step's form sends again, as a browser would."""
    return dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))


def test_looking_up_a_number_names_the_recipient_and_sends_nothing(phone, giver, make_member, session):
    friend = make_member("김영희", neighbourhood="효자동")
    looked_up = phone.post("/ledger/gift", data={"to_member_id": friend.id, "hours": 1, "extra_minutes": 0})
    page = html(looked_up)
    assert looked_up.status_code == 200
    assert "Send 1 h to 김영희 (효자동)?" in page
    assert balance(session, giver) == 120 and balance(session, friend) == 0
    sent = phone.post("/ledger/gift", data={**hidden_fields(page), "send": "1"})
    assert sent.status_code == 302 and sent.location == "/ledger/"
    assert (balance(session, giver), balance(session, friend)) == (60, 60)


def test_the_note_and_minutes_survive_the_second_step(phone, giver, make_member, session):
    friend = make_member("Lee Soon-ja")
    page = html(phone.post("/ledger/gift", data={
        "to_member_id": friend.id, "hours": 0, "extra_minutes": 30, "memo": "For the kimchi"}))
    assert "Send 30 min to Lee Soon-ja" in page and "For the kimchi" in page
    fields = hidden_fields(page)
    assert (fields["hours"], fields["extra_minutes"], fields["memo"]) == ("0", "30", "For the kimchi")
    phone.post("/ledger/gift", data={**fields, "send": "1"})
    assert balance(session, friend) == 30


def test_change_goes_back_to_the_first_step_with_the_number_editable(phone, make_member, session):
    friend = make_member("Lee Soon-ja")
    back = phone.post("/ledger/gift", data={"to_member_id": friend.id, "hours": 1, "extra_minutes": 0,
                                            "change": "1"})
    page = html(back)
    assert back.status_code == 200 and 'id="to_member_id"' in page
    assert not re.search(r'<input[^>]*name="to_member_id"[^>]*type="hidden"', page)
    assert "Send 1 h to" not in page and balance(session, friend) == 0


def test_an_unknown_number_says_so(phone, giver, session):
    refused = phone.post("/ledger/gift", data={"to_member_id": 99999, "hours": 1, "extra_minutes": 0})
    assert refused.status_code == 400 and "No member has this number" in html(refused)
    assert balance(session, giver) == 120


def test_a_deactivated_number_says_so(phone, giver, make_member, session):
    departed = make_member("Departed Jang")
    coordinator = make_member("Coordinator", role=Role.COORDINATOR)
    on_behalf.deactivate(session, coordinator, departed, "Moved away")
    session.commit()
    refused = phone.post("/ledger/gift", data={"to_member_id": departed.id, "hours": 1, "extra_minutes": 0})
    page = html(refused)
    assert refused.status_code == 400 and "no longer active" in page and "Departed Jang" not in page
    assert balance(session, giver) == 120


def test_my_own_number_is_refused_at_the_look_up(phone, giver, session):
    refused = phone.post("/ledger/gift", data={"to_member_id": giver.id, "hours": 1, "extra_minutes": 0})
    assert refused.status_code == 400 and "You cannot give time to yourself." in html(refused)


def test_no_time_is_refused_at_the_look_up(phone, make_member):
    friend = make_member("Lee Soon-ja")
    refused = phone.post("/ledger/gift", data={"to_member_id": friend.id, "hours": 0, "extra_minutes": 0})
    assert refused.status_code == 400 and "Send 0" not in html(refused)


def test_the_preview_reads_in_korean(phone, make_member):
    friend = make_member("김영희", neighbourhood="효자동")
    page = html(phone.post("/ledger/gift", data={"to_member_id": friend.id, "hours": 1, "extra_minutes": 0},
                           headers={"Accept-Language": "ko"}))
    assert '<html lang="ko">' in page and "김영희" in page and "효자동" in page
