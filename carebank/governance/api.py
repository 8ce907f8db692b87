"""API v1: proposals and votes, assemblies (attendance, motions, tallies, minutes) and the
voice report."""
from __future__ import annotations

from datetime import date

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.api import api
from carebank.api import serialize as out
from carebank.api.handler import body, created, login_required, parse_datetime, text
from carebank.core.database import utcnow
from carebank.core.errors import ValidationFailed
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.governance import assemblies, pool, proposals, voice

# --- proposals and ballots ---------------------------------------------------------------
# Proposals, votes, discussion and receipts: any logged-in member. Results are null until the
# proposal closes, for everyone.



@api.get("/proposals")
@login_required
def proposals_list():
    now = utcnow()
    return jsonify({
        "open": [_proposal(p, now) for p in proposals.open_proposals(db.session, now)],
        "closed": [_proposal(p, now) for p in proposals.closed_proposals(db.session, now)],
    })


@api.post("/proposals")
@login_required
def proposal_create():
    data = body()
    proposal = proposals.create_proposal(
        db.session, current_user, title=text(data, "title"), body=text(data, "body"),
        options=data.get("options"), closes_at=parse_datetime(data, "closes_at"), secret=data.get("secret"),
        kind=data.get("kind"), tally=data.get("tally"))
    return created({"proposal": _proposal(proposal, utcnow())})


@api.get("/proposals/<id:proposal_id>")
@login_required
def proposal_get(proposal_id: int):
    return jsonify({"proposal": _proposal(proposals.find_proposal(db.session, proposal_id), utcnow())})


@api.post("/proposals/<id:proposal_id>/votes")
@login_required
def proposal_vote_create(proposal_id: int):
    """201 for a first vote (a secret ballot's answer holds its receipt, given only now), 200
    when it replaced an earlier one."""
    data = body()
    option = data.get("option")
    cast = proposals.cast_vote(db.session, current_user, proposal_id, option, receipt=text(data, "receipt"))
    answer = {"vote": {"option": option, "replaced": cast.replaced}}
    if cast.receipt:
        answer["receipt"] = proposals.format_receipt(cast.receipt)
    return (jsonify(answer), 200) if cast.replaced else created(answer)


@api.get("/proposals/<id:proposal_id>/messages")
@login_required
def proposal_messages(proposal_id: int):
    proposal = proposals.find_proposal(db.session, proposal_id)
    return jsonify({"messages": [_message(m) for m in proposals.thread(db.session, proposal)]})


@api.post("/proposals/<id:proposal_id>/messages")
@login_required
def proposal_message_create(proposal_id: int):
    data = body()
    message = proposals.post_message(db.session, current_user, proposal_id, text(data, "body"))
    return created({"message": _message(message)})


@api.post("/proposals/<id:proposal_id>/receipt")
@login_required
def proposal_receipt_check(proposal_id: int):
    """Whether a secret ballot's receipt is counted; after close, for which answer."""
    checked = proposals.check_receipt(db.session, proposal_id, text(body(), "receipt"))
    return jsonify({"counted": checked.counted, "option": checked.option.id if checked.option else None})


def _proposal(proposal, now) -> dict:
    session = db.session
    mine = proposals.my_vote(session, proposal, current_user)
    return {
        "id": proposal.id, "title": proposal.title, "body": proposal.body, "kind": proposal.kind.value,
        "tally": proposal.tally.value, "secret": proposal.secret,
        "advisory_label": str(proposals.WEIGHTED_LABEL) if proposal.is_weighted else None,
        "author": out.member(proposal.author), "record_date": proposal.record_date.isoformat(),
        "created_at": out.iso(proposal.created_at), "closes_at": out.iso(proposal.closes_at),
        "closed": proposal.is_closed(now),
        "options": [{"id": o.id, "position": o.position, "label": proposals.option_label(o), "abstain": o.abstain}
                    for o in proposal.options],
        "may_vote": proposals.may_vote(session, proposal, current_user.id),
        "voted": proposals.has_voted(session, proposal, current_user.id),
        "my_vote": mine.id if mine else None,
        "outcome": proposal.outcome or None,
        "review_on": proposal.review_on.isoformat() if proposal.review_on else None,
        "results": _results(proposals.results(session, proposal, now)),
    }


