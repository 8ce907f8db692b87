"""The general assembly in person: the notice, the register at the door (in person, by proxy,
by card and PIN), the quorum, motions and the tellers' count, bylaw changes, and its pages."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from carebank.audit.models import AuditEntry
from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.core.database import utcnow
from carebank.governance import assemblies, bylaws
from carebank.governance.models import (
    Assembly,
    Attendance,
    AttendanceMethod,
    Bylaw,
    Motion,
    Proposal,
    ProposalKind,
    RegisterEntry,
    Tally,
)
from carebank.members.models import Member
from carebank.notifications.models import Notification
from tests.conftest import logged_in, logged_in_clients, race

SOON = timedelta(hours=2)


@pytest.fixture
def neighbours(session, coordinator):
    """99 members besides the coordinator: 100 in the register today."""
    people = [Member(name=f"조합원 {n}", centre_id=coordinator.centre_id) for n in range(99)]
    session.add_all(people)
    session.commit()
    return people


@pytest.fixture
def assembly(session, coordinator, neighbours):
    called = assemblies.call_assembly(session, coordinator, title="2027년 정기총회", held_at=utcnow() + SOON,
                                      place="효자동 주민센터 강당", agenda="2026 결산\n2027 사업계획")
    session.commit()
    return called


def present(session, coordinator, assembly, people):
    for person in people:
        assemblies.record_attendance(session, coordinator, assembly.id, person.id)
    session.commit()


def proxies(session, coordinator, assembly, pairs):
    for holder, absent in pairs:
        assemblies.record_attendance(session, coordinator, assembly.id, holder.id,
                                     proxy_for_member_id=absent.id, proof=f"signed proxy form no. {absent.id}")
    session.commit()


def hall(session, coordinator, assembly, neighbours, *, in_person: int, by_proxy: int):
    """`in_person` members present (the last `by_proxy` of them each hold one proxy)."""
    attending = neighbours[:in_person]
    present(session, coordinator, assembly, attending)
    absent = neighbours[in_person:in_person + by_proxy]
    proxies(session, coordinator, assembly, list(zip(attending[-by_proxy:], absent, strict=True)) if by_proxy else [])


def officers(session, coordinator, assembly, neighbours):
    assemblies.set_officers(session, coordinator, assembly.id, chair_id=neighbours[0].id,
                            teller_ids=[neighbours[1].id, neighbours[2].id],
                            signer_ids=[neighbours[3].id, neighbours[4].id, neighbours[5].id])
    session.commit()


def attendance_count(session, assembly) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).where(Attendance.assembly_id == assembly.id))


# ---- calling the assembly --------------------------------------------------------------------


def test_calling_an_assembly_notifies_every_member_in_the_register(session, coordinator, assembly):
    told = session.scalars(sa.select(Notification.member_id).where(Notification.kind == "assembly_called")).all()
    assert len(told) == 100 and coordinator.id in told
    # The notice day, in the coordinator's zone (Seoul by default).
    assert assembly.record_date == utcnow().astimezone(ZoneInfo("Asia/Seoul")).date()
    assert session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "assembly.create")) == 1


def test_card_only_resident_hears_of_the_assembly_on_the_call_list(session, console, coordinator, neighbours):
    response = console.post("/api/v1/assemblies", json={"title": "임시총회", "held_at": (utcnow() + SOON).isoformat()})
    assert response.status_code == 201
    page = console.get("/console/calls")
    assert page.status_code == 200 and "임시총회" in page.get_data(as_text=True)
    assert neighbours[0].name in page.get_data(as_text=True)


def test_api_calls_an_assembly_for_coordinators_only(app, session, console, make_member, neighbours):
    held = (utcnow() + SOON).isoformat()
    answer = console.post("/api/v1/assemblies", json={"title": "Regular assembly", "held_at": held,
                                                      "place": "Hall", "record_date": date.today().isoformat()})
    assert answer.status_code == 201
    assert answer.get_json()["assembly"]["title"] == "Regular assembly"
    member = logged_in(app, make_member("Plain member"))
    assert member.post("/api/v1/assemblies", json={"title": "Mine", "held_at": held}).status_code == 403


@pytest.mark.parametrize("payload, code", [
    ({"title": "Past", "held_at": "2020-01-01T10:00:00+09:00"}, "held_at_past"),
    ({"title": "", "held_at": "2099-01-01T10:00:00+09:00"}, "title_required"),
    ({"title": "No zone", "held_at": "2099-01-01T10:00:00"}, "invalid_input"),
    ({"title": "Late record", "held_at": "2099-01-01T10:00:00+09:00", "record_date": "2099-02-01"},
     "record_date_after_assembly"),
    ({"title": "Bad record", "held_at": "2099-01-01T10:00:00+09:00", "record_date": "soon"}, "invalid_input"),
    ({"title": 7, "held_at": "2099-01-01T10:00:00+09:00"}, "invalid_input"),
])
def test_bad_assembly_call_is_refused_and_sends_nothing(session, console, payload, code):
    response = console.post("/api/v1/assemblies", json=payload)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Assembly)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


# ---- the register at the door and the quorum ------------------------------------------------------


def test_quorum_is_met_with_48_present_and_3_proxies_of_100(session, console, coordinator, assembly, neighbours):
    hall(session, coordinator, assembly, neighbours, in_person=48, by_proxy=3)
    answer = console.get(f"/api/v1/assemblies/{assembly.id}").get_json()
    assert (answer["eligible"], answer["present"], answer["proxies"]) == (100, 48, 3)
    assert answer["total"] == 51 and answer["needed"] == 51 and answer["quorum_met"] is True


def test_quorum_is_not_met_at_50_of_100(session, coordinator, assembly, neighbours):
    hall(session, coordinator, assembly, neighbours, in_person=47, by_proxy=3)
    count = assemblies.quorum(session, assembly)
    assert (count.total, count.needed, count.met) == (50, 51, False)


def test_second_proxy_for_one_holder_is_refused(session, console, assembly, neighbours):
    holder, first, second = neighbours[:3]
    url = f"/api/v1/assemblies/{assembly.id}/attendance"
    assert console.post(url, json={"member_id": holder.id, "proxy_for_member_id": first.id,
                                   "proof": "signed proxy form no. 12"}).status_code == 201
    refused = console.post(url, json={"member_id": holder.id, "proxy_for_member_id": second.id,
                                      "proof": "signed proxy form no. 13"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "proxy_limit"
    assert attendance_count(session, assembly) == 2  # the holder present, and one proxy


def test_member_represented_twice_is_refused(session, console, assembly, neighbours):
    one, other, absent = neighbours[:3]
    url = f"/api/v1/assemblies/{assembly.id}/attendance"
    console.post(url, json={"member_id": one.id, "proxy_for_member_id": absent.id, "proof": "form 1"})
    refused = console.post(url, json={"member_id": other.id, "proxy_for_member_id": absent.id, "proof": "form 2"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "already_represented"
    # The second holder's arrival in the same call was rolled back with it.
    assert attendance_count(session, assembly) == 2


def test_second_arrival_is_refused(session, console, assembly, neighbours):
    url = f"/api/v1/assemblies/{assembly.id}/attendance"
    assert console.post(url, json={"member_id": neighbours[0].id}).status_code == 201
    again = console.post(url, json={"member_id": neighbours[0].id})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_present"


def test_proxy_needs_written_proof_and_changes_nothing_without_it(session, console, assembly, neighbours):
    refused = console.post(f"/api/v1/assemblies/{assembly.id}/attendance",
                           json={"member_id": neighbours[0].id, "proxy_for_member_id": neighbours[1].id})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "proof_required"
    assert attendance_count(session, assembly) == 0


def test_member_present_in_person_needs_no_proxy(session, coordinator, console, assembly, neighbours):
    present(session, coordinator, assembly, [neighbours[1]])
    refused = console.post(f"/api/v1/assemblies/{assembly.id}/attendance",
                           json={"member_id": neighbours[0].id, "proxy_for_member_id": neighbours[1].id,
                                 "proof": "form 3"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "present_in_person"


def test_member_not_in_register_on_record_date_cannot_attend(session, console, assembly, neighbours):
    late = neighbours[0]
    session.add(RegisterEntry(member_id=late.id, joined_on=assembly.record_date + timedelta(days=1)))
    session.commit()
    url = f"/api/v1/assemblies/{assembly.id}/attendance"
    refused = console.post(url, json={"member_id": late.id})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_eligible"
    by_proxy = console.post(url, json={"member_id": neighbours[1].id, "proxy_for_member_id": late.id, "proof": "f"})
    assert by_proxy.status_code == 409
    assert attendance_count(session, assembly) == 0


@pytest.mark.parametrize("payload, status", [
    ({"member_id": "x"}, 404), ({"member_id": 2**40}, 404), ({"member_id": 999_999}, 404),
])
def test_bad_attendance_is_refused(session, console, assembly, payload, status):
    assert console.post(f"/api/v1/assemblies/{assembly.id}/attendance", json=payload).status_code == status
    assert console.post("/api/v1/assemblies/999/attendance", json={"member_id": 1}).status_code == 404
    assert attendance_count(session, assembly) == 0


def test_two_door_phones_recording_one_member_count_them_once(app, session, coordinator, assembly, neighbours):
    phones = logged_in_clients(app, coordinator, 2)
    answers = race(app, session, phones, f"/api/v1/assemblies/{assembly.id}/attendance",
                   [{"member_id": neighbours[0].id}] * 2)
    assert sorted(status for status, _ in answers) == [201, 409]
    assert attendance_count(session, assembly) == 1


def test_two_door_phones_giving_one_holder_two_proxies_record_one(app, session, coordinator, assembly, neighbours):
    holder = neighbours[0]
    present(session, coordinator, assembly, [holder])  # no unique index stops a second proxy then
    phones = logged_in_clients(app, coordinator, 2)
    answers = race(app, session, phones, f"/api/v1/assemblies/{assembly.id}/attendance",
                   [{"member_id": holder.id, "proxy_for_member_id": absent.id, "proof": "form"}
                    for absent in neighbours[1:3]])
    assert sorted(status for status, _ in answers) == [201, 409]
    assert attendance_count(session, assembly) == 2


# ---- card and PIN at the door --------------------------------------------------------------------


@pytest.fixture
def resident_card(session, coordinator, neighbours):
    """A card-only resident with a card and the PIN 2468."""
    resident = neighbours[10]
    issued = cards.issue_card(session, resident, coordinator)
    cards.set_pin(session, resident, "2468", coordinator)
    session.commit()
    return issued


def test_member_number_and_pin_records_attendance(session, console, assembly, resident_card):
    url = f"/api/v1/assemblies/{assembly.id}/attendance"
    answer = console.post(url, json={"card": resident_card.member.number, "pin": "2468"})
    assert answer.status_code == 201 and answer.get_json()["attendance"]["method"] == "pin"


def test_card_qr_records_attendance_with_its_pin(session, console, assembly, resident_card):
    answer = console.post(f"/api/v1/assemblies/{assembly.id}/attendance",
                          json={"card": cards.card_url("https://bank.example", resident_card.token), "pin": "2468"})
    assert answer.status_code == 201 and answer.get_json()["attendance"]["method"] == "card"


def test_wrong_pin_at_the_door_is_refused_and_counted(session, console, assembly, resident_card):
    answer = console.post(f"/api/v1/assemblies/{assembly.id}/attendance",
                          json={"card": resident_card.member.number, "pin": "1111"})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "wrong_pin"
    assert attendance_count(session, assembly) == 0
    assert session.get(MemberCard, resident_card.card.id).pin_failures == 1


def test_member_number_without_pin_is_refused(session, console, assembly, resident_card):
    answer = console.post(f"/api/v1/assemblies/{assembly.id}/attendance",
                          json={"card": resident_card.member.number})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "pin_required"
    assert session.get(MemberCard, resident_card.card.id).pin_failures == 0


def test_door_page_records_a_card_member(session, console, assembly, resident_card):
    page = console.get(f"/console/assemblies/{assembly.id}")
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
    wrong = console.post(f"/console/assemblies/{assembly.id}/card",
                         data={"code": resident_card.member.number, "pin": "0000"})
    assert wrong.status_code == 400 and "Wrong PIN. 4 tries left." in wrong.get_data(as_text=True)
    assert attendance_count(session, assembly) == 0
    done = console.post(f"/console/assemblies/{assembly.id}/card",
                        data={"code": resident_card.token, "pin": "2468"})
    assert done.status_code == 302
    assert attendance_count(session, assembly) == 1


# ---- motions and the count -----------------------------------------------------------------------


def motion(session, coordinator, assembly, title="결산 승인", **fields) -> Motion:
    made = assemblies.add_motion(session, coordinator, assembly.id, title=title, **fields)
    session.commit()
    return made


@pytest.fixture
def quorate(session, coordinator, assembly, neighbours):
    """51 present with proxies of 100, officers chosen."""
    hall(session, coordinator, assembly, neighbours, in_person=48, by_proxy=3)
    officers(session, coordinator, assembly, neighbours)
    return assembly


@pytest.mark.parametrize("votes_for, passed", [(34, True), (33, False)])
def test_special_motion_with_51_present_needs_34_for(session, console, coordinator, quorate, votes_for, passed):
    special = motion(session, coordinator, quorate, "정관 변경", special=True)
    answer = console.post(f"/api/v1/motions/{special.id}/tally",
                          json={"for": votes_for, "against": 51 - votes_for, "abstain": 0})
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["threshold"], body["passed"], body["quorum_met"]) == (34, passed, True)
    assert body["motion"]["present"] == 51


@pytest.mark.parametrize("votes_for, against, abstain, threshold, passed", [
    (11, 10, 0, 11, True), (10, 10, 0, 11, False), (3, 2, 40, 3, True), (0, 0, 51, 1, False),
])
def test_ordinary_motion_needs_more_than_half_of_for_and_against(
        session, coordinator, quorate, votes_for, against, abstain, threshold, passed):
    counted = assemblies.tally(session, coordinator, motion(session, coordinator, quorate).id,
                               votes_for, against, abstain)
    assert (counted.threshold, counted.passed) == (threshold, passed)


def test_motion_without_quorum_does_not_pass(session, coordinator, assembly, neighbours):
    hall(session, coordinator, assembly, neighbours, in_person=47, by_proxy=3)
    officers(session, coordinator, assembly, neighbours)
    counted = assemblies.tally(session, coordinator, motion(session, coordinator, assembly).id, 50, 0, 0)
    assert counted.quorum_met is False and counted.passed is False


def test_count_needs_both_tellers(session, console, coordinator, assembly, neighbours):
    hall(session, coordinator, assembly, neighbours, in_person=60, by_proxy=0)
    answer = console.post(f"/api/v1/motions/{motion(session, coordinator, assembly).id}/tally",
                          json={"for": 30, "against": 1, "abstain": 0})
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "tellers_not_set"


def test_count_above_those_present_is_refused(session, console, coordinator, quorate):
    item = motion(session, coordinator, quorate)
    answer = console.post(f"/api/v1/motions/{item.id}/tally", json={"for": 40, "against": 10, "abstain": 2})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "too_many_votes"
    session.refresh(item)
    assert item.tallied_at is None


def test_count_is_final(session, console, coordinator, quorate):
    item = motion(session, coordinator, quorate)
    url = f"/api/v1/motions/{item.id}/tally"
    assert console.post(url, json={"for": 30, "against": 10, "abstain": 0}).status_code == 200
    again = console.post(url, json={"for": 10, "against": 30, "abstain": 0})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_tallied"
    session.refresh(item)
    assert (item.votes_for, item.passed) == (30, True)


@pytest.mark.parametrize("payload", [
    {"for": -1, "against": 0, "abstain": 0}, {"for": "3", "against": 0, "abstain": 0},
    {"for": True, "against": 0, "abstain": 0}, {"for": 1, "against": 0},
])
def test_bad_count_is_refused(session, console, coordinator, quorate, payload):
    item = motion(session, coordinator, quorate)
    assert console.post(f"/api/v1/motions/{item.id}/tally", json=payload).status_code == 400
    assert console.post("/api/v1/motions/99999/tally", json={"for": 1, "against": 0, "abstain": 0}).status_code == 404


def _proposal(session, author, tally: Tally) -> Proposal:
    proposal = Proposal(title="Advisory: opening hours", kind=ProposalKind.ADVISORY, tally=tally, author_id=author.id,
                        record_date=date.today(), closes_at=utcnow() + timedelta(days=3))
    session.add(proposal)
    session.commit()
    return proposal


@pytest.mark.parametrize("tally", [Tally.CLASS_WEIGHTED, Tally.PER_CLASS])
def test_advisory_poll_counted_by_class_cannot_go_on_the_agenda(session, console, coordinator, assembly, tally):
    weighted = _proposal(session, coordinator, tally)
    refused = console.post(f"/api/v1/assemblies/{assembly.id}/motions",
                           json={"title": "Opening hours", "special": False, "proposal_id": weighted.id})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "weighted_poll"
    assert "cannot decide an assembly item" in refused.get_json()["error"]["message"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Motion)) == 0


def test_one_member_one_vote_proposal_may_go_on_the_agenda(session, console, coordinator, assembly):
    plain = _proposal(session, coordinator, Tally.ONE_MEMBER_ONE_VOTE)
    answer = console.post(f"/api/v1/assemblies/{assembly.id}/motions",
                          json={"title": "Opening hours", "special": False, "proposal_id": plain.id})
    assert answer.status_code == 201 and answer.get_json()["motion"]["proposal_id"] == plain.id


def test_adopted_bylaw_change_applies_once(session, console, coordinator, quorate):
    answer = console.post(f"/api/v1/assemblies/{quorate.id}/motions",
                          json={"title": "Five sign the minutes", "special": False,
                                "bylaw_key": "minutes_signers", "bylaw_value": "5"})
    assert answer.status_code == 201 and answer.get_json()["motion"]["special"] is True
    motion_id = answer.get_json()["motion"]["id"]
    assert console.post(f"/api/v1/motions/{motion_id}/tally",
                        json={"for": 40, "against": 5, "abstain": 6}).get_json()["passed"] is True
    session.commit()
    assert bylaws.value(session, "minutes_signers") == "5"
    assert session.get(Bylaw, "minutes_signers").motion_id == motion_id
    adopted = session.get(Motion, motion_id)
    assert adopted.bylaw_applied_at is not None
    assemblies._apply_bylaw(session, coordinator, adopted)  # a second try changes nothing
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "bylaw.change")) == 1


def test_rejected_bylaw_change_changes_nothing(session, coordinator, quorate):
    item = motion(session, coordinator, quorate, "Five sign", bylaw_key="minutes_signers", bylaw_value="5")
    assert assemblies.tally(session, coordinator, item.id, 33, 18, 0).passed is False
    session.commit()
    assert bylaws.value(session, "minutes_signers") == "3"
    assert session.get(Bylaw, "minutes_signers") is None and item.bylaw_applied_at is None
    assert session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "bylaw.change")) == 0


@pytest.mark.parametrize("payload, code", [
    ({"title": "x", "bylaw_key": "no_such", "bylaw_value": "1"}, "unknown_bylaw"),
    ({"title": "x", "bylaw_key": "minutes_signers", "bylaw_value": "1"}, "invalid_bylaw_value"),
    ({"title": "", "special": False}, "title_required"),
    ({"title": "x", "special": "yes"}, "invalid_input"),
])
def test_bad_motion_is_refused(session, console, assembly, payload, code):
    answer = console.post(f"/api/v1/assemblies/{assembly.id}/motions", json=payload)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == code
    assert console.post(f"/api/v1/assemblies/{assembly.id}/motions",
                        json={"title": "x", "proposal_id": 4242}).status_code == 404
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Motion)) == 0


# ---- officers --------------------------------------------------------------------------------------


def test_officers_must_be_present(session, console, coordinator, assembly, neighbours):
    present(session, coordinator, assembly, neighbours[:5])
    url = f"/api/v1/assemblies/{assembly.id}/officers"
    absent = console.post(url, json={"chair_id": neighbours[50].id, "teller_ids": [neighbours[1].id, neighbours[2].id],
                                     "signer_ids": [neighbours[1].id, neighbours[2].id, neighbours[3].id]})
    assert absent.status_code == 400 and absent.get_json()["error"]["code"] == "not_present"
    few = console.post(url, json={"chair_id": neighbours[0].id, "teller_ids": [neighbours[1].id, neighbours[2].id],
                                  "signer_ids": [neighbours[1].id, neighbours[0].id]})
    assert few.status_code == 400 and few.get_json()["error"]["code"] == "too_few_signers"
    one_teller = console.post(url, json={"chair_id": neighbours[0].id, "teller_ids": [neighbours[1].id] * 2,
                                         "signer_ids": [n.id for n in neighbours[1:4]]})
    assert one_teller.status_code == 400 and one_teller.get_json()["error"]["code"] == "two_tellers"
    ok = console.post(url, json={"chair_id": neighbours[0].id, "teller_ids": [neighbours[1].id, neighbours[2].id],
                                 "signer_ids": [n.id for n in neighbours[2:5]]})
    assert ok.status_code == 200 and len(ok.get_json()["signer_ids"]) == 3


# ---- pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language, words", [("en", "in person"), ("ko", "총회")])
def test_console_pages_render(session, console, coordinator, quorate, language, words):
    motion(session, coordinator, quorate, "정관 변경", special=True)
    headers = {"Accept-Language": language}
    coordinator_row = session.get(Member, coordinator.id)
    coordinator_row.locale = language
    session.commit()
    for url in ("/console/assemblies", "/console/assemblies/new", f"/console/assemblies/{quorate.id}",
                f"/console/assemblies/{quorate.id}/notice"):
        page = console.get(url, headers=headers)
        assert page.status_code == 200, url
    detail = console.get(f"/console/assemblies/{quorate.id}", headers=headers).get_data(as_text=True)
    assert "2027년 정기총회" in detail and ">51<" in detail.replace("<strong>", "").replace("</strong>", "")
    assert "34" in detail  # what the special motion needs, shown by its count form
    assert words in console.get("/console/assemblies", headers=headers).get_data(as_text=True)


def test_console_form_calls_an_assembly(session, console, neighbours):
    answer = console.post("/console/assemblies/new", data={
        "title": "2027 정기총회", "held_at": (utcnow() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"),
        "place": "강당", "agenda": "결산"})
    assert answer.status_code == 302
    session.commit()
    assert session.scalar(sa.select(Assembly.title)) == "2027 정기총회"
    missing = console.post("/console/assemblies/new", data={"title": "", "held_at": ""})
    assert missing.status_code == 400


def test_console_pages_record_and_count(session, console, coordinator, quorate, neighbours):
    url = f"/console/assemblies/{quorate.id}"
    assert console.post(f"{url}/attendance", data={"member_id": neighbours[80].id}).status_code == 302
    again = console.post(f"{url}/attendance", data={"member_id": neighbours[80].id})
    assert again.status_code == 409 and "already recorded as present" in again.get_data(as_text=True)
    item = motion(session, coordinator, quorate)
    counted = console.post(f"/console/motions/{item.id}/tally",
                           data={f"m{item.id}-votes_for": "30", f"m{item.id}-votes_against": "5",
                                 f"m{item.id}-abstain": "0"})
    assert counted.status_code == 302
    session.refresh(item)
    assert item.passed is True


def test_member_reads_the_notice_in_korean_and_english(app, session, assembly, make_member):
    reader = logged_in(app, make_member("Reader"))
    for language, words in (("en", "bring your member card"), ("ko", "효자동 주민센터 강당")):
        page = reader.get(f"/governance/assemblies/{assembly.id}", headers={"Accept-Language": language})
        assert page.status_code == 200 and words in page.get_data(as_text=True)
    assert reader.get("/governance/assemblies/4242").status_code == 404
    assert reader.get(f"/governance/assemblies/{assembly.id}/minutes.pdf").status_code == 404


def test_notice_is_for_logged_in_members_only(client, assembly):
    assert client.get(f"/governance/assemblies/{assembly.id}").status_code in (302, 401)


def test_members_cannot_use_the_door(app, assembly, make_member, neighbours):
    member = logged_in(app, make_member("Curious"))
    assert member.get(f"/console/assemblies/{assembly.id}").status_code == 403
    assert member.post(f"/api/v1/assemblies/{assembly.id}/attendance",
                       json={"member_id": neighbours[0].id}).status_code == 403
    assert member.get(f"/api/v1/assemblies/{assembly.id}").status_code == 403


def test_door_records_attendance_method(session, coordinator, assembly, neighbours):
    assemblies.record_attendance(session, coordinator, assembly.id, neighbours[0].id, method=AttendanceMethod.LIST)
    session.commit()
    assert assemblies.count_by_method(session, assembly)[AttendanceMethod.LIST] == 1


def test_resident_without_pin_is_recorded_by_card_alone_not_by_number(session, console, coordinator, assembly,
                                                                      neighbours):
    issued = cards.issue_card(session, neighbours[20], coordinator)
    session.commit()
    url = f"/api/v1/assemblies/{assembly.id}/attendance"
    by_number = console.post(url, json={"card": neighbours[20].number})
    assert by_number.status_code == 409 and by_number.get_json()["error"]["code"] == "no_pin"
    by_card = console.post(url, json={"card": issued.token})
    assert by_card.status_code == 201 and by_card.get_json()["attendance"]["method"] == "card"
    unknown = console.post(url, json={"card": "not a card"})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == "invalid_card"
