"""Console: problems reported by members (disputes) and exchanges waiting for confirmation.

A coordinator reads the report, calls both parties, and settles it: reverses a wrong visit,
records a visit the parties could not confirm, or dismisses it. Exchanges agreed but never
confirmed are listed too, so the centre can call and record the visit.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from ... import disputes, waiting
from ...centres import managed_exchange
from ...errors import DomainError
from ...extensions import db
from ...models import Dispute
from ...policy import current_policy
from .. import apply_domain_error
from ..disputes import visit_choices
from ..forms import DurationMixin, options
from . import bp


class SettleForm(DurationMixin, FlaskForm):
    """How the centre settles a dispute; minutes count only for "credit", the visit only
    for "reverse"."""

    SERVICE_FIELDS = {"minutes": "hours", "memo": "resolution"}

    outcome = RadioField(_l("What the centre decided"), validators=[DataRequired()], choices=options([
        ("reverse", _l("Reverse a visit that was wrong")),
        ("credit", _l("Record a visit the two could not confirm")),
        ("dismiss", _l("No change to anyone's time")),
    ]))
    transaction_id = SelectField(_l("Visit to reverse"), default="")
    resolution = TextAreaField(
        _l("Decision, for the member"), validators=[DataRequired(), Length(max=disputes.RESOLUTION_MAX_LENGTH)],
        description=_l("The member sees this on the exchange page, and it is kept with the change."),
    )

    def chosen_transaction(self) -> int | None:
        return int(self.transaction_id.data) if self.transaction_id.data else None


class RecordVisitForm(DurationMixin, FlaskForm):
    SERVICE_FIELDS = {"minutes": "hours", "memo": "reason"}

    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=waiting.REASON_MAX_LENGTH)],
        description=_l("For example: confirmed by phone with both of them."),
    )


# Endpoints are named by the console's contract ("console.disputes"); the functions are not,
# so they do not hide the service modules.
@bp.route("/disputes", endpoint="disputes")
def disputes_list():
    return render_template(
        "console/disputes/index.html",
        open=disputes.open_disputes(db.session, current_user),
        settled=disputes.settled_disputes(db.session, current_user),
    )


@bp.route("/disputes/<int:dispute_id>", methods=["GET", "POST"])
def dispute_detail(dispute_id: int):
    dispute = disputes.get_dispute(db.session, current_user, dispute_id)
    form = SettleForm(transaction_id=str(dispute.transaction_id or ""))
    form.transaction_id.choices = visit_choices(
        disputes.standing_visits(db.session, dispute.exchange_id), _("Choose a visit"))
    status = 200
    if form.is_submitted():
        status = _settle(dispute.id, form)
        if status is None:
            return redirect(url_for(".disputes"))
    return _render_dispute(dispute, form), status


def _settle(dispute_id: int, form: SettleForm) -> int | None:
    """Settle from the form and commit; None when done, else the status to show the form with."""
    try:
        # A page left open while a colleague settled: say so before the form's complaints.
        disputes.require_open(db.session.get(Dispute, dispute_id))
        if not form.validate():
            return 400
        settled = disputes.settle(
            db.session, current_user, dispute_id, form.outcome.data, form.resolution.data,
            transaction_id=form.chosen_transaction(), minutes=form.total_minutes,
            policy=current_policy(),
        )
    except DomainError as error:
        apply_domain_error(error, form)
        return error.status
    db.session.commit()
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


@bp.route("/waiting", endpoint="waiting")
def waiting_list():
    return render_template("console/disputes/waiting.html",
                           waiting=waiting.exchanges_waiting(db.session, current_user))


@bp.route("/waiting/<int:exchange_id>", methods=["GET", "POST"])
def waiting_record(exchange_id: int):
    """Record a visit of an exchange the parties could not confirm themselves."""
    exchange = managed_exchange(db.session, current_user, exchange_id)
    form = RecordVisitForm(hours=exchange.post.minutes // 60, extra_minutes=exchange.post.minutes % 60)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            waiting.record_visit(db.session, current_user, exchange.id, form.total_minutes,
                                 form.reason.data, current_policy())
        except DomainError as error:
            apply_domain_error(error, form)
            status = error.status
        else:
            db.session.commit()
            flash(_("The visit is recorded. Both members will see it in their history."), "success")
            return redirect(url_for(".waiting"))
    return render_template("console/disputes/record.html", exchange=exchange, form=form), status
