"""Console: the co-op's register, bylaws, assemblies at the door, proposals' outcomes and
grant requests."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from carebank.centres.services import managed_member, scope_filter
from carebank.core.database import utcnow
from carebank.core.errors import NotFound
from carebank.core.extensions import db
from carebank.core.paging import requested_page
from carebank.core.policy import current_policy
from carebank.governance import (
    assemblies,
    assembly_forms,
    bylaws,
    pool,
    proposals,
    register,
    register_forms,
    voice,
)
from carebank.governance.forms import OutcomeForm, RecordVoteForm
from carebank.governance.models import BoardSeat, Bylaw, MemberClass, Motion, Proposal, RegisterEntry
from carebank.governance.views import voice_page
from carebank.ledger import services as ledger
from carebank.ledger.forms import ConsoleGrantForm
from carebank.members.models import Member
from carebank.web import saving
from carebank.web.console import bp
from carebank.web.forms import EmptyForm

# --- proposals and ballots ---------------------------------------------------------------
# Closed proposals waiting for their outcome, the outcome form, and votes recorded for members
# without a phone. Coordinators and admins only (the console's before_request).



@bp.route("/proposals", endpoint="proposals")
def proposals_index():
    now = utcnow()
    return render_template(
        "console/governance/proposals/index.html", kind_labels=proposals.KIND_LABELS,
        awaiting=proposals.awaiting_outcome(db.session, current_user, now),
        open=proposals.open_proposals(db.session, now), closed=proposals.closed_proposals(db.session, now))


@bp.route("/proposals/<id:proposal_id>", methods=["GET", "POST"], endpoint="proposal_detail")
def proposal_outcome(proposal_id: int):
    proposal = proposals.find_proposal(db.session, proposal_id)
    form = OutcomeForm(outcome=proposal.outcome, review_on=proposal.review_on)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with saving(form) as saved:
            proposals.record_outcome(db.session, current_user, proposal.id, form.outcome.data, form.review_on.data)
        if saved.ok:
            flash(_("The outcome is saved. Members see it on the proposal page."), "success")
            return redirect(url_for(".proposals"))
        status = saved.error.status
    return _render_console_proposal(proposal, outcome_form=form), status


@bp.route("/proposals/<id:proposal_id>/votes", methods=["POST"], endpoint="proposal_record_vote")
def proposal_record_vote(proposal_id: int):
    """A vote a member without a phone gave the centre (by telephone or at the desk)."""
    proposal = proposals.find_proposal(db.session, proposal_id)
    form = RecordVoteForm(proposal)
    if not form.validate():
        return _render_console_proposal(proposal, vote_form=form), 400
    with saving(form) as saved:
        member = managed_member(db.session, current_user, form.member_id.data)
        cast = proposals.cast_vote(db.session, member, proposal.id, form.option.data,
                                   receipt=form.receipt.data or None, recorded_by=current_user)
    if not saved.ok:
        return _render_console_proposal(proposal, vote_form=form), saved.error.status
    if cast.receipt:
        return _render_console_proposal(proposal, receipt=proposals.format_receipt(cast.receipt), voter=member)
    flash(_("The member's vote is changed.") if cast.replaced else _("The member's vote is recorded."), "success")
    return redirect(url_for(".proposal_detail", proposal_id=proposal.id))


def _render_console_proposal(proposal, *, outcome_form=None, vote_form=None, receipt=None, voter=None):
    now = utcnow()
    return render_template(
        "console/governance/proposals/detail.html", proposal=proposal, closed=proposal.is_closed(now),
        outcome_form=outcome_form or OutcomeForm(formdata=None, outcome=proposal.outcome, review_on=proposal.review_on),
        vote_form=vote_form or RecordVoteForm(proposal, formdata=None), receipt=receipt, voter=voter,
        results=proposals.results(db.session, proposal, now), kind_labels=proposals.KIND_LABELS,
        option_label=proposals.option_label, class_label=proposals.register.class_label,
        weighted_label=proposals.WEIGHTED_LABEL, small_class=proposals.SMALL_CLASS)


# --- assemblies ----------------------------------------------------------------------------
# The general assembly in person: calling it, the door register, officers, motions, the count,
# closing and the minutes. Coordinators and admins only (the console's before_request).



@bp.route("/assemblies", endpoint="assemblies")
def assemblies_index():
    return render_template("console/governance/assemblies/index.html",
                   assemblies=assemblies.assemblies_list(db.session, current_user))


@bp.route("/assemblies/new", methods=["GET", "POST"], endpoint="assembly_new")
def assembly_new():
    form = assembly_forms.CallAssemblyForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with saving(form) as saved:
            assembly = assemblies.call_assembly(db.session, current_user, **form.service_args())
        if saved.ok:
            flash(_("The assembly is called and its notice is on its way to every member."), "success")
            return redirect(url_for(".assembly_detail", assembly_id=assembly.id))
        status = saved.error.status
    return render_template("console/governance/assemblies/new.html", form=form), status


@bp.route("/assemblies/<id:assembly_id>", endpoint="assembly_detail")
def assembly_detail(assembly_id: int):
    return _assembly_page(assemblies.get_assembly(db.session, current_user, assembly_id))


def _assembly_page(assembly, status: int = 200, **forms):
    """The assembly's console page, with any submitted form (and its errors) in place."""
    session = db.session
    present = [a.member for a in assemblies.attendance_list(session, assembly) if a.proxy_for_member_id is None]
    officers = forms.get("officers") or assembly_forms.OfficersForm(formdata=None)
    officers.fill(present)
    motion_form = forms.get("motion") or assembly_forms.MotionForm(formdata=None)
    motion_form.fill()
    now = assemblies.quorum(session, assembly)
    tally_forms = {m.id: (forms.get("tally") if forms.get("tally_for") == m.id else None)
                   or assembly_forms.TallyForm(formdata=None, prefix=f"m{m.id}") for m in assembly.motions}
    return render_template(
        "console/governance/assemblies/detail.html", assembly=assembly, quorum=now,
        attendances=assemblies.attendance_list(session, assembly),
        by_method=assemblies.count_by_method(session, assembly),
        signers=assemblies.signers_of(session, assembly), tellers=assemblies.tellers_of(session, assembly),
        special_needs=assemblies.special_threshold(session, now.total),
        attendance_form=forms.get("attendance") or assembly_forms.AttendanceForm(formdata=None),
        card_form=forms.get("card") or assembly_forms.CardCheckInForm(formdata=None),
        officers_form=officers, motion_form=motion_form, tally_forms=tally_forms, close_form=EmptyForm(),
    ), status


