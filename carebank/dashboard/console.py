"""Console: the dashboard, the console's front page. What needs the centre's attention,
as big tiles that lead to each area, and the everyday actions."""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.centres.services import managed_exchange, manages
from carebank.core.commit import committed
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.dashboard import services as waiting
from carebank.dashboard.forms import RecordVisitForm
from carebank.notifications import services as notifications
from carebank.web import saving
from carebank.web.console import bp
from carebank.web.forms import EmptyForm


@bp.context_processor
def coordinator_scope():
    """`manages(member)` in every console page: a member of another centre, a party of a shared
    exchange, is named but not linked (their console page is not this coordinator's to open)."""
    return {"manages": lambda member: manages(current_user, member)}


@dataclass(frozen=True)
class Tile:
    count: int
    label: str
    endpoint: str
    urgent: bool = False  # someone is waiting on the centre


def tiles(counts: waiting.DashboardCounts) -> list[Tile]:
    return [
        Tile(counts.checkins_pending, _l("Check-ins waiting for approval"), "console.checkins", True),
        Tile(counts.disputes_open, _l("Problems reported"), "console.disputes", True),
        Tile(counts.cards_locked, _l("Locked cards"), "console.cards", True),
        Tile(counts.exchanges_waiting, _l("Exchanges waiting for confirmation"), "console.waiting"),
        Tile(counts.responses_unanswered, _l("Responses unanswered for 2 days"), "console.waiting"),
        Tile(counts.needs_unmatched, _l("Needs without a match for %(days)s days",
                                        days=waiting.UNMATCHED_DAYS), "console.reports"),
        Tile(counts.new_members, _l("New members this week"), "console.members"),
    ]


QUICK_ACTIONS = (
    ("console.member_new", _l("Register a resident")),
    ("console.cards", _l("Print cards")),
    ("console.grant", _l("Grant hours")),
    ("console.reports", _l("Reports")),
)


@bp.route("/", endpoint="dashboard")
def dashboard():
    counts = waiting.dashboard_counts(db.session, current_user)
    return render_template("console/dashboard.html", centre=current_user.centre,
                           tiles=tiles(counts), actions=QUICK_ACTIONS)


@bp.route("/waiting", endpoint="waiting")
def waiting_list():
    return render_template("console/disputes/waiting.html",
                           waiting=waiting.exchanges_waiting(db.session, current_user),
                           unanswered=waiting.unanswered_responses(db.session, current_user))


@bp.route("/waiting/<id:exchange_id>", methods=["GET", "POST"])
def waiting_record(exchange_id: int):
    """Record a visit of an exchange the parties could not confirm themselves."""
    exchange = managed_exchange(db.session, current_user, exchange_id)
    form = RecordVisitForm(hours=exchange.post.minutes // 60, extra_minutes=exchange.post.minutes % 60)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with saving(form) as saved:
            waiting.record_visit(db.session, current_user, exchange.id, form.total_minutes,
                                 form.reason.data, current_policy())
        if saved.ok:
            flash(_("The visit is recorded. Both members will see it in their history."), "success")
            return redirect(url_for(".waiting"))
        status = saved.error.status
    return render_template("console/disputes/record.html", exchange=exchange, form=form), status


@bp.route("/calls")
def calls():
    """The call list: what each member without e-mail should be told, to phone or to print."""
    return render_template("console/calls.html", calls=notifications.call_list(db.session, current_user),
                           form=EmptyForm())


@bp.route("/calls/<id:member_id>", methods=["POST"])
def call_done(member_id: int):
    if EmptyForm().validate_on_submit():
        # Every refusal (a member of another centre) is the 404 page.
        committed(notifications.tick_off)(db.session, current_user, member_id)
        flash(_("Ticked off: they have been told."), "success")
    return redirect(url_for(".calls"))
