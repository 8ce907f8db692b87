"""Disputes, member side: a party to an exchange tells the centre something went wrong,
and later sees the centre's answer on the exchange page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.core.extensions import db
from carebank.disputes import services as disputes
from carebank.disputes.forms import ProblemForm, visit_choices
from carebank.web import saving

bp = Blueprint("disputes", __name__)


@bp.app_template_global("exchange_disputes")
def exchange_disputes(exchange):
    """The disputes the current member may see on an exchange page."""
    return disputes.disputes_for(db.session, exchange, current_user)


@bp.route("/exchanges/<id:exchange_id>/problem", methods=["GET", "POST"])
@login_required
def new(exchange_id: int):
    exchange = disputes.reportable_exchange(db.session, current_user, exchange_id)
    form = ProblemForm()
    form.transaction_id.choices = visit_choices(
        disputes.standing_visits(db.session, exchange.id), _("The whole exchange"))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with saving(form) as saved:
            disputes.raise_dispute(db.session, current_user, exchange.id, form.reason.data,
                                   form.chosen_transaction())
        if saved.ok:
            flash(_("Thank you. The centre will look at it and may call you."), "success")
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
        status = saved.error.status
    return render_template("disputes/new.html", exchange=exchange, form=form), status
