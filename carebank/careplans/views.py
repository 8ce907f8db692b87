"""Care plans on the exchange page: proposing regular visits, agreeing (or declining or
withdrawing) a proposal, ending the visits, and changing them from one visit on. Each action
goes back to the exchange's visits; a form with errors is shown again on a page of its own."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.careplans import services as careplans
from carebank.careplans.forms import PlanForm
from carebank.careplans.models import CarePlan
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.exchanges import services as exchanges
from carebank.web import format_when, saving
from carebank.web.forms import EmptyForm

bp = Blueprint("careplans", __name__)


def _to_visits(exchange_id: int):
    return redirect(url_for("exchanges.detail", exchange_id=exchange_id, _anchor="visits"))


@bp.route("/exchanges/<id:exchange_id>/care-plans", methods=["POST"])
@login_required
def propose(exchange_id: int):
    exchange = exchanges.get_exchange(db.session, current_user, exchange_id)
    form, status = PlanForm(prefix="plan"), 400
    if form.validate_on_submit():
        with saving(form) as saved:
            careplans.propose_plan(db.session, current_user, exchange.id, **form.plan_values(),
                                   policy=current_policy())
        if saved.ok:
            flash(_("Your proposal is sent. The visits are planned once it is agreed."), "success")
        if saved.ok or not any(f.errors for f in form):
            return _to_visits(exchange.id)
        status = saved.error.status
    return render_template("careplans/new.html", exchange=exchange, form=form), status


@bp.route("/care-plans/<id:plan_id>/accept", methods=["POST"])
@login_required
def accept(plan_id: int):
    return _answer(plan_id, careplans.accept_plan, lambda plan: _(
        "Agreed. The visits are planned: the next ones are below."))


@bp.route("/care-plans/<id:plan_id>/end", methods=["POST"])
@login_required
def end(plan_id: int):
    return _answer(plan_id, careplans.end_plan, _ended)


def _ended(plan: CarePlan) -> str:
    if plan.accepted_at is not None:
        return _("These visits are ended. The ones still to come are cancelled, and both of you are told.")
    if plan.proposed_by_id == current_user.id:
        return _("Your proposal is withdrawn.")
    return _("You said no to these visits.")


def _answer(plan_id: int, action, said):
    """Agree or end a plan: a stranger gets the 404 or 403 page; a refusal (already answered,
    your own proposal) is said on the exchange page."""
    plan = careplans.get_plan(db.session, current_user, plan_id)
    exchange_id = plan.exchange_id
    if EmptyForm().validate_on_submit():
        with saving() as saved:
            message = said(action(db.session, current_user, plan.id))
        if saved.ok:
            flash(message, "success")
    return _to_visits(exchange_id)


@bp.route("/care-plans/<id:plan_id>/change", methods=["POST"])
@login_required
def change(plan_id: int):
    """"Change from this visit on": the plan ends before the visit and a new version starts with it."""
    plan = careplans.get_plan(db.session, current_user, plan_id)
    visit = _plan_visit(plan, request.form.get("visit_id", type=int))
    form, status = PlanForm(prefix=f"change-{visit.id}"), 400
    if form.validate_on_submit():
        with saving(form) as saved:
            new = careplans.edit_from(db.session, current_user, plan.id, visit.id, **form.plan_values(),
                                      policy=current_policy())
            message = _("Changed from %(when)s on.", when=format_when(new.starts_at))
        if saved.ok:
            flash(message, "success")
        if saved.ok or not any(f.errors for f in form):
            return _to_visits(plan.exchange_id)
        status = saved.error.status
    return render_template("careplans/change.html", plan=plan, visit=visit, form=form), status


def _plan_visit(plan: CarePlan, visit_id: int | None):
    """The visit of this plan the change starts from (from the form's `visit_id`); a form
    naming none of its visits is a malformed request."""
    found = next((v for v in careplans.plan_visits(db.session, current_user, plan.id) if v.id == visit_id), None)
    if found is None:
        abort(400)
    return found