def _after(assembly_id: int, saved, message: str, anchor: str):
    """Redirect to the page after a saved form (flashing `message`), else None."""
    if saved.ok:
        flash(message, "success")
        return redirect(url_for(".assembly_detail", assembly_id=assembly_id, _anchor=anchor))
    return None


def _refused(assembly_id: int, status: int, **forms):
    return _assembly_page(assemblies.get_assembly(db.session, current_user, assembly_id), status, **forms)


@bp.post("/assemblies/<id:assembly_id>/attendance", endpoint="assembly_attendance")
def assembly_attendance(assembly_id: int):
    form = assembly_forms.AttendanceForm()
    if not form.validate():
        return _refused(assembly_id, 400, attendance=form)
    with saving(form) as saved:
        assemblies.record_attendance(db.session, current_user, assembly_id, form.member_id.data,
                                      proxy_for_member_id=form.proxy_for_member_id.data, proof=form.proof.data)
    done = _after(assembly_id, saved, _("Recorded."), "door")
    return done or _refused(assembly_id, saved.error.status, attendance=form)


@bp.post("/assemblies/<id:assembly_id>/card", endpoint="assembly_card")
def assembly_card(assembly_id: int):
    form = assembly_forms.CardCheckInForm()
    if not form.validate():
        return _refused(assembly_id, 400, card=form)
    with saving(form) as saved:
        assemblies.check_in_by_card(db.session, current_user, assembly_id, form.code.data, form.pin.data or "")
    done = _after(assembly_id, saved, _("Recorded."), "door")
    return done or _refused(assembly_id, saved.error.status, card=_cleared_pin(form))


def _cleared_pin(form):
    form.pin.data = ""  # a PIN is never sent back in the page
    return form


@bp.post("/assemblies/<id:assembly_id>/officers", endpoint="assembly_officers")
def assembly_officers(assembly_id: int):
    assembly = assemblies.get_assembly(db.session, current_user, assembly_id)
    form = assembly_forms.OfficersForm()
    form.fill([a.member for a in assemblies.attendance_list(db.session, assembly) if a.proxy_for_member_id is None])
    if not form.validate():
        return _assembly_page(assembly, 400, officers=form)
    with saving(form) as saved:
        assemblies.set_officers(db.session, current_user, assembly_id, **form.service_args())
    done = _after(assembly_id, saved, _("The officers are recorded."), "officers")
    return done or _refused(assembly_id, saved.error.status, officers=form)


