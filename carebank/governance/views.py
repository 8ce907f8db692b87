"""Governance, member side: proposals and their ballots, the assemblies' notices, the pool's
grants and the voice report."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.core.database import utcnow
from carebank.core.errors import DomainError
from carebank.core.extensions import db
from carebank.governance import assemblies, pool, proposals, register, voice
from carebank.governance.forms import ProposalForm, ProposalMessageForm, ReceiptForm, VoteForm
from carebank.governance.register_forms import AllocateForm
from carebank.web import saving

bp = Blueprint("governance", __name__, url_prefix="/governance")

# --- proposals and ballots ---------------------------------------------------------------
# The hub, proposals, their ballots, discussion and receipts: any logged-in member.



@bp.route("/", endpoint="index")
@login_required
def hub():
    now = utcnow()
    closed = proposals.closed_proposals(db.session, now)
    return render_template("governance/index.html", open=proposals.open_proposals(db.session, now),
                           closed=closed, kind_labels=proposals.KIND_LABELS)


@bp.route("/proposals/new", methods=["GET", "POST"], endpoint="proposal_new")
@login_required
def proposal_new():
    form = ProposalForm(board=current_user.is_coordinator)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with saving(form) as saved:
            proposal = proposals.create_proposal(
                db.session, current_user, title=form.title.data, body=form.body.data,
                options=form.option_labels(), closes_at=form.closes_at_utc(), secret=form.secret.data,
                kind=form.kind.data, tally=form.tally.data)
        if saved.ok:
            flash(_("Your proposal is open. Members can discuss it and vote until it closes."), "success")
            return redirect(url_for(".proposal", proposal_id=proposal.id))
        status = saved.error.status
    return render_template("governance/proposals/new.html", form=form), status


@bp.route("/proposals/<id:proposal_id>", endpoint="proposal")
@login_required
def proposal_page(proposal_id: int):
    proposal = proposals.find_proposal(db.session, proposal_id)
    return _render_proposal(proposal)


@bp.route("/proposals/<id:proposal_id>/vote", methods=["POST"], endpoint="proposal_vote")
@login_required
def proposal_vote(proposal_id: int):
    proposal = proposals.find_proposal(db.session, proposal_id)
    form = VoteForm(proposal)
    if not form.validate():
        return _render_proposal(proposal, vote_form=form, status=400)
    with saving(form) as saved:
        cast = proposals.cast_vote(db.session, current_user, proposal.id, form.option.data,
                                   receipt=form.receipt.data or None)
    if not saved.ok:
        return _render_proposal(proposal, vote_form=form, status=saved.error.status)
    if cast.receipt:
        # Shown on this answer only: the receipt is kept nowhere but with the member.
        return _render_proposal(proposal, receipt=proposals.format_receipt(cast.receipt))
    flash(_("Your vote is changed.") if cast.replaced else _("Thank you. Your vote is counted."), "success")
    return redirect(url_for(".proposal", proposal_id=proposal.id))


@bp.route("/proposals/<id:proposal_id>/messages", methods=["POST"], endpoint="proposal_message")
@login_required
def proposal_message(proposal_id: int):
    proposal = proposals.find_proposal(db.session, proposal_id)
    form = ProposalMessageForm()
    if not form.validate():
        return _render_proposal(proposal, message_form=form, status=400)
    with saving(form) as saved:
        proposals.post_message(db.session, current_user, proposal.id, form.body.data)
    if not saved.ok:
        return _render_proposal(proposal, message_form=form, status=saved.error.status)
    return redirect(url_for(".proposal", proposal_id=proposal.id, _anchor="discussion"))


@bp.route("/proposals/<id:proposal_id>/receipt", methods=["GET", "POST"], endpoint="proposal_receipt")
@login_required
def proposal_receipt(proposal_id: int):
    proposal = proposals.find_proposal(db.session, proposal_id)
    form, checked = ReceiptForm(), None
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with saving(form) as saved:
            checked = proposals.check_receipt(db.session, proposal.id, form.code.data)
        status = 200 if saved.ok else saved.error.status
    return render_template("governance/proposals/receipt.html", proposal=proposal, form=form, checked=checked,
                           option_label=proposals.option_label), status


def _render_proposal(proposal, *, vote_form=None, message_form=None, receipt=None, status=200):
    now = utcnow()
    session = db.session
    vote_form = vote_form or VoteForm(proposal, formdata=None)
    mine = proposals.my_vote(session, proposal, current_user)
    if mine is not None and vote_form.option.data is None:
        vote_form.option.data = mine.id
    return render_template(
        "governance/proposals/detail.html", proposal=proposal, closed=proposal.is_closed(now),
        vote_form=vote_form, message_form=message_form or ProposalMessageForm(formdata=None),
        receipt=receipt, mine=mine, voted=proposals.has_voted(session, proposal, current_user.id),
        may_vote=proposals.may_vote(session, proposal, current_user.id),
        may_discuss=proposals.may_discuss(session, proposal, current_user, now),
        messages=proposals.thread(session, proposal), results=proposals.results(session, proposal, now),
        kind_labels=proposals.KIND_LABELS, option_label=proposals.option_label,
        class_label=proposals.register.class_label,
        weighted_label=proposals.WEIGHTED_LABEL, small_class=proposals.SMALL_CLASS), status


# --- assemblies ----------------------------------------------------------------------------
# The notice of a general assembly, and after it closed, its results and minutes: any
# logged-in member.



@bp.route("/assemblies/<id:assembly_id>", endpoint="assembly")
@login_required
def assembly_notice(assembly_id: int):
    assembly = assemblies.find_assembly(db.session, assembly_id)
    quorum = assemblies.quorum(db.session, assembly) if assembly.is_closed else None
    return render_template("governance/assemblies/notice.html", assembly=assembly, quorum=quorum)


@bp.route("/assemblies/<id:assembly_id>/minutes.pdf", endpoint="assembly_minutes")
@login_required
def assembly_minutes(assembly_id: int):
    assembly = assemblies.find_assembly(db.session, assembly_id)
    if not assembly.is_closed:
        abort(404)  # members read the sealed minutes only
    return Response(assembly.minutes_pdf, mimetype="application/pdf",
                     headers={"Content-Disposition": f'inline; filename="minutes-{assembly.id}.pdf"'})


# --- pool grants and the voice report ------------------------------------------------------
# The pool's grants without names, budget ballots and the voice report: any logged-in member.



@bp.route("/pool", endpoint="pool")
@login_required
def pool_grants():
    return render_template("governance/pool.html", grants=pool.public_grants(db.session),
                        policy_words=pool.policy_words(db.session), labels=pool.HOW_DECIDED,
                        class_label=register.class_label,
                        balance=pool.ledger.pool_account(db.session).balance_minutes)


@bp.route("/budgets/<id:proposal_id>", methods=["GET", "POST"], endpoint="budget")
@login_required
def budget(proposal_id: int):
    proposal = pool.get_budget(db.session, proposal_id)
    minutes = pool.option_minutes(db.session, proposal)
    form = AllocateForm()
    form.option_ids.choices = [(o.id, o.label) for o in proposal.options]
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            with saving(form) as saved:
                pool.allocate(db.session, current_user, proposal.id, form.option_ids.data or [])
            if saved.ok:
                flash(gettext("Thank you. Your choices are saved; you can change them until the ballot closes."),
                            "success")
                return redirect(url_for(".budget", proposal_id=proposal.id))
            status = saved.error.status
    else:
        form.option_ids.data = sorted(pool.picks_of(db.session, current_user, proposal))
    closed = proposal.is_closed(utcnow())
    return render_template("governance/pool_budget.html", proposal=proposal, form=form, minutes=minutes, closed=closed,
                        lines=pool.budget_result(db.session, proposal.id) if closed else []), status


def voice_page(template: str = "governance/voice.html"):
    """The voice report of the quarter asked for (?quarter=2026-Q4; default the last full one)."""
    today = utcnow().date()
    status, error = 200, None
    try:
        period = (voice.quarter(request.args["quarter"]) if request.args.get("quarter")
                  else voice.last_full_quarter(today))
    except DomainError as refused:
        status, error, period = refused.status, refused.message, voice.last_full_quarter(today)
    report = voice.voice_report(db.session, period.start, period.end)
    return render_template(template, report=report, period=period, quarters=voice.recent_quarters(today),
                        error=error, suppress_below=voice.SUPPRESS_BELOW, today=today), status


@bp.route("/voice", endpoint="voice")
@login_required
def voice_report():
    return voice_page()


@bp.route("/voice/assemblies/<id:assembly_id>", endpoint="assembly_voice")
@login_required
def assembly_voice(assembly_id: int):
    report = voice.assembly_voice(db.session, assembly_id)
    return render_template("governance/voice_assembly.html", report=report, suppress_below=voice.SUPPRESS_BELOW)
