"""Console: problems reported by members (disputes).

A coordinator reads the report, calls both parties, and settles it: reverses a wrong visit,
records a visit the parties could not confirm, or dismisses it."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.disputes import services as disputes
from carebank.disputes.forms import SettleForm, visit_choices
from carebank.disputes.models import Dispute
from carebank.web import saving
from carebank.web.console import bp


# Endpoints are named by the console's contract ("console.disputes"); the functions are not,
# so they do not hide the service modules.
@bp.route("/disputes", endpoint="disputes")
def disputes_list():
    return render_template(
        "console/disputes/index.html",
        open=disputes.open_disputes(db.session, current_user),
        settled=disputes.settled_disputes(db.session, current_user),
    )


@bp.route("/disputes/<id:dispute_id>", methods=["GET", "POST"])
def dispute_detail(dispute_id: int):
    dispute = disputes.get_dispute(db.session, current_user, dispute_id)
    form = SettleForm(transaction_id=str(dispute.transaction_id or ""))
    form.transaction_id.choices = visit_choices(
        disputes.standing_visits(db.session, dispute.exchange_id), _("Choose a visit"))
    status = 200
    if form.is_submitted():
        status = _settle(dispute, form)
        if status is None:
            return redirect(url_for(".disputes"))
    return _render_dispute(dispute, form), status


def _settle(dispute: Dispute, form: SettleForm) -> int | None:
    """Settle from the form and commit; None when done, else the status to show the form with."""
    with saving(form) as saved:
        # A page left open while a colleague settled: say so before the form's complaints.
        disputes.require_open(dispute)
        if not form.validate():
            return 400
        settled = disputes.settle(
            db.session, current_user, dispute.id, form.outcome.data, form.resolution.data,
            transaction_id=form.chosen_transaction(), minutes=form.total_minutes,
            policy=current_policy(),
        )
    if not saved.ok:
        return saved.error.status
    flash(_settled_message(settled), "success")
    return None


def _settled_message(dispute) -> str:
    if dispute.status.value == "dismissed":
        return _("Closed without a change. The member will see your answer.")
    return _("Settled. The member will see your answer.")


def _render_dispute(dispute, form):
    exchange = dispute.exchange
    return render_template(
        "console/disputes/detail.html", dispute=dispute, exchange=exchange, form=form,
        record=disputes.exchange_record(db.session, exchange),
        others=[d for d in disputes.disputes_for(db.session, exchange, current_user) if d.id != dispute.id],
    )
