"""Proposals and ballots between meetings: who may vote, one member one vote, replaced open
votes, secret ballots that keep no member–choice link, results hidden until close, the closing
reminder, outcomes, and the pages in Korean and English."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from conftest import logged_in

from carebank.audit.models import AuditEntry
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.governance import proposals
from carebank.governance.models import (
    BallotReceipt,
    BoardSeat,
    MemberClass,
    Proposal,
    ProposalMessage,
    ProposalOption,
    RegisterEntry,
    SecretBallot,
    Tally,
    Vote,
)
from carebank.members.models import Role
from carebank.notifications.models import Notification

NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
CLOSES = NOW + timedelta(days=3)
AFTER = CLOSES + timedelta(minutes=1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def author(make_member):
    return make_member("Kim Author")


def propose(session, author, **changes) -> Proposal:
    fields = dict(title="A bench by the centre", body="Shall we ask the district for one?", options=None,
                  closes_at=CLOSES, secret=False, kind="member") | changes
    proposal = proposals.create_proposal(session, author, **fields)
    session.commit()
    return proposal


def vote(session, member, proposal, position: int, **kwargs):
    option = proposal.options[position]
    cast = proposals.cast_vote(session, member, proposal.id, option.id, **kwargs)
    session.commit()
    return cast


def closed_results(session, proposal, clock):
    clock.move_to(AFTER)
    session.expire_all()
    return proposals.results(session, proposal)


def set_class(session, member, member_class: MemberClass, shares: int = 1, joined_on: date | None = None):
    session.merge(RegisterEntry(member_id=member.id, member_class=member_class, shares=shares,
                                joined_on=joined_on or NOW.date()))
    session.commit()


def utcnow_now() -> datetime:
    return datetime.now(UTC)


def told(session, kind: str) -> list[int]:
    session.commit()
    return sorted(session.scalars(sa.select(Notification.member_id).where(Notification.kind == kind)))


# --- creating -------------------------------------------------------------------------------


def test_a_proposal_without_answers_gets_yes_no_and_abstain(session, author):
    proposal = propose(session, author)
    assert [(o.label, o.abstain) for o in proposal.options] == [("Yes", False), ("No", False), ("Abstain", True)]
    assert proposal.record_date == NOW.date() and proposal.tally is Tally.ONE_MEMBER_ONE_VOTE


@pytest.mark.parametrize("options, code", [
    (["Only one"], "option_count"),
    ([f"Answer {n}" for n in range(11)], "option_count"),
    (["Same", "same "], "duplicate_option"),
    (["Fine", "x" * 201], "option_too_long"),
    ("Yes", "invalid_options"),
])
def test_bad_answers_are_refused(session, author, options, code):
    with pytest.raises(ValidationFailed) as refused:
        propose(session, author, options=options)
    assert refused.value.code == code


@pytest.mark.parametrize("closes_at, code", [
    (NOW + timedelta(minutes=59), "closes_at_too_soon"),
    (NOW - timedelta(days=1), "closes_at_too_soon"),
    (NOW + timedelta(days=91), "closes_at_too_late"),
    (None, "closes_at_required"),
    (datetime(2027, 3, 9, 9, 0), "closes_at_required"),  # no zone: which 9 o'clock?
])
def test_closing_time_must_be_an_hour_to_90_days_ahead(session, author, closes_at, code):
    with pytest.raises(ValidationFailed) as refused:
        propose(session, author, closes_at=closes_at)
    assert refused.value.code == code


def test_a_title_is_needed(session, author):
    with pytest.raises(ValidationFailed) as refused:
        propose(session, author, title="   ")
    assert refused.value.code == "title_required"


def test_budget_ballots_are_not_made_here(session, author, coordinator):
    with pytest.raises(ValidationFailed) as refused:
        propose(session, coordinator, kind="budget")
    assert refused.value.code == "budget_not_here"


@pytest.mark.parametrize("tally", [Tally.PER_CLASS, Tally.CLASS_WEIGHTED])
@pytest.mark.parametrize("kind", ["member", "board"])
def test_counting_by_class_is_only_for_advisory_polls(session, coordinator, tally, kind):
    session.add(BoardSeat(member_id=coordinator.id, starts_on=NOW.date() - timedelta(days=30)))
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        propose(session, coordinator, kind=kind, tally=tally)
    assert refused.value.code == "weighted_not_advisory"
    assert propose(session, coordinator, kind="advisory", tally=tally).is_weighted


def test_only_a_coordinator_puts_a_question_to_the_board_and_only_if_there_is_one(session, author, coordinator):
    with pytest.raises(NotAllowed):
        propose(session, author, kind="board")
    with pytest.raises(Conflict) as refused:
        propose(session, coordinator, kind="board")
    assert refused.value.code == "no_board"


# --- voting ---------------------------------------------------------------------------------


def test_a_member_with_ten_shares_still_has_one_vote(session, author, make_member, clock):
    rich, other = make_member("Many Shares"), make_member("One Share")
    set_class(session, rich, MemberClass.SUPPORTER, shares=10)
    proposal = propose(session, author)
    vote(session, rich, proposal, 0)
    vote(session, other, proposal, 1)
    results = closed_results(session, proposal, clock)
    yes, no, abstain = (o.id for o in proposal.options)
    assert results.counts == {yes: 1, no: 1, abstain: 0}
    assert results.voters == 2


def test_a_changed_open_vote_replaces_the_earlier_one(session, author, make_member, clock):
    member = make_member()
    proposal = propose(session, author)
    assert not vote(session, member, proposal, 0).replaced
    assert vote(session, member, proposal, 1).replaced
    assert proposals.my_vote(session, proposal, member).label == "No"
    assert session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    results = closed_results(session, proposal, clock)
    assert results.counts[proposal.options[0].id] == 0 and results.counts[proposal.options[1].id] == 1


def test_a_vote_keeps_the_members_class(session, author, make_member):
    member = make_member()
    set_class(session, member, MemberClass.CARER)
    proposal = propose(session, author)
    vote(session, member, proposal, 0)
    assert session.scalar(sa.select(Vote.member_class)) is MemberClass.CARER


def test_results_stay_hidden_until_the_vote_closes(session, author, make_member, clock):
    member = make_member()
    proposal = propose(session, author)
    vote(session, member, proposal, 0)
    clock.move_to(CLOSES - timedelta(seconds=1))
    assert proposals.results(session, proposal) is None
    clock.move_to(CLOSES)
    assert proposals.results(session, proposal).counts[proposal.options[0].id] == 1


def test_a_closed_vote_takes_no_more_votes(session, author, make_member, clock):
    member = make_member()
    proposal = propose(session, author)
    clock.move_to(AFTER)
    with pytest.raises(Conflict) as refused:
        vote(session, member, proposal, 0)
    assert refused.value.code == "proposal_closed"


def test_a_member_who_joined_after_the_record_date_cannot_vote(session, author, make_member, clock):
    proposal = propose(session, author)
    clock.move_to(NOW + timedelta(days=1))
    newcomer = make_member("Newcomer")
    with pytest.raises(NotAllowed) as refused:
        vote(session, newcomer, proposal, 0)
    assert refused.value.code == "not_eligible"
    # Nor one the register says joined later, though their account is older.
    late = make_member("Joined late")
    set_class(session, late, MemberClass.VOLUNTEER, joined_on=NOW.date() + timedelta(days=1))
    with pytest.raises(NotAllowed):
        vote(session, late, proposal, 0)
    assert session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_an_answer_must_be_one_of_this_proposals(session, author, make_member):
    member = make_member()
    proposal, other = propose(session, author), propose(session, author, title="Another")
    for option_id in (other.options[0].id, 10**12, "1", None, True):
        with pytest.raises(ValidationFailed) as refused:
            proposals.cast_vote(session, member, proposal.id, option_id)
        assert refused.value.code == "unknown_option"
    with pytest.raises(NotFound):
        proposals.cast_vote(session, member, 2**40, proposal.options[0].id)


def test_only_board_members_vote_on_a_board_ballot(session, coordinator, make_member):
    board_member, ordinary = make_member("Board"), make_member("Ordinary")
    session.add(BoardSeat(member_id=board_member.id, starts_on=NOW.date() - timedelta(days=10)))
    session.commit()
    proposal = propose(session, coordinator, kind="board")
    vote(session, board_member, proposal, 0)
    with pytest.raises(NotAllowed):
        vote(session, ordinary, proposal, 0)
    assert told(session, "proposal_opened") == [board_member.id]


# --- secret ballots -------------------------------------------------------------------------


def test_a_secret_ballot_keeps_no_link_between_a_member_and_their_choice(session, author, make_member):
    voters = [make_member(f"Voter {n}") for n in range(8)]
    proposal = propose(session, author, secret=True, options=[f"Answer {n}" for n in range(8)])
    for position, member in enumerate(voters):
        assert vote(session, member, proposal, position).receipt
    schema = sa.inspect(session.connection())
    # A receipt says who voted and on which day, nothing of the choice.
    assert {c["name"] for c in schema.get_columns("ballot_receipts")} == {
        "id", "proposal_id", "member_id", "member_class", "recorded_by_id", "cast_on"}
    assert {type(day) for day in session.scalars(sa.select(BallotReceipt.cast_on))} == {date}
    # A ballot holds the choice, nothing of the member: no member column, no time, no sequence.
    assert {c["name"] for c in schema.get_columns("secret_ballots")} == {
        "id", "proposal_id", "option_id", "receipt_hash", "member_class"}
    assert {fk["referred_table"] for fk in schema.get_foreign_keys("secret_ballots")} == {
        "proposals", "proposal_options"}
    ids = session.scalars(sa.select(SecretBallot.id)).all()
    assert all(len(i) == 32 for i in ids) and len(set(ids)) == 8
    assert set(session.scalars(sa.select(SecretBallot.member_class))) == {None}
    # Read as stored (no ORDER BY), the ballots are not in the order the members voted.
    stored = session.scalars(sa.text("SELECT option_id FROM secret_ballots")).all()
    cast = [o.id for o in proposal.options]
    assert sorted(stored) == sorted(cast) and stored != cast
    assert session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_a_secret_vote_gives_a_receipt_that_checks(session, author, make_member, clock):
    member = make_member()
    proposal = propose(session, author, secret=True)
    code = vote(session, member, proposal, 1).receipt
    assert len(code) == proposals.RECEIPT_LENGTH
    assert proposals.check_receipt(session, proposal.id, proposals.format_receipt(code).lower()) \
        == proposals.ReceiptCheck(counted=True, option=None)  # which answer: not before close
    assert not proposals.check_receipt(session, proposal.id, "ABCD-EFGH-JKLM-NPQR").counted
    clock.move_to(AFTER)
    assert proposals.check_receipt(session, proposal.id, code).option.label == "No"


def test_a_second_secret_vote_needs_the_receipt(session, author, make_member, clock):
    member = make_member()
    proposal = propose(session, author, secret=True)
    code = vote(session, member, proposal, 0).receipt
    with pytest.raises(Conflict) as refused:
        vote(session, member, proposal, 1)
    assert refused.value.code == "already_voted"
    with pytest.raises(Conflict):
        vote(session, member, proposal, 1, receipt="WRONG-CODE")
    assert vote(session, member, proposal, 1, receipt=code).replaced
    results = closed_results(session, proposal, clock)
    assert results.counts[proposal.options[1].id] == 1 and results.voters == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(SecretBallot)) == 1


def test_a_class_weighted_advisory_poll_weighs_each_class_the_same(session, author, make_member, clock):
    carers = [make_member(f"Carer {n}") for n in range(3)]
    receiver = make_member("Receiver")
    for carer in carers:
        set_class(session, carer, MemberClass.CARER)
    set_class(session, receiver, MemberClass.CARE_RECEIVER)
    proposal = propose(session, author, kind="advisory", tally=Tally.CLASS_WEIGHTED,
                       options=["Mornings", "Evenings"])
    for carer in carers:
        vote(session, carer, proposal, 0)
    vote(session, receiver, proposal, 1)
    results = closed_results(session, proposal, clock)
    mornings, evenings = (o.id for o in proposal.options)
    assert results.counts == {mornings: 3, evenings: 1}
    assert {g.member_class: g.counts for g in results.by_class} == {
        MemberClass.CARER: {mornings: 3, evenings: 0}, MemberClass.CARE_RECEIVER: {mornings: 0, evenings: 1}}
    assert results.weighted == {mornings: 0.5, evenings: 0.5}


# --- the centre, the discussion and the outcome ---------------------------------------------


def test_a_coordinator_records_a_vote_only_for_a_member_they_manage(
        session, author, coordinator, make_member, make_centre, clock):
    member = make_member("No phone")
    elsewhere = make_member("Elsewhere", centre_id=make_centre("Other centre").id)
    proposal = propose(session, author)
    vote(session, member, proposal, 0, recorded_by=coordinator)
    with pytest.raises(NotFound):
        vote(session, elsewhere, proposal, 0, recorded_by=coordinator)
    assert session.scalar(sa.select(Vote.recorded_by_id)) == coordinator.id
    results = closed_results(session, proposal, clock)
    assert results.through_centre == 1 and results.voters == 1


def test_members_discuss_until_the_vote_closes(session, author, make_member, clock):
    member = make_member()
    proposal = propose(session, author)
    proposals.post_message(session, member, proposal.id, "  I like it.  ")
    for body in ("", "   ", "x" * 2001, None):
        with pytest.raises(ValidationFailed):
            proposals.post_message(session, member, proposal.id, body)
    clock.move_to(AFTER)
    with pytest.raises(Conflict):
        proposals.post_message(session, member, proposal.id, "Too late")
    assert [m.body for m in proposals.thread(session, proposal)] == ["I like it."]


def test_the_outcome_is_written_after_close_and_audited(session, author, coordinator, clock):
    proposal = propose(session, author)
    with pytest.raises(Conflict) as refused:
        proposals.record_outcome(session, coordinator, proposal.id, "We ask the district.")
    assert refused.value.code == "proposal_open"
    clock.move_to(AFTER)
    with pytest.raises(NotAllowed):
        proposals.record_outcome(session, author, proposal.id, "I decide.")
    with pytest.raises(ValidationFailed):
        proposals.record_outcome(session, coordinator, proposal.id, "Fine", date(2027, 3, 1))
    proposals.record_outcome(session, coordinator, proposal.id, "We ask the district.", date(2027, 9, 1))
    session.commit()
    assert (proposal.outcome, proposal.review_on, proposal.outcome_by_id) == (
        "We ask the district.", date(2027, 9, 1), coordinator.id)
    assert session.scalar(sa.select(AuditEntry.action).where(AuditEntry.actor_id == coordinator.id)) \
        == "proposal.outcome"


# --- notices --------------------------------------------------------------------------------


def test_members_are_told_when_a_ballot_opens_but_not_of_each_advisory_poll(session, author, make_member):
    member = make_member()
    propose(session, author, kind="advisory")
    assert told(session, "proposal_opened") == []
    propose(session, author)
    assert told(session, "proposal_opened") == [member.id]  # not the author


def test_the_closing_soon_reminder_goes_once_to_those_who_have_not_voted(session, app, author, make_member, clock):
    voter, forgetful = make_member("Voter"), make_member("Forgetful")
    proposal = propose(session, author)
    vote(session, voter, proposal, 0)
    clock.move_to(CLOSES - timedelta(hours=25))
    assert proposals.remind_closing(session) == 0
    clock.move_to(CLOSES - timedelta(hours=23))
    assert proposals.remind_closing(session) == 1
    session.commit()
    assert proposals.remind_closing(session) == 0  # a second sweep, or a second worker
    assert told(session, "proposal_closing") == sorted([author.id, forgetful.id])
    session.refresh(proposal)
    assert proposal.reminded_at == CLOSES - timedelta(hours=23)


def test_two_workers_finding_the_same_reminder_send_it_once(session, app, author, make_member, clock):
    from carebank.core.extensions import db

    forgetful = make_member("Forgetful")
    propose(session, author)
    clock.move_to(CLOSES - timedelta(hours=2))
    found = proposals.due_reminders(session, utcnow_now())
    session.commit()
    with app.app_context():
        other_worker = db.sessionmaker(bind=db.engine)
        assert proposals.remind_closing(other_worker) == 1
        other_worker.commit()
        other_worker.close()
    assert [proposals.send_reminder(session, proposal_id, utcnow_now()) for proposal_id in found] == [False]
    assert told(session, "proposal_closing") == sorted([author.id, forgetful.id])


def test_the_periodic_task_sends_the_reminder(session, app, author, make_member, clock):
    from carebank.governance import delivery

    forgetful = make_member("Forgetful")
    propose(session, author)
    clock.move_to(CLOSES - timedelta(hours=2))
    with app.app_context():
        delivery.remind_closing()
    assert forgetful.id in told(session, "proposal_closing")


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def board(session, coordinator, make_member):
    member = make_member("Board member")
    session.add(BoardSeat(member_id=member.id, starts_on=NOW.date() - timedelta(days=10)))
    session.commit()
    return member


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_governance_pages_render_in_korean_and_english(
        session, app, author, coordinator, make_member, clock, locale):
    member = make_member("Reader", locale=locale)
    open_one = propose(session, author, secret=True)
    weighted = propose(session, author, kind="advisory", tally=Tally.PER_CLASS)
    vote(session, member, weighted, 0)
    client, console = logged_in(app, member), logged_in(app, coordinator)
    pages = [(client, "/governance/"), (client, "/governance/proposals/new"),
             (client, f"/governance/proposals/{open_one.id}"), (client, f"/governance/proposals/{open_one.id}/receipt"),
             (console, "/console/proposals"), (console, f"/console/proposals/{open_one.id}")]
    headers = {"Accept-Language": locale}
    for who, url in pages:
        response = who.get(url, headers=headers)
        assert response.status_code == 200, url
        assert f'<html lang="{locale}">' in response.get_data(as_text=True), url
    for url in ("/governance/", f"/governance/proposals/{open_one.id}"):
        text = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "never replaces it" in text or locale == "ko", url
    clock.move_to(AFTER)
    page = client.get(f"/governance/proposals/{weighted.id}", headers=headers)
    assert page.status_code == 200
    assert console.get(f"/console/proposals/{weighted.id}", headers=headers).status_code == 200
    if locale == "en":
        text = page.get_data(as_text=True)
        assert "Advisory poll — counted by member class, it decides nothing" in text
        assert "1 vote" in text


def test_results_are_not_on_the_page_before_close_even_for_the_centre(session, app, author, coordinator,
                                                                     make_member, clock):
    member = make_member()
    proposal = propose(session, author, options=["Mornings", "Evenings"])
    vote(session, member, proposal, 0)
    console = logged_in(app, coordinator)
    pages = [(console, f"/governance/proposals/{proposal.id}"), (console, f"/console/proposals/{proposal.id}"),
             (logged_in(app, author), f"/governance/proposals/{proposal.id}")]
    for who, url in pages:
        text = who.get(url).get_data(as_text=True)
        assert "Results" not in text and "1 vote" not in text, url
    clock.move_to(AFTER)
    text = logged_in(app, member).get(f"/governance/proposals/{proposal.id}").get_data(as_text=True)
    assert "Results" in text and "1 vote" in text


def test_a_member_votes_on_the_page_and_sees_their_choice(session, app, author, make_member):
    member = make_member()
    proposal = propose(session, author)
    client = logged_in(app, member)
    response = client.post(f"/governance/proposals/{proposal.id}/vote",
                           data={"option": proposal.options[1].id}, follow_redirects=True)
    assert response.status_code == 200
    assert "You chose: No" in response.get_data(as_text=True)


def test_a_secret_vote_on_the_page_shows_the_receipt_once(session, app, author, make_member):
    member = make_member()
    proposal = propose(session, author, secret=True)
    client = logged_in(app, member)
    response = client.post(f"/governance/proposals/{proposal.id}/vote", data={"option": proposal.options[0].id})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Keep this receipt" in text
    again = client.get(f"/governance/proposals/{proposal.id}").get_data(as_text=True)
    assert "Keep this receipt" not in again and "You have voted" in again
    refused = client.post(f"/governance/proposals/{proposal.id}/vote", data={"option": proposal.options[1].id})
    assert refused.status_code == 409


@pytest.mark.parametrize("data, status", [
    ({"option": "999999"}, 400),
    ({}, 400),
    ({"option": "abc"}, 400),
])
def test_a_bad_vote_on_the_page_changes_nothing(session, app, author, make_member, data, status):
    member = make_member()
    proposal = propose(session, author)
    other = propose(session, author, title="Other")
    client = logged_in(app, member)
    assert client.post(f"/governance/proposals/{proposal.id}/vote", data=data).status_code == status
    assert client.post(f"/governance/proposals/{proposal.id}/vote",
                       data={"option": other.options[0].id}).status_code == 400
    assert client.post("/governance/proposals/99999999999/vote", data=data).status_code == 404
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_a_new_proposal_from_the_page_opens_for_votes(session, app, author):
    client = logged_in(app, author)
    response = client.post("/governance/proposals/new", data={
        "title": "Tea on Fridays", "body": "At the centre, 3 pm.", "answers": "Yes please\nNo thanks\n",
        "closes_at": "2027-03-05T18:00", "kind": "member", "tally": "one_member_one_vote"})
    assert response.status_code == 302
    proposal = session.scalar(sa.select(Proposal))
    assert [o.label for o in proposal.options] == ["Yes please", "No thanks"]
    # 18:00 in Seoul, the members' zone.
    assert proposal.closes_at == datetime(2027, 3, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("changes", [
    {"title": ""},
    {"closes_at": "2027-03-01T10:00"},
    {"closes_at": ""},
    {"kind": "board"},  # a member cannot choose it
    {"kind": "member", "tally": "class_weighted"},
    {"answers": "Same\nsame"},
])
def test_a_bad_proposal_from_the_page_changes_nothing(session, app, author, changes):
    client = logged_in(app, author)
    data = {"title": "Tea", "closes_at": "2027-03-05T18:00", "kind": "member", "tally": "one_member_one_vote"}
    response = client.post("/governance/proposals/new", data=data | changes)
    assert response.status_code == 400
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_unknown_proposals_are_not_found(app, author):
    client = logged_in(app, author)
    for url in ("/governance/proposals/424242", "/governance/proposals/99999999999",
                "/governance/proposals/424242/receipt"):
        assert client.get(url).status_code == 404


def test_pages_need_a_login(client):
    assert client.get("/governance/").status_code == 302


def test_the_centre_writes_the_outcome_and_members_see_it(session, app, author, coordinator, clock):
    proposal = propose(session, author)
    console = logged_in(app, coordinator)
    clock.move_to(AFTER)
    assert proposal.title in console.get("/console/proposals").get_data(as_text=True)
    response = console.post(f"/console/proposals/{proposal.id}",
                            data={"outcome": "We ask the district in April.", "review_on": "2027-09-01"})
    assert response.status_code == 302
    page = logged_in(app, author).get(f"/governance/proposals/{proposal.id}").get_data(as_text=True)
    assert "We ask the district in April." in page and "2027-09-01" in page
    assert console.post(f"/console/proposals/{proposal.id}", data={"outcome": ""}).status_code == 400
    assert logged_in(app, author).get("/console/proposals").status_code == 403


def test_the_centre_records_a_vote_from_the_console(session, app, author, coordinator, make_member):
    member = make_member("No phone")
    proposal = propose(session, author, secret=True)
    console = logged_in(app, coordinator)
    response = console.post(f"/console/proposals/{proposal.id}/votes",
                            data={"member_id": member.id, "option": proposal.options[0].id})
    assert response.status_code == 200 and "Give the member this receipt" in response.get_data(as_text=True)
    assert console.post(f"/console/proposals/{proposal.id}/votes",
                        data={"member_id": 424242, "option": proposal.options[0].id}).status_code == 404
    session.commit()
    assert session.scalar(sa.select(BallotReceipt.recorded_by_id)) == coordinator.id


def test_discussion_on_the_page(session, app, author, make_member):
    member = make_member()
    proposal = propose(session, author)
    client = logged_in(app, member)
    assert client.post(f"/governance/proposals/{proposal.id}/messages", data={"body": "Good idea"}).status_code == 302
    assert client.post(f"/governance/proposals/{proposal.id}/messages", data={"body": ""}).status_code == 400
    assert "Good idea" in client.get(f"/governance/proposals/{proposal.id}").get_data(as_text=True)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(ProposalMessage)) == 1


def test_no_option_rows_are_left_by_a_refused_proposal(session, author):
    with pytest.raises(ValidationFailed):
        propose(session, author, options=["One"])
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(ProposalOption)) == 0


def test_an_admin_is_a_coordinator_for_board_ballots(session, make_member, board):
    admin = make_member("Admin", role=Role.ADMIN)
    assert propose(session, admin, kind="board").kind.value == "board"



def test_a_secret_per_class_poll_keeps_the_class_and_withholds_small_classes(session, author, make_member, clock):
    carers = [make_member(f"Carer {n}") for n in range(proposals.SMALL_CLASS)]
    receiver = make_member("Receiver")
    for carer in carers:
        set_class(session, carer, MemberClass.CARER)
    set_class(session, receiver, MemberClass.CARE_RECEIVER)
    proposal = propose(session, author, kind="advisory", tally=Tally.CLASS_WEIGHTED, secret=True,
                       options=["Mornings", "Evenings"])
    for position, carer in enumerate(carers):
        vote(session, carer, proposal, position % 2)
    vote(session, receiver, proposal, 1)
    # The ballots of a per-class poll keep the class, never the member.
    assert set(session.scalars(sa.select(SecretBallot.member_class))) == {MemberClass.CARER, MemberClass.CARE_RECEIVER}
    results = closed_results(session, proposal, clock)
    mornings, evenings = (o.id for o in proposal.options)
    assert results.counts == {mornings: 3, evenings: 3}
    # One care receiver's count would be their choice: withheld, and out of the shares.
    assert [(g.member_class, g.withheld, g.counts) for g in results.by_class] == [
        (MemberClass.CARE_RECEIVER, True, {}), (MemberClass.CARER, False, {mornings: 3, evenings: 2})]
    assert results.weighted == {mornings: 0.6, evenings: 0.4}
