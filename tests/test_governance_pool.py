"""Pool grants decided by the members: a coordinator grants alone up to the bylaw's limit; a
larger grant goes to a ballot, carried out once; budget ballots fund requests in order; every
member sees the grants without names."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import balance, logged_in

from carebank.audit.models import AuditEntry
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotFound, ValidationFailed
from carebank.governance import pool
from carebank.governance.models import (
    GrantRequest,
    GrantRequestStatus,
    MemberClass,
    PoolGrantRecord,
    Proposal,
    ProposalKind,
    RegisterEntry,
    SecretBallot,
    Vote,
)
from carebank.ledger import services as ledger
from carebank.members.models import Role

API = "/api/v1"
LIMIT = 600  # the bylaw's default: 10 h


@pytest.fixture
def filled_pool(session, make_member, policy, earn):
    """Thirty hours donated to the community pool."""
    for n in range(3):
        donor = make_member(f"Donor {n}")
        earn(donor, 600)
        ledger.donate_to_pool(session, donor, 600, "", policy)
    session.commit()


@pytest.fixture
def elder(session, make_member):
    elder = make_member("Kim Young-ja")
    session.add(RegisterEntry(member_id=elder.id, member_class=MemberClass.CARE_RECEIVER,
                              joined_on=elder.created_at.date()))
    session.commit()
    return elder


def pool_balance(session) -> int:
    session.commit()
    return ledger.pool_account(session).balance_minutes


def snapshot(session):
    session.commit()
    return (pool_balance(session), session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
            session.scalar(sa.select(sa.func.count()).select_from(GrantRequest)),
            session.scalar(sa.select(sa.func.count()).select_from(PoolGrantRecord)))


def test_grant_at_the_limit_goes_through_and_is_recorded_without_a_name(session, coordinator, elder,
                                                                        filled_pool, policy):
    transaction = pool.grant(session, coordinator, elder.id, LIMIT, "Winter help", "meals", policy)
    session.commit()
    record = session.get(PoolGrantRecord, transaction.id)
    assert (record.need, record.beneficiary_class, record.decided_by) == ("meals", MemberClass.CARE_RECEIVER,
                                                                          "coordinator")
    assert balance(session, elder) == LIMIT


def test_grant_above_the_limit_is_refused_and_changes_nothing(app, session, coordinator, elder, filled_pool):
    console = logged_in(app, coordinator)
    before = snapshot(session)
    answer = console.post(f"{API}/grants", json={"to_member_id": elder.id, "minutes": LIMIT + 1,
                                                 "memo": "Long illness", "need": "meals"})
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert error["code"] == "grant_needs_ballot" and "ballot of the board" in error["message"]
    page = console.post("/console/grant", data={"to_member_id": elder.id, "hours": 10, "extra_minutes": 10,
                                                "memo": "Long illness", "need": "meals"})
    assert page.status_code == 409 and "Ask for a ballot" in page.get_data(as_text=True)
    assert snapshot(session) == before and balance(session, elder) == 0
    at_limit = console.post(f"{API}/grants", json={"to_member_id": elder.id, "minutes": LIMIT, "memo": "Help"})
    assert at_limit.status_code == 201


def test_bad_need_is_refused(app, coordinator, elder, filled_pool, session):
    console = logged_in(app, coordinator)
    before = snapshot(session)
    answer = console.post(f"{API}/grants", json={"to_member_id": elder.id, "minutes": 60, "memo": "Help",
                                                 "need": "caviar"})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "invalid_need"
    assert snapshot(session) == before


def close(session, proposal_id):
    proposal = session.get(Proposal, proposal_id)
    proposal.closes_at = utcnow() - timedelta(minutes=1)
    session.commit()
    return proposal


def vote(session, proposal, member, position):
    session.add(Vote(proposal_id=proposal.id, member_id=member.id, option_id=proposal.options[position].id))


def test_requested_grant_decided_yes_pays_once(app, session, coordinator, elder, make_member, filled_pool, policy):
    console = logged_in(app, coordinator)
    answer = console.post("/console/grants/request", data={
        "to_member_id": elder.id, "hours": 15, "extra_minutes": 0, "memo": "Long illness", "need": "meals"})
    assert answer.status_code == 302
    request = session.scalars(sa.select(GrantRequest)).one()
    proposal = session.get(Proposal, request.proposal_id)
    assert proposal.kind is ProposalKind.BOARD and "Kim" not in proposal.title + proposal.body
    assert "15 h" in proposal.title and [o.abstain for o in proposal.options] == [False, False, True]
    early = console.post(f"/console/grants/{request.id}/decide")
    assert early.status_code == 409 and balance(session, elder) == 0
    proposal = close(session, proposal.id)
    for member, position in ((make_member("A"), 0), (make_member("B"), 0), (make_member("C"), 1)):
        vote(session, proposal, member, position)
    session.add(SecretBallot(id="x" * 32, proposal_id=proposal.id, option_id=proposal.options[2].id,
                             receipt_hash="0" * 64))
    session.commit()
    assert console.post(f"/console/grants/{request.id}/decide").status_code == 302
    assert balance(session, elder) == 900 and pool_balance(session) == 1800 - 900
    session.refresh(request)
    assert request.status is GrantRequestStatus.GRANTED and request.transaction_id is not None
    assert session.get(PoolGrantRecord, request.transaction_id).decided_by == "board"
    again = console.post(f"/console/grants/{request.id}/decide")
    assert again.status_code == 409 and balance(session, elder) == 900
    with pytest.raises(Conflict):
        pool.decide_grant(session, coordinator, request.id, policy)
    actions = session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("grant.request") == 1 and actions.count("grant.decide") == 1


def test_requested_grant_decided_no_pays_nothing(session, coordinator, elder, make_member, filled_pool, policy):
    request = pool.request_grant(session, coordinator, elder.id, 900, "Long illness", "meals", policy)
    session.commit()
    proposal = close(session, request.proposal_id)
    vote(session, proposal, make_member("A"), 0)
    vote(session, proposal, make_member("B"), 1)  # a tie is not a yes
    session.commit()
    pool.decide_grant(session, coordinator, request.id, policy)
    session.commit()
    assert request.status is GrantRequestStatus.REFUSED and balance(session, elder) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(PoolGrantRecord)) == 0


def test_another_centres_request_is_not_found(session, coordinator, elder, make_member, make_centre,
                                               filled_pool, policy):
    request = pool.request_grant(session, coordinator, elder.id, 900, "Long illness", "meals", policy)
    session.commit()
    other = make_member("Other coordinator", role=Role.COORDINATOR, centre_id=make_centre("Other").id)
    close(session, request.proposal_id)
    with pytest.raises(NotFound):
        pool.decide_grant(session, other, request.id, policy)


def budget_of(session, coordinator, elder, make_member, policy, sizes):
    requests = [pool.request_grant(session, coordinator, make_member(f"Need {i}").id, m, "Help", "meals", policy)
                for i, m in enumerate(sizes)]
    session.commit()
    proposal = pool.open_budget(session, coordinator, 1000, utcnow() + timedelta(days=7), [r.id for r in requests])
    session.commit()
    return proposal, requests


def test_budget_allocation_over_the_budget_is_refused(app, session, coordinator, elder, make_member, policy):
    proposal, _requests = budget_of(session, coordinator, elder, make_member, policy, [700, 400, 300])
    member = make_member("Voter")
    big, middle, small = (o.id for o in proposal.options)
    with pytest.raises(ValidationFailed) as refused:
        pool.allocate(session, member, proposal.id, [big, middle])
    assert refused.value.code == "over_budget"
    session.rollback()
    pool.allocate(session, member, proposal.id, [big, small])
    pool.allocate(session, member, proposal.id, [middle])  # replaces the earlier picks
    session.commit()
    assert set(session.scalars(sa.select(Vote.option_id).where(Vote.member_id == member.id))) == {middle}
    client = logged_in(app, member)
    page = client.post(f"/governance/budgets/{proposal.id}", data={"option_ids": [big, middle]})
    assert page.status_code == 400 and "more than the budget" in page.get_data(as_text=True)
    assert set(session.scalars(sa.select(Vote.option_id).where(Vote.member_id == member.id))) == {middle}
    assert client.post(f"/governance/budgets/{proposal.id}", data={"option_ids": [big]}).status_code == 302
    assert client.get("/governance/budgets/99999").status_code == 404


def test_budget_result_funds_in_order_within_the_budget(app, session, coordinator, elder, make_member,
                                                        filled_pool, policy):
    # Supporters: 700 min ×3, 400 min ×2, 300 min ×1 — the 400 no longer fits after the 700.
    proposal, requests = budget_of(session, coordinator, elder, make_member, policy, [700, 400, 300])
    big, middle, small = (o.id for o in proposal.options)
    for picks in ([big], [big, small], [big], [middle], [middle]):
        pool.allocate(session, make_member("Voter"), proposal.id, picks)
    session.commit()
    with pytest.raises(Conflict):
        pool.budget_result(session, proposal.id)
    close(session, proposal.id)
    lines = pool.budget_result(session, proposal.id)
    assert [(line.option.id, line.supporters, line.funded) for line in lines] == [
        (big, 3, True), (middle, 2, False), (small, 1, True)]
    console = logged_in(app, coordinator)
    assert console.post(f"/console/grants/budgets/{proposal.id}").status_code == 302
    session.commit()
    statuses = [session.get(GrantRequest, r.id).status for r in requests]
    assert statuses == [GrantRequestStatus.GRANTED, GrantRequestStatus.OPEN, GrantRequestStatus.GRANTED]
    assert pool_balance(session) == 1800 - 1000
    assert console.post(f"/console/grants/budgets/{proposal.id}").status_code == 409
    assert pool_balance(session) == 800


def test_the_pool_page_shows_grants_without_names(app, session, coordinator, elder, make_member, filled_pool, policy):
    pool.grant(session, coordinator, elder.id, 120, "Winter help for Kim Young-ja", "meals", policy)
    session.commit()
    page = logged_in(app, make_member("Neighbour")).get("/governance/pool").get_data(as_text=True)
    assert "2 h" in page and "Meals" in page and "Care receivers and families" in page
    assert "By a coordinator" in page and "up to 10 h alone" in page and "ballot of the board" in page
    assert "Kim Young-ja" not in page and "Winter help" not in page


@pytest.mark.parametrize("language", ["en", "ko"])
def test_grant_pages_render_in_both_languages(app, session, coordinator, elder, make_member, filled_pool,
                                              policy, language):
    proposal, _requests = budget_of(session, coordinator, elder, make_member, policy, [700])
    headers = {"Accept-Language": language}
    console = logged_in(app, coordinator)
    for url in ("/console/grants", "/console/grants/budgets/new", f"/console/grants/budgets/{proposal.id}",
                "/console/grant"):
        assert console.get(url, headers=headers).status_code == 200, url
    member = logged_in(app, make_member("Neighbour"))
    for url in ("/governance/pool", f"/governance/budgets/{proposal.id}"):
        assert member.get(url, headers=headers).status_code == 200, url
    close(session, proposal.id)
    assert member.get(f"/governance/budgets/{proposal.id}", headers=headers).status_code == 200
    assert console.get(f"/console/grants/budgets/{proposal.id}", headers=headers).status_code == 200


def test_opening_a_budget_checks_its_input(session, coordinator, elder, make_member, policy):
    request = pool.request_grant(session, coordinator, elder.id, 700, "Help", "meals", policy)
    session.commit()
    soon = utcnow() + timedelta(days=3)
    for budget, closes, ids in ((0, soon, [request.id]), (600, utcnow() - timedelta(hours=1), [request.id]),
                                (600, soon, []), (600, soon, [request.id, request.id])):
        with pytest.raises(ValidationFailed):
            pool.open_budget(session, coordinator, budget, closes, ids)
    with pytest.raises(NotFound):
        pool.open_budget(session, coordinator, 600, soon, [99999])


def test_the_api_requests_decides_and_lists_grants_without_names(app, session, coordinator, elder, make_member,
                                                                 filled_pool):
    console = logged_in(app, coordinator)
    member = logged_in(app, make_member("Neighbour"))
    refused = member.post(f"{API}/governance/grant-requests",
                          json={"to_member_id": elder.id, "minutes": 900, "memo": "Long illness", "need": "meals"})
    assert refused.status_code == 403
    made = console.post(f"{API}/governance/grant-requests",
                        json={"to_member_id": elder.id, "minutes": 900, "memo": "Long illness", "need": "meals"})
    assert made.status_code == 201
    request = made.get_json()["grant_request"]
    assert request["status"] == "open" and request["proposal_id"]
    early = console.post(f"{API}/governance/grant-requests/{request['id']}/decision")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "ballot_still_open"
    proposal = close(session, request["proposal_id"])
    vote(session, proposal, make_member("A"), 0)
    session.commit()
    decided = console.post(f"{API}/governance/grant-requests/{request['id']}/decision")
    assert decided.status_code == 200 and decided.get_json()["grant_request"]["status"] == "granted"
    assert console.post(f"{API}/governance/grant-requests/{request['id']}/decision").status_code == 409
    assert console.post(f"{API}/governance/grant-requests/99999/decision").status_code == 404
    listed = member.get(f"{API}/governance/pool-grants").get_json()
    assert listed["grants"] == [{"granted_at": listed["grants"][0]["granted_at"], "minutes": 900, "need": "meals",
                                 "decided_by": "board", "beneficiary_class": "care_receiver"}]
    assert "Kim" not in str(listed) and balance(session, elder) == 900
