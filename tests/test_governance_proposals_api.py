"""The proposals API v1: creating, voting (201 first, 200 replaced), secret ballots' receipts,
results that stay null until close for everyone, and every refusal with its status and code,
changing nothing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from conftest import logged_in

from carebank.governance.models import BallotReceipt, BoardSeat, Proposal, SecretBallot, Vote
from carebank.members.models import Role

API = "/api/v1"
NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
CLOSES = "2027-03-05T18:00:00+09:00"
AFTER = datetime(2027, 3, 5, 9, 1, tzinfo=UTC)
PROPOSAL_KEYS = {"id", "title", "body", "kind", "tally", "secret", "advisory_label", "author", "record_date",
                 "created_at", "closes_at", "closed", "options", "may_vote", "voted", "my_vote", "outcome",
                 "review_on", "results"}
TEA = {"title": "Tea on Fridays", "body": "At the centre, 3 pm.", "closes_at": CLOSES, "secret": False,
       "kind": "member"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def author(make_member):
    return make_member("Kim Author")


@pytest.fixture
def author_phone(app, author):
    return logged_in(app, author)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def proposed(client, **changes) -> dict:
    response = client.post(f"{API}/proposals", json=TEA | changes)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["proposal"]


def count(session, model) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_member_opens_a_proposal(author_phone, author):
    proposal = proposed(author_phone, options=["Yes please", "No thanks"])
    assert set(proposal) == PROPOSAL_KEYS
    assert proposal["closes_at"] == "2027-03-05T09:00:00+00:00" and proposal["record_date"] == "2027-03-02"
    assert [o["label"] for o in proposal["options"]] == ["Yes please", "No thanks"]
    assert proposal["results"] is None and proposal["author"]["id"] == author.id and proposal["may_vote"]


def test_a_proposal_without_answers_is_yes_no_abstain(author_phone):
    options = proposed(author_phone)["options"]
    assert [(o["label"], o["abstain"]) for o in options] == [("Yes", False), ("No", False), ("Abstain", True)]


@pytest.mark.parametrize("changes, status, code", [
    ({"title": None}, 400, "title_required"),
    ({"title": ""}, 400, "title_required"),
    ({"title": 5}, 400, "invalid_input"),
    ({"closes_at": "2027-03-01T10:00:00+09:00"}, 400, "closes_at_too_soon"),
    ({"closes_at": "2027-03-05T18:00:00"}, 400, "invalid_input"),  # no zone
    ({"closes_at": "2028-01-01T00:00:00+09:00"}, 400, "closes_at_too_late"),
    ({"kind": "budget"}, 400, "budget_not_here"),
    ({"kind": "referendum"}, 400, "invalid_kind"),
    ({"kind": ["member"]}, 400, "invalid_kind"),
    ({"kind": "board"}, 403, "board_by_coordinator"),
    ({"tally": "class_weighted"}, 400, "weighted_not_advisory"),
    ({"tally": 3}, 400, "invalid_tally"),
    ({"secret": "yes"}, 400, "invalid_input"),
    ({"options": ["Only one"]}, 400, "option_count"),
    ({"options": ["Same", "Same"]}, 400, "duplicate_option"),
    ({"options": [1, 2]}, 400, "invalid_options"),
])
def test_a_bad_proposal_is_refused_and_changes_nothing(session, author_phone, changes, status, code):
    assert error_of(author_phone.post(f"{API}/proposals", json=TEA | changes), status)["code"] == code
    assert count(session, Proposal) == 0


def test_a_class_weighted_poll_is_labelled_advisory(author_phone):
    proposal = proposed(author_phone, kind="advisory", tally="class_weighted")
    assert proposal["advisory_label"] == "Advisory poll — counted by member class, it decides nothing"


def test_a_coordinator_puts_a_question_to_the_board(session, app, coordinator, make_member):
    console = logged_in(app, coordinator)
    assert error_of(console.post(f"{API}/proposals", json=TEA | {"kind": "board"}), 409)["code"] == "no_board"
    seated = make_member("Board")
    session.add(BoardSeat(member_id=seated.id, starts_on=NOW.date() - timedelta(days=5)))
    session.commit()
    proposal = proposed(console, kind="board")
    assert not proposal["may_vote"]
    board_phone = logged_in(app, seated)
    assert board_phone.post(f"{API}/proposals/{proposal['id']}/votes",
                            json={"option": proposal["options"][0]["id"]}).status_code == 201


def test_a_first_vote_is_201_and_a_changed_one_200(session, app, author_phone, make_member):
    proposal = proposed(author_phone)
    phone = logged_in(app, make_member())
    yes, no = proposal["options"][0]["id"], proposal["options"][1]["id"]
    first = phone.post(f"{API}/proposals/{proposal['id']}/votes", json={"option": yes})
    assert first.status_code == 201 and first.get_json() == {"vote": {"option": yes, "replaced": False}}
    again = phone.post(f"{API}/proposals/{proposal['id']}/votes", json={"option": no})
    assert again.status_code == 200 and again.get_json()["vote"]["replaced"]
    assert phone.get(f"{API}/proposals/{proposal['id']}").get_json()["proposal"]["my_vote"] == no
    assert count(session, Vote) == 1


@pytest.mark.parametrize("role", [Role.MEMBER, Role.COORDINATOR, Role.ADMIN])
def test_results_stay_null_until_close_for_everyone(session, app, author_phone, make_member, clock, role):
    proposal = proposed(author_phone)
    voter = logged_in(app, make_member())
    voter.post(f"{API}/proposals/{proposal['id']}/votes", json={"option": proposal["options"][0]["id"]})
    reader = logged_in(app, make_member("Reader", role=role))
    for phone in (author_phone, reader):
        assert phone.get(f"{API}/proposals/{proposal['id']}").get_json()["proposal"]["results"] is None
        listed = phone.get(f"{API}/proposals").get_json()
        assert [p["results"] for p in listed["open"]] == [None] and listed["closed"] == []
    clock.move_to(AFTER)
    results = reader.get(f"{API}/proposals/{proposal['id']}").get_json()["proposal"]["results"]
    assert results["counts"][0] == {"option": proposal["options"][0]["id"], "votes": 1}
    assert (results["voters"], results["eligible"]) == (1, 3)


def test_a_secret_vote_gives_its_receipt_once(session, app, author_phone, make_member, clock):
    proposal = proposed(author_phone, secret=True)
    phone = logged_in(app, make_member())
    url = f"{API}/proposals/{proposal['id']}/votes"
    yes, no = proposal["options"][0]["id"], proposal["options"][1]["id"]
    first = phone.post(url, json={"option": yes})
    assert first.status_code == 201
    receipt = first.get_json()["receipt"]
    assert error_of(phone.post(url, json={"option": no}), 409)["code"] == "already_voted"
    assert error_of(phone.post(url, json={"option": no, "receipt": "AAAA-BBBB-CCCC-DDDD"}), 409)["code"] \
        == "already_voted"
    changed = phone.post(url, json={"option": no, "receipt": receipt})
    assert changed.status_code == 200 and "receipt" not in changed.get_json()
    check = f"{API}/proposals/{proposal['id']}/receipt"
    assert phone.post(check, json={"receipt": receipt}).get_json() == {"counted": True, "option": None}
    assert phone.get(f"{API}/proposals/{proposal['id']}").get_json()["proposal"]["my_vote"] is None
    clock.move_to(AFTER)
    assert phone.post(check, json={"receipt": receipt}).get_json() == {"counted": True, "option": no}
    assert (count(session, BallotReceipt), count(session, SecretBallot), count(session, Vote)) == (1, 1, 0)


def test_bad_votes_are_refused_and_change_nothing(session, app, author_phone, make_member, clock):
    proposal, other = proposed(author_phone), proposed(author_phone, title="Other")
    phone = logged_in(app, make_member())
    url = f"{API}/proposals/{proposal['id']}/votes"
    for option in (other["options"][0]["id"], 424242, 2**40, "1", None, True):
        assert error_of(phone.post(url, json={"option": option}), 400)["code"] == "unknown_option"
    assert error_of(phone.post(url, json=["not", "an", "object"]), 400)["code"] == "invalid_json"
    option = {"option": proposal["options"][0]["id"]}
    assert error_of(phone.post(f"{API}/proposals/424242/votes", json=option), 404)["code"] == "proposal_not_found"
    assert phone.post(f"{API}/proposals/99999999999/votes", json=option).status_code == 404
    assert phone.get(f"{API}/proposals/99999999999").status_code == 404
    clock.move_to(AFTER)
    assert error_of(phone.post(url, json=option), 409)["code"] == "proposal_closed"
    assert count(session, Vote) == 0


def test_a_member_who_joined_after_the_record_date_cannot_vote(session, app, author_phone, make_member, clock):
    proposal = proposed(author_phone)
    clock.move_to(NOW + timedelta(days=1))
    phone = logged_in(app, make_member("Newcomer"))
    response = phone.post(f"{API}/proposals/{proposal['id']}/votes", json={"option": proposal["options"][0]["id"]})
    assert error_of(response, 403)["code"] == "not_eligible"
    assert phone.get(f"{API}/proposals/{proposal['id']}").get_json()["proposal"]["may_vote"] is False
    assert count(session, Vote) == 0


def test_members_discuss_through_the_api(session, app, author_phone, make_member):
    proposal = proposed(author_phone)
    phone = logged_in(app, make_member())
    url = f"{API}/proposals/{proposal['id']}/messages"
    posted = phone.post(url, json={"body": "Good idea"})
    assert posted.status_code == 201 and posted.get_json()["message"]["body"] == "Good idea"
    assert error_of(phone.post(url, json={"body": ""}), 400)["code"] == "invalid_input"
    assert [m["body"] for m in phone.get(url).get_json()["messages"]] == ["Good idea"]


def test_the_api_needs_a_login(client):
    assert client.get(f"{API}/proposals").status_code == 401
    assert client.post(f"{API}/proposals", json=TEA).status_code == 401
