"""Console: card check-ins waiting for the centre's approval.

Residents who cannot use a PIN consent through their centre: the carer's check-in waits
here until a coordinator approves it (the time is counted then) or rejects it with a reason.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from carebank.checkins.models import CardCheckin
from carebank.checkins.services import NOTE_MAX_LENGTH, approve, managed_checkin, pending_checkins, reject
from carebank.core.errors import Conflict, InsufficientBalance, NotAllowed, ValidationFailed
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.core.policy import current_policy
from carebank.web import apply_domain_error
from carebank.web.console import bp


class DecideForm(FlaskForm):
    # Sent by the button pressed: approve or reject.
    action = StringField(validators=[DataRequired(), AnyOf(["approve", "reject"])])
    reason = StringField(_l("Reason for rejecting"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)])


@bp.route("/checkins", endpoint="checkins")
def queue():
    return _render_queue()


def _render_queue(status: int = 200, failed_id: int | None = None, failed_form: DecideForm | None = None):
    """The waiting check-ins; a decision that failed shows its messages under its own form."""
    return render_template("console/checkins/index.html", pending=pending_checkins(db.session, current_user),
                           failed_id=failed_id, failed_form=failed_form), status


@bp.route("/checkins/<id:checkin_id>", methods=["POST"])
def checkin_decide(checkin_id: int):
    managed_checkin(db.session, current_user, checkin_id)  # another centre's: the 404 page
    form = DecideForm()
    if not form.validate_on_submit():
        return _render_queue(400, checkin_id, form)
    try:
        message = _decide(checkin_id, form)
    except (InsufficientBalance, Conflict) as error:
        # Decided by a colleague meanwhile, or the balance is too low: the list says what now.
        apply_domain_error(_low_balance(error, checkin_id))
        return redirect(url_for(".checkins"))
    except (ValidationFailed, NotAllowed) as error:
        apply_domain_error(error, form)
        return _render_queue(error.status, checkin_id, form)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".checkins"))


def _decide(checkin_id: int, form: DecideForm) -> str:
    """Approve or reject; the message to flash."""
    if form.action.data == "approve":
        checkin = approve(db.session, current_user, checkin_id, current_policy())
        return _("Approved: %(minutes)s from %(provider)s to %(receiver)s.",
                 minutes=format_minutes(checkin.minutes), provider=checkin.exchange.provider.name,
                 receiver=checkin.exchange.receiver.name)
    checkin = reject(db.session, current_user, checkin_id, form.reason.data)
    return _("Rejected the check-in of %(carer)s with %(name)s.",
             carer=checkin.carer.name, name=checkin.card.member.name)


def _low_balance(error: Conflict, checkin_id: int) -> Conflict:
    """A too-low balance, said with whose it is and what helps."""
    if not isinstance(error, InsufficientBalance):
        return error
    db.session.rollback()
    receiver = db.session.get(CardCheckin, checkin_id).exchange.receiver
    floor = format_minutes(current_policy().min_balance_minutes)
    return InsufficientBalance(_(
        "This visit cannot be confirmed: %(name)s's balance cannot go below %(floor)s. "
        "A coordinator can help with time from the community pool.",
        name=receiver.name, floor=floor))