@bp.post("/assemblies/<id:assembly_id>/motions", endpoint="assembly_motion")
def assembly_motion(assembly_id: int):
    form = assembly_forms.MotionForm()
    form.fill()
    if not form.validate():
        return _refused(assembly_id, 400, motion=form)
    with saving(form) as saved:
        assemblies.add_motion(db.session, current_user, assembly_id, **form.service_args())
    done = _after(assembly_id, saved, _("The motion is on the agenda."), "motions")
    return done or _refused(assembly_id, saved.error.status, motion=form)


@bp.post("/motions/<id:motion_id>/tally", endpoint="motion_tally")
def motion_tally(motion_id: int):
    motion = assemblies.get_motion(db.session, current_user, motion_id)
    assembly_id = motion.assembly_id
    form = assembly_forms.TallyForm(prefix=f"m{motion.id}")
    if not form.validate():
        return _refused(assembly_id, 400, tally=form, tally_for=motion.id)
    with saving(form) as saved:
        assemblies.tally(db.session, current_user, motion_id, form.votes_for.data, form.votes_against.data,
                          form.abstain.data)
    done = _after(assembly_id, saved, _("The count is recorded."), f"motion-{motion_id}")
    return done or _refused(assembly_id, saved.error.status, tally=form, tally_for=motion_id)


@bp.post("/assemblies/<id:assembly_id>/close", endpoint="assembly_close")
def assembly_close(assembly_id: int):
    form = EmptyForm()
    if not form.validate():
        return _refused(assembly_id, 400)
    with saving(form) as saved:
        assemblies.close_assembly(db.session, current_user, assembly_id)
    done = _after(assembly_id, saved, _("The assembly is closed and its minutes are sealed."), "minutes")
    return done or _refused(assembly_id, saved.error.status)


@bp.route("/assemblies/<id:assembly_id>/notice", endpoint="assembly_notice")
def assembly_notice(assembly_id: int):
    assembly = assemblies.get_assembly(db.session, current_user, assembly_id)
    return render_template("console/governance/assemblies/notice.html", assembly=assembly)


@bp.route("/assemblies/<id:assembly_id>/quorum.json", endpoint="assembly_quorum")
def assembly_quorum(assembly_id: int):
    now = assemblies.quorum(db.session, assemblies.get_assembly(db.session, current_user, assembly_id))
    return jsonify({"eligible": now.eligible, "present": now.present, "proxies": now.proxies,
                     "total": now.total, "needed": now.needed, "quorum_met": now.met})


@bp.route("/assemblies/<id:assembly_id>/minutes.pdf", endpoint="assembly_minutes")
def assembly_minutes(assembly_id: int):
    assembly = assemblies.get_assembly(db.session, current_user, assembly_id)
    pdf, name = assemblies.minutes_download(db.session, assembly)
    return Response(pdf, mimetype="application/pdf",
                     headers={"Content-Disposition": f'inline; filename="{name}"'})


# --- register, bylaws, pool grants and the voice report ------------------------------------
# Coordinators and admins only (the console's before_request); every member is loaded through
# centres.managed_member, so another centre's member is "not found".



REGISTER_PAGE_SIZE = 50


@bp.app_template_filter("seat_name")
def seat_name(body: str) -> str:
    return voice.seat_name(body)


@bp.app_template_global("register_class_of")
def register_class_of(member_id: int):
    """A member's class in the register, as words (the console's member page shows it)."""
    return register.class_label(register.class_of(db.session, member_id))


def _register_rows(member_class: str, page):
    query = (sa.select(Member, RegisterEntry).outerjoin(RegisterEntry, RegisterEntry.member_id == Member.id)
             .where(scope_filter(current_user)).order_by(Member.name, Member.id))
    if member_class == "unset":
        query = query.where(RegisterEntry.member_class.is_(None))
    elif member_class:
        query = query.where(RegisterEntry.member_class == MemberClass(member_class))
    return page.split(db.session.execute(query.limit(page.limit).offset(page.offset)).all())


def _seats_now(member_ids) -> dict[int, list]:
    today = date.today()
    found: dict[int, list] = {}
    for seat in db.session.scalars(sa.select(BoardSeat).where(BoardSeat.member_id.in_(member_ids))):
        if seat.is_held_on(today):
            found.setdefault(seat.member_id, []).append(seat)
    return found