def _results(found) -> dict | None:
    if found is None:
        return None
    return {
        "counts": [{"option": option_id, "votes": votes} for option_id, votes in found.counts.items()],
        "voters": found.voters, "eligible": found.eligible, "turnout": round(found.turnout, 4),
        "through_centre": found.through_centre,
        "by_class": [{"member_class": g.member_class.value if g.member_class else None, "voters": g.voters,
                      "withheld": g.withheld,
                      "counts": [{"option": o, "votes": v} for o, v in g.counts.items()]} for g in found.by_class],
        "weighted": [{"option": o, "share": round(s, 4)} for o, s in found.weighted.items()],
    }


def _message(message) -> dict:
    return {"id": message.id, "author": out.member(message.author), "body": message.body,
            "created_at": out.iso(message.created_at)}


# --- assemblies ----------------------------------------------------------------------------
# Coordinators and admins run the assembly (the services refuse anyone else with 403).




def _assembly_json(assembly) -> dict:
    return {
        "id": assembly.id, "title": assembly.title, "held_at": assembly.held_at.isoformat(),
        "place": assembly.place, "agenda": assembly.agenda,
        "record_date": assembly.record_date.isoformat(),
        "chair_id": assembly.chair_id, "teller_ids": [i for i in (assembly.teller_one_id,
                                                                 assembly.teller_two_id) if i],
        "closed_at": assembly.closed_at.isoformat() if assembly.closed_at else None,
        "minutes_sha256": assembly.minutes_sha256,
    }


def _motion_json(motion) -> dict:
    return {
        "id": motion.id, "assembly_id": motion.assembly_id, "position": motion.position,
        "title": motion.title, "special": motion.special, "proposal_id": motion.proposal_id,
        "bylaw_key": motion.bylaw_key, "bylaw_value": motion.bylaw_value,
        "bylaw_applied": motion.bylaw_applied_at is not None,
        "votes_for": motion.votes_for, "votes_against": motion.votes_against,
        "abstain": motion.votes_abstain, "present": motion.present, "threshold": motion.threshold,
        "quorum_met": motion.quorum_met, "passed": motion.passed,
    }


def _record_date(data: dict):
    value = data.get("record_date")
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        pass
    message = _l("Give the record date as a day, like 2026-05-01.")
    raise ValidationFailed(message, fields={"record_date": message})


@api.post("/assemblies")
@login_required
def assembly_call():
    data = body()
    held_at = parse_datetime(data, "held_at")
    assembly = assemblies.call_assembly(
        db.session, current_user, title=text(data, "title"), held_at=held_at,
        place=text(data, "place") or "", agenda=text(data, "agenda") or "",
        record_date=_record_date(data))
    return created({"assembly": _assembly_json(assembly)})


@api.get("/assemblies/<id:assembly_id>")
@login_required
def assembly_show(assembly_id: int):
    assembly = assemblies.get_assembly(db.session, current_user, assembly_id)
    now = assemblies.quorum(db.session, assembly)
    return jsonify({"assembly": _assembly_json(assembly), "eligible": now.eligible,
                     "present": now.present, "proxies": now.proxies, "total": now.total,
                     "needed": now.needed, "quorum_met": now.met,
                     "motions": [_motion_json(m) for m in assembly.motions]})


@api.post("/assemblies/<id:assembly_id>/attendance")
@login_required
def assembly_attendance(assembly_id: int):
    data = body()
    if data.get("card") is not None:
        attendance = assemblies.check_in_by_card(db.session, current_user, assembly_id, text(data, "card"),
                                                  text(data, "pin") or "")
    else:
        attendance = assemblies.record_attendance(
            db.session, current_user, assembly_id, data.get("member_id"),
            proxy_for_member_id=data.get("proxy_for_member_id"), proof=text(data, "proof") or "")
    now = assemblies.quorum(db.session, assemblies.find_assembly(db.session, assembly_id))
    return created({"attendance": {
        "id": attendance.id, "member_id": attendance.member_id,
        "proxy_for_member_id": attendance.proxy_for_member_id, "method": attendance.method.value,
    }, "present": now.present, "proxies": now.proxies, "quorum_met": now.met})


