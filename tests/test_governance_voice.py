"""The voice report: who takes part in the co-op's decisions, by member class, checked against
figures worked out by hand on a 200-member register; small classes show no figures."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import logged_in

from carebank.governance import voice
from carebank.governance.models import (
    Assembly,
    Attendance,
    BallotReceipt,
    BoardSeat,
    MemberClass,
    PoolGrantRecord,
    Proposal,
    ProposalKind,
    ProposalMessage,
    ProposalOption,
    RegisterEntry,
    SecretBallot,
    Vote,
)
from carebank.ledger.models import Account, AccountKind
from carebank.members.models import Member
from carebank.notifications.models import Notification

API = "/api/v1"
Q3_START, Q3_END = date(2026, 7, 1), date(2026, 10, 1)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=UTC)


def add_members(session, centre, member_class, count, *, joined=date(2026, 1, 1)) -> list[Member]:
    """Members in the register from `joined`, each with an empty account (as sign-up makes them)."""
    members = [Member(name=f"{member_class or 'unset'} {i}", centre_id=centre.id) for i in range(count)]
    session.add_all(members)
    session.add_all([Account(kind=AccountKind.MEMBER, member=m, balance_minutes=0) for m in members])
    session.flush()
    session.add_all([RegisterEntry(member_id=m.id, member_class=member_class, joined_on=joined, shares=1)
                     for m in members])
    session.flush()
    return members


def ballot(session, author, closes_at, *, secret=False) -> Proposal:
    proposal = Proposal(title="A question", kind=ProposalKind.MEMBER, author_id=author.id, secret=secret,
                        record_date=date(2026, 6, 30), created_at=at(7, 2), closes_at=closes_at)
    proposal.options = [ProposalOption(position=0, label="Yes"), ProposalOption(position=1, label="No")]
    session.add(proposal)
    session.flush()
    return proposal


def votes(session, proposal, members, member_class, recorded_by=None):
    session.add_all([Vote(proposal_id=proposal.id, member_id=m.id, option_id=proposal.options[0].id,
                          member_class=member_class, recorded_by_id=recorded_by) for m in members])


def receipts(session, proposal, members, member_class, recorded_by=None):
    """A secret ballot: who voted (receipts) and, apart, what was chosen (no member on it)."""
    for i, m in enumerate(members):
        session.add(BallotReceipt(proposal_id=proposal.id, member_id=m.id, member_class=member_class,
                                  cast_on=date(2026, 8, 20), recorded_by_id=recorded_by(i) if recorded_by else None))
        session.add(SecretBallot(id=f"{proposal.id:04d}{m.id:028d}", proposal_id=proposal.id,
                                 option_id=proposal.options[i % 2].id, receipt_hash=f"{m.id:064d}"))


@pytest.fixture
def quarter(session, centre, coordinator, make_member, earn, policy):
    """Q3 2026: 100 care receivers, 60 carers, 30 volunteers, 10 staff; two ballots closing in
    the quarter (one secret), one after it, an assembly with a proxy, talk, seats and a grant."""
    receivers = add_members(session, centre, MemberClass.CARE_RECEIVER, 100)
    carers = add_members(session, centre, MemberClass.CARER, 60)
    volunteers = add_members(session, centre, MemberClass.VOLUNTEER, 30)
    staff = add_members(session, centre, MemberClass.STAFF, 10)
    open_ballot = ballot(session, carers[0], at(8, 1))
    votes(session, open_ballot, receivers[:50], MemberClass.CARE_RECEIVER)
    votes(session, open_ballot, carers[:30], MemberClass.CARER)
    votes(session, open_ballot, volunteers[:15], MemberClass.VOLUNTEER)
    votes(session, open_ballot, staff[:2], MemberClass.STAFF, recorded_by=coordinator.id)
    votes(session, open_ballot, staff[2:5], MemberClass.STAFF)
    secret = ballot(session, receivers[0], at(9, 1), secret=True)
    receipts(session, secret, receivers[40:58], MemberClass.CARE_RECEIVER,
             recorded_by=lambda i: coordinator.id if i == 0 else None)
    receipts(session, secret, carers[:30], MemberClass.CARER)
    later = ballot(session, volunteers[0], at(10, 5))  # closes after the quarter: not counted
    votes(session, later, volunteers[15:], MemberClass.VOLUNTEER)
    assembly = Assembly(title="Summer assembly", held_at=at(9, 10), record_date=date(2026, 8, 31),
                        called_by_id=coordinator.id)
    session.add(assembly)
    session.flush()
    session.add_all([
        Attendance(assembly_id=assembly.id, member_id=staff[5].id, recorded_by_id=coordinator.id),
        Attendance(assembly_id=assembly.id, member_id=staff[5].id, proxy_for_member_id=staff[6].id,
                   proxy_proof="signed letter", recorded_by_id=coordinator.id),
        ProposalMessage(proposal_id=open_ballot.id, author_id=receivers[1].id, body="Yes", created_at=at(7, 5)),
        ProposalMessage(proposal_id=open_ballot.id, author_id=receivers[2].id, body="Hm", created_at=at(7, 6)),
        ProposalMessage(proposal_id=open_ballot.id, author_id=receivers[2].id, body="OK", created_at=at(7, 7)),
        ProposalMessage(proposal_id=open_ballot.id, author_id=volunteers[3].id, body="No", created_at=at(7, 8)),
        BoardSeat(member_id=staff[0].id, body="board", starts_on=date(2026, 1, 1)),
        BoardSeat(member_id=carers[0].id, body="board", starts_on=date(2026, 3, 1)),
        BoardSeat(member_id=receivers[0].id, body="care committee", starts_on=date(2026, 1, 1),
                  ends_on=date(2026, 9, 1)),
    ])
    session.commit()
    _granted_in_q3(session, coordinator, receivers[90], earn, make_member, policy)
    return {"receivers": receivers, "staff": staff}


def _granted_in_q3(session, coordinator, recipient, earn, make_member, policy):
    """Two hours from the pool to a care receiver, dated in the quarter."""
    from carebank.governance import pool
    from carebank.ledger import services as ledger

    giver = make_member("Donor")
    earn(giver, 120)
    ledger.donate_to_pool(session, giver, 120, "", policy)
    transaction = pool.grant(session, coordinator, recipient.id, 120, "Winter help", "meals", policy)
    record = session.get(PoolGrantRecord, transaction.id)
    record.granted_at = at(8, 15)
    session.commit()


# Worked out by hand. Register on 30 September: 100 / 60 / 30 / 10 = 200 members.
# Votes and assembly places in the quarter: receivers 50 + 18 = 68, carers 30 + 30 = 60,
# volunteers 15, staff 5 + 2 at the assembly (one in person, one by proxy) = 7; 150 in all.
# Proposals are counted when put forward: the volunteer's, closing in October, was put in July.
# Took part: receivers 0–57 (58 of 100), carers 30 of 60, volunteers 15 of 30, staff 7 of 10.
# Representation: (68/150)/(100/200) = 0.907, (60/150)/(60/200) = 1.333,
# (15/150)/(30/200) = 0.667, (7/150)/(10/200) = 0.933.
EXPECTED = {
    "care_receiver": {"members": 100, "share": 0.5, "turnout": 0.58, "representation_ratio": 0.907,
                      "votes_cast": 68, "proposals_authored": 1, "thread_speakers": 2, "board_seats": 0,
                      "through_coordinator": 1, "by_proxy": 0, "pool_minutes": 120},
    "carer": {"members": 60, "share": 0.3, "turnout": 0.5, "representation_ratio": 1.333, "votes_cast": 60,
              "proposals_authored": 1, "thread_speakers": 0, "board_seats": 1, "through_coordinator": 0,
              "by_proxy": 0, "pool_minutes": 0},
    "volunteer": {"members": 30, "share": 0.15, "turnout": 0.5, "representation_ratio": 0.667,
                  "votes_cast": 15, "proposals_authored": 1, "thread_speakers": 1, "board_seats": 0,
                  "through_coordinator": 0, "by_proxy": 0, "pool_minutes": 0},
    "staff": {"members": 10, "share": 0.05, "turnout": 0.7, "representation_ratio": 0.933, "votes_cast": 7,
              "proposals_authored": 0, "thread_speakers": 0, "board_seats": 1, "through_coordinator": 2,
              "by_proxy": 1, "pool_minutes": 0},
}


def test_report_matches_the_figures_worked_out_by_hand(session, quarter):
    report = voice.voice_report(session, Q3_START, Q3_END).as_json()
    assert report["period"] == {"quarter": "2026-Q3", "start": "2026-07-01", "end": "2026-09-30"}
    assert (report["total_members"], report["votes_cast"]) == (200, 150)
    found = {row["member_class"]: {k: v for k, v in row.items() if k not in ("member_class", "suppressed")}
             for row in report["classes"]}
    assert found == EXPECTED
    assert not any(row["suppressed"] for row in report["classes"])


def test_the_api_gives_members_the_same_report(app, session, quarter, make_member):
    member = logged_in(app, make_member("Reader"))
    answer = member.get(f"{API}/governance/voice-report?quarter=2026-Q3")
    assert answer.status_code == 200
    classes = {row["member_class"]: row for row in answer.get_json()["classes"]}
    assert classes["carer"]["representation_ratio"] == 1.333 and classes["staff"]["turnout"] == 0.7
    assert {k: classes["care_receiver"][k] for k in EXPECTED["care_receiver"]} == EXPECTED["care_receiver"]


def test_the_api_wants_a_login_and_a_real_quarter(app, client, make_member):
    assert client.get(f"{API}/governance/voice-report?quarter=2026-Q3").status_code == 401
    member = logged_in(app, make_member("Reader"))
    for bad in ("2026-Q5", "2026Q1", "x", ""):
        answer = member.get(f"{API}/governance/voice-report?quarter={bad}")
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "invalid_quarter"


def test_a_class_under_five_members_shows_no_figures(app, session, centre, make_member):
    add_members(session, centre, MemberClass.CARER, 6)
    partners = add_members(session, centre, MemberClass.PARTNER, 4)
    add_members(session, centre, None, 5)
    proposal = ballot(session, partners[0], at(8, 1))
    votes(session, proposal, partners, MemberClass.PARTNER)
    session.commit()
    rows = {row["member_class"]: row for row in voice.voice_report(session, Q3_START, Q3_END).as_json()["classes"]}
    assert rows["partner"]["suppressed"] is True
    assert {k: v for k, v in rows["partner"].items() if k not in ("member_class", "suppressed")} == \
        dict.fromkeys(EXPECTED["carer"])
    assert rows["carer"]["suppressed"] is False and rows["carer"]["members"] == 6
    # Members whose class is not set are a row of their own.
    assert rows[None]["members"] == 5 and rows[None]["share"] == 0.333
    page = logged_in(app, make_member("Reader")).get("/governance/voice?quarter=2026-Q3").get_data(as_text=True)
    assert "fewer than 5" in page and "Partner organisations" in page and "Class not set" in page


def test_assembly_report_counts_those_present_and_represented(session, quarter):
    assembly = session.query(Assembly).one()
    rows = {r["member_class"]: r for r in voice.assembly_voice(session, assembly.id).as_json()["classes"]}
    assert rows["staff"]["turnout"] == 0.2 and rows["staff"]["by_proxy"] == 1
    assert rows["care_receiver"]["turnout"] == 0.0 and rows["staff"]["representation_ratio"] == 20.0


@pytest.mark.parametrize("language, words", [("en", "Who has a say"), ("ko", "<html lang=\"ko\"")])
def test_voice_pages_render_in_both_languages(app, session, quarter, coordinator, make_member, language, words):
    member = logged_in(app, make_member("Reader"))
    headers = {"Accept-Language": language}
    page = member.get("/governance/voice?quarter=2026-Q3", headers=headers)
    assert page.status_code == 200 and words in page.get_data(as_text=True)
    assert member.get("/governance/voice", headers=headers).status_code == 200
    assert member.get("/governance/voice?quarter=nonsense", headers=headers).status_code == 400
    assembly_id = session.query(Assembly).one().id
    assert member.get(f"/governance/voice/assemblies/{assembly_id}", headers=headers).status_code == 200
    assert member.get("/governance/voice/assemblies/999", headers=headers).status_code == 404
    console = logged_in(app, coordinator)
    assert console.get("/console/voice?quarter=2026-Q3", headers=headers).status_code == 200


def test_quarter_notice_goes_once_to_members_who_can_log_in(session, make_member, centre):
    reader = make_member("Reader")
    card_only = add_members(session, centre, MemberClass.CARER, 3)  # not put on the call list for it
    session.commit()
    told = voice.publish_quarter(session, at(10, 2))
    session.commit()
    assert told >= 1
    notices = session.query(Notification).filter_by(kind="voice_report_published").all()
    assert reader.id in {n.member_id for n in notices} and len(notices) == told
    assert not {m.id for m in card_only} & {n.member_id for n in notices}
    assert notices[0].params == {"quarter": "2026-Q3"}
    assert voice.publish_quarter(session, at(10, 3)) == 0