@bp.route("/register", endpoint="register")
def register_index():
    form = register_forms.RegisterFilterForm(request.args)
    chosen = form.member_class.data if form.validate() else ""
    page = requested_page(REGISTER_PAGE_SIZE)
    rows, more = _register_rows(chosen or "", page)
    return render_template("console/governance/register.html", form=form, rows=rows, more=more, page=page.number,
                   chosen=chosen, seats=_seats_now([m.id for m, _e in rows]),
                   class_label=register.class_label), 200 if not form.errors else 400


@bp.route("/register/<id:member_id>", methods=["GET", "POST"], endpoint="register_edit")
def register_edit(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    entry = register.entry_of(db.session, member)
    form = register_forms.RegisterEntryForm(obj=entry, member_class=entry.member_class.value if entry and entry.member_class else "")
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with saving(form) as saved:
            register.set_entry(db.session, current_user, member.id, member_class=form.member_class.data,
                                joined_on=form.joined_on.data, left_on=form.left_on.data, shares=form.shares.data)
        if saved.ok:
            flash(_("The register is updated for %(name)s.", name=member.name), "success")
            return redirect(url_for(".register_edit", member_id=member.id))
        status = saved.error.status
    return _register_page(member, form, register_forms.SeatForm(formdata=None, starts_on=date.today()), status)


def _register_page(member, form, seat_form, status):
    return render_template("console/governance/register_edit.html", member=member, form=form, seat_form=seat_form,
                   end_form=register_forms.EndSeatForm(formdata=None, ends_on=date.today()),
                   seats=voice.seats_of(db.session, member.id), today=date.today()), status


@bp.route("/register/<id:member_id>/seats", methods=["POST"], endpoint="register_seat_add")
def register_seat_add(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    seat_form = register_forms.SeatForm()
    if seat_form.validate_on_submit():
        with saving(seat_form) as saved:
            voice.add_seat(db.session, current_user, member.id, seat_form.body.data, seat_form.starts_on.data)
        if saved.ok:
            flash(_("The seat is added."), "success")
            return redirect(url_for(".register_edit", member_id=member.id))
        status = saved.error.status
    else:
        status = 400
    entry = register.entry_of(db.session, member)
    return _register_page(member, register_forms.RegisterEntryForm(formdata=None, obj=entry), seat_form, status)


@bp.route("/register/seats/<id:seat_id>/end", methods=["POST"], endpoint="register_seat_end")
def register_seat_end(seat_id: int):
    seat = db.session.get(BoardSeat, seat_id)
    if seat is None:
        raise NotFound(code="seat_not_found")
    member = managed_member(db.session, current_user, seat.member_id)
    form = register_forms.EndSeatForm()
    status = 400
    if form.validate_on_submit():
        with saving(form) as saved:
            voice.end_seat(db.session, current_user, seat.id, form.ends_on.data)
        if saved.ok:
            flash(_("The seat is ended."), "success")
            return redirect(url_for(".register_edit", member_id=member.id))
        status = saved.error.status
    else:
        flash(_("Please choose the day the seat ends."), "error")
    entry = register.entry_of(db.session, member)
    return _register_page(member, register_forms.RegisterEntryForm(formdata=None, obj=entry),
                          register_forms.SeatForm(formdata=None, starts_on=date.today()), status)


@bp.route("/register/voting", endpoint="register_voting")
def register_voting():
    form = register_forms.RecordDateForm(request.args)
    valid = form.validate()
    day = (form.day.data if valid else None) or date.today()
    classes = register.classes_on(db.session, day)
    counts = {}
    for member_class in classes.values():
        counts[member_class] = counts.get(member_class, 0) + 1
    ours = db.session.scalars(sa.select(Member).where(Member.id.in_(list(classes)), scope_filter(current_user))
                               .order_by(Member.name).limit(500)).all()
    return render_template("console/governance/register_voting.html", form=form, day=day, total=len(classes),
                   counts=[(c, counts.get(c, 0)) for c in voice.ROWS if counts.get(c)], members=ours,
                   classes=classes, class_label=register.class_label), 200 if valid else 400


@bp.route("/bylaws", endpoint="bylaws")
def bylaws_index():
    stored = {b.key: b for b in db.session.scalars(sa.select(Bylaw))}
    motions = {m.id: m for m in db.session.scalars(
        sa.select(Motion).where(Motion.id.in_([b.motion_id for b in stored.values()])))}
    values = bylaws.current(db.session)
    rows = [(key, rule, values[key], stored.get(key),
             motions.get(stored[key].motion_id) if key in stored else None) for key, rule in bylaws.RULES.items()]
    return render_template("console/governance/bylaws.html", rows=rows, bylaw_words=bylaws.shown)


# Pool grants: requests above the coordinator's limit, their ballots and budget ballots.
@bp.route("/grants", endpoint="grants")
def grants_index():
    return _grants_page()


def _grants_page(status: int = 200):
    return render_template("console/governance/grants.html", open_requests=pool.open_requests(db.session, current_user),
                   decided=pool.recent_requests(db.session, current_user), budgets=pool.budget_ballots(db.session),
                   proposals=_grant_ballots(), form=EmptyForm(), now=utcnow(),
                   policy_words=pool.policy_words(db.session), labels=pool.HOW_DECIDED), status


def _grant_ballots() -> dict:
    """Each open request's ballot and its count so far (shown to the centre once it closed)."""
    found = {}
    for grant_request in pool.open_requests(db.session, current_user):
        proposal = db.session.get(Proposal, grant_request.proposal_id) if grant_request.proposal_id else None
        if proposal is not None:
            found[grant_request.id] = (proposal, pool.ballot_count(db.session, proposal))
    return found


@bp.route("/grants/request", methods=["POST"], endpoint="grant_request")
def grant_request():
    form = ConsoleGrantForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            pool.request_grant(db.session, current_user, form.to_member_id.data, form.total_minutes, form.memo.data,
                                form.need.data, current_policy())
        if saved.ok:
            flash(_("The grant request is on a ballot. Carry out the decision here when it closes."), "success")
            return redirect(url_for(".grants"))
        status = saved.error.status
    else:
        status = 400
    return render_template("console/ledger/grant.html", form=form, needs_ballot=True, recipient=None,
                   pool=ledger.pool_account(db.session).balance_minutes), status


@bp.route("/grants/<id:request_id>/decide", methods=["POST"], endpoint="grant_decide")
def grant_decide(request_id: int):
    pool.get_request(db.session, current_user, request_id)  # another centre's: 404 before anything
    with saving() as saved:
        decided = pool.decide_grant(db.session, current_user, request_id, current_policy())
    if saved.ok:
        flash(_("Granted, as the ballot decided.") if decided.status.value == "granted"
               else _("Refused, as the ballot decided. No time moved."), "success")
        return redirect(url_for(".grants"))
    return _grants_page(saved.error.status)


@bp.route("/grants/budgets/new", methods=["GET", "POST"], endpoint="budget_new")
def budget_new():
    form = register_forms.BudgetForm()
    requests = pool.open_requests(db.session, current_user)
    form.request_ids.choices = [(r.id, pool.request_label(r)) for r in requests]
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with saving(form) as saved:
            proposal = pool.open_budget(db.session, current_user, form.budget_hours.data * 60, form.closes_at_utc(),
                                         form.request_ids.data)
        if saved.ok:
            flash(_("The budget ballot is open. Members choose at %(url)s.",
                      url=url_for("governance.budget", proposal_id=proposal.id)), "success")
            return redirect(url_for(".budget_detail", proposal_id=proposal.id))
        status = saved.error.status
    return render_template("console/governance/grants_budget_new.html", form=form), status


@bp.route("/grants/budgets/<id:proposal_id>", methods=["GET", "POST"], endpoint="budget_detail")
def budget_detail(proposal_id: int):
    proposal = pool.get_budget(db.session, proposal_id)
    status = 200
    if request.method == "POST":
        with saving() as saved:
            done = pool.carry_out_budget(db.session, current_user, proposal.id, current_policy())
        if saved.ok:
            flash(_("%(count)s requests were granted from the budget.", count=len(done)), "success")
            return redirect(url_for(".budget_detail", proposal_id=proposal.id))
        status = saved.error.status
    closed = proposal.is_closed(utcnow())
    lines = pool.budget_result(db.session, proposal.id) if closed else []
    return render_template("console/governance/grants_budget.html", proposal=proposal, lines=lines, closed=closed,
                   form=EmptyForm()), status


@bp.route("/voice", endpoint="voice")
def voice_console():
    return voice_page("console/governance/register_voice.html")