@api.post("/assemblies/<id:assembly_id>/motions")
@login_required
def assembly_motion(assembly_id: int):
    data = body()
    motion = assemblies.add_motion(
        db.session, current_user, assembly_id, title=text(data, "title"), special=data.get("special", False),
        proposal_id=data.get("proposal_id"), bylaw_key=data.get("bylaw_key"),
        bylaw_value=data.get("bylaw_value"))
    return created({"motion": _motion_json(motion)})


@api.post("/assemblies/<id:assembly_id>/officers")
@login_required
def assembly_officers(assembly_id: int):
    data = body()
    assembly = assemblies.set_officers(
        db.session, current_user, assembly_id, chair_id=data.get("chair_id"),
        teller_ids=data.get("teller_ids"), signer_ids=data.get("signer_ids"))
    signers = [m.id for m in assemblies.signers_of(db.session, assembly)]
    return jsonify({"assembly": _assembly_json(assembly), "signer_ids": signers})


@api.post("/motions/<id:motion_id>/tally")
@login_required
def motion_tally(motion_id: int):
    data = body()
    motion = assemblies.tally(db.session, current_user, motion_id, data.get("for"), data.get("against"),
                               data.get("abstain"))
    return jsonify({"passed": motion.passed, "threshold": motion.threshold,
                     "quorum_met": motion.quorum_met, "motion": _motion_json(motion)})


@api.post("/assemblies/<id:assembly_id>/close")
@login_required
def assembly_close(assembly_id: int):
    assembly = assemblies.close_assembly(db.session, current_user, assembly_id)
    return jsonify({"assembly": _assembly_json(assembly)})


@api.get("/assemblies/<id:assembly_id>/minutes.pdf")
@login_required
def assembly_minutes(assembly_id: int):
    assembly = assemblies.get_assembly(db.session, current_user, assembly_id)
    pdf, name = assemblies.minutes_download(db.session, assembly)
    return Response(pdf, mimetype="application/pdf",
                     headers={"Content-Disposition": f'inline; filename="{name}"'})


# --- pool grants and the voice report ------------------------------------------------------
# The voice report, the pool's grants without names and budget picks: any logged-in member;
# grant requests and their decisions: coordinators (the services check).



@api.get("/governance/voice-report")
@login_required
def voice_report():
    """?quarter=YYYY-Qn (default: the last full quarter)."""
    asked = request.args.get("quarter")
    period = voice.quarter(asked) if asked is not None else voice.last_full_quarter(utcnow().date())
    return jsonify(voice.voice_report(db.session, period.start, period.end).as_json())


def _grant_request_json(request) -> dict:
    return {"id": request.id, "recipient_id": request.recipient_id, "minutes": request.minutes,
            "need": request.need, "status": request.status.value, "proposal_id": request.proposal_id,
            "transaction_id": request.transaction_id}


@api.get("/governance/pool-grants")
@login_required
def pool_grants():
    """The pool's grants as every member sees them: no names."""
    grants = pool.public_grants(db.session)
    return jsonify({"policy": pool.policy_words(db.session), "grants": [
        {"granted_at": g.granted_at.isoformat(), "minutes": g.minutes, "need": g.need or None,
         "decided_by": g.decided_by, "beneficiary_class": g.beneficiary_class.value if g.beneficiary_class else None}
        for g in grants]})


@api.post("/governance/grant-requests")
@login_required
def grant_request_create():
    """A coordinator puts a grant above their limit to a ballot."""
    data = body()
    grant_request = pool.request_grant(db.session, current_user, data.get("to_member_id"), data.get("minutes"),
                                       text(data, "memo"), text(data, "need"), current_policy())
    return created({"grant_request": _grant_request_json(grant_request)})


@api.post("/governance/grant-requests/<id:request_id>/decision")
@login_required
def grant_request_decide(request_id: int):
    """A coordinator carries out a closed ballot's decision, once."""
    decided = pool.decide_grant(db.session, current_user, request_id, current_policy())
    return jsonify({"grant_request": _grant_request_json(decided)})


@api.post("/governance/budgets/<id:proposal_id>/allocation")
@login_required
def budget_allocate(proposal_id: int):
    """A member's picks on a budget ballot (replacing earlier ones)."""
    votes = pool.allocate(db.session, current_user, proposal_id, body().get("option_ids"))
    return jsonify({"option_ids": [v.option_id for v in votes]})
