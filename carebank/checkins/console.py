"""Console: card check-ins waiting for the centre's approval.

Residents who cannot use a PIN consent through their centre: the carer's check-in waits
here until a coordinator approves it (the time is counted then) or rejects it with a reason.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from carebank.checkins import services as checkins
from carebank.checkins.forms import DecideForm
from carebank.core.errors import Conflict
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.core.policy import current_policy
from carebank.web import saving
from carebank.web.console import bp


@bp.route("/checkins", endpoint="checkins")
def queue():
    return _render_queue()


def _render_queue(status: int = 200, failed_id: int | None = None, failed_form: DecideForm | None = None):
    """The waiting check-ins; a decision that failed shows its messages under its own form."""
    return render_template("console/checkins/index.html",
                           pending=checkins.pending_checkins(db.session, current_user),
                           failed_id=failed_id, failed_form=failed_form), status


@bp.route("/checkins/<id:checkin_id>", methods=["POST"])
def checkin_decide(checkin_id: int):
    checkins.managed_checkin(db.session, current_user, checkin_id)  # another centre's: the 404 page
    form = DecideForm()
    if not form.validate_on_submit():
        return _render_queue(400, checkin_id, form)
    with saving(form) as saved:
        message = _decide(checkin_id, form)
    if saved.ok:
        flash(message, "success")
    elif not isinstance(saved.error, Conflict):
        return _render_queue(saved.error.status, checkin_id, form)
    # Done, or decided by a colleague meanwhile, or the balance is too low: the list says what now.
    return redirect(url_for(".checkins"))


def _decide(checkin_id: int, form: DecideForm) -> str:
    """Approve or reject; the message to flash."""
    if form.action.data == "approve":
        checkin = checkins.approve(db.session, current_user, checkin_id, current_policy())
        return _("Approved: %(minutes)s from %(provider)s to %(receiver)s.",
                 minutes=format_minutes(checkin.minutes), provider=checkin.exchange.provider.name,
                 receiver=checkin.exchange.receiver.name)
    checkin = checkins.reject(db.session, current_user, checkin_id, form.reason.data)
    return _("Rejected the check-in of %(carer)s with %(name)s.",
             carer=checkin.carer.name, name=checkin.card.member.name)
