"""The register on the console: each member's class, dates, shares and seats, edited by their
centre only and audited; the voting register on a record date; the bylaws page."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import logged_in

from carebank.audit.models import AuditEntry
from carebank.governance.models import BoardSeat, MemberClass, RegisterEntry


def audit_actions(session):
    session.commit()
    return session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()


def test_register_edit_is_saved_and_audited(console, session, make_member):
    member = make_member("Kim Young-ja")
    answer = console.post(f"/console/register/{member.id}", data={
        "member_class": "care_receiver", "joined_on": "2025-03-01", "left_on": "", "shares": 2})
    assert answer.status_code == 302
    entry = session.get(RegisterEntry, member.id)
    assert (entry.member_class, entry.joined_on.isoformat(), entry.shares) == (MemberClass.CARE_RECEIVER,
                                                                               "2025-03-01", 2)
    assert audit_actions(session) == ["register.edit"]
    listing = console.get("/console/register?member_class=care_receiver").get_data(as_text=True)
    assert "Kim Young-ja" in listing and "Care receivers and families" in listing
    assert "Kim Young-ja" not in console.get("/console/register?member_class=carer").get_data(as_text=True)
    detail = console.get(f"/console/members/{member.id}").get_data(as_text=True)
    assert "Member class" in detail and "Care receivers and families" in detail


def test_another_centres_member_is_not_found_and_nothing_changes(console, session, make_member, make_centre):
    elsewhere = make_member("Elsewhere", centre_id=make_centre("Other Centre").id)
    assert console.get(f"/console/register/{elsewhere.id}").status_code == 404
    answer = console.post(f"/console/register/{elsewhere.id}", data={"member_class": "carer", "shares": 1})
    assert answer.status_code == 404
    assert console.post(f"/console/register/{elsewhere.id}/seats",
                        data={"body": "board", "starts_on": "2026-01-01"}).status_code == 404
    assert session.get(RegisterEntry, elsewhere.id) is None and audit_actions(session) == []
    assert "Elsewhere" not in console.get("/console/register").get_data(as_text=True)


@pytest.mark.parametrize("data", [
    {"member_class": "emperor", "shares": 1},
    {"member_class": "carer", "shares": -1},
    {"member_class": "carer", "shares": 1, "joined_on": "2026-05-01", "left_on": "2026-04-01"},
    {"member_class": "carer", "shares": 1, "joined_on": "yesterday"},
])
def test_bad_register_input_is_refused(console, session, make_member, data):
    member = make_member("Kim Young-ja")
    assert console.post(f"/console/register/{member.id}", data=data).status_code == 400
    assert session.get(RegisterEntry, member.id) is None and audit_actions(session) == []


def test_board_seats_are_added_ended_once_and_audited(console, session, make_member):
    member = make_member("Park Board")
    added = console.post(f"/console/register/{member.id}/seats", data={"body": "board", "starts_on": "2026-01-01"})
    assert added.status_code == 302
    seat = session.scalars(sa.select(BoardSeat)).one()
    assert "board" in console.get("/console/register").get_data(as_text=True)
    too_early = console.post(f"/console/register/seats/{seat.id}/end", data={"ends_on": "2025-12-01"})
    assert too_early.status_code == 400
    ended = console.post(f"/console/register/seats/{seat.id}/end", data={"ends_on": "2026-06-01"})
    assert ended.status_code == 302
    assert console.post(f"/console/register/seats/{seat.id}/end", data={"ends_on": "2026-07-01"}).status_code == 409
    session.refresh(seat)
    assert seat.ends_on.isoformat() == "2026-06-01"
    assert audit_actions(session) == ["board.seat", "board.seat"]
    assert console.post("/console/register/seats/99999/end", data={"ends_on": "2026-07-01"}).status_code == 404


def test_voting_register_counts_members_by_class_on_the_record_date(console, session, make_member):
    carer, late = make_member("Carer"), make_member("Joined late")
    console.post(f"/console/register/{carer.id}", data={"member_class": "carer", "joined_on": "2025-01-01",
                                                         "shares": 1}, follow_redirects=True)
    console.post(f"/console/register/{late.id}", data={"member_class": "volunteer", "joined_on": "2026-06-01",
                                                        "shares": 1}, follow_redirects=True)
    page = console.get("/console/register/voting?day=2026-01-15").get_data(as_text=True)
    assert "Members who may vote: 1" in page and "Carer" in page and "Joined late" not in page
    assert console.get("/console/register/voting?day=not-a-day").status_code == 400


def test_members_cannot_open_the_register(app, make_member):
    member = logged_in(app, make_member("Plain member"))
    for url in ("/console/register", "/console/bylaws", "/console/grants", "/console/register/voting"):
        assert member.get(url).status_code == 403


@pytest.mark.parametrize("language", ["en", "ko"])
def test_register_pages_render_in_both_languages(console, make_member, language):
    member = make_member("Kim Young-ja")
    headers = {"Accept-Language": language}
    for url in ("/console/register", f"/console/register/{member.id}", "/console/register/voting",
                "/console/bylaws", f"/console/members/{member.id}"):
        assert console.get(url, headers=headers).status_code == 200, url


def test_bylaws_page_shows_every_value_with_defaults_marked(console):
    page = console.get("/console/bylaws").get_data(as_text=True)
    assert "Pool minutes a coordinator may grant alone" in page and "10 h" in page
    assert "default" in page and "general assembly" in page
