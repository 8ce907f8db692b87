"""Disputes, member side: a party to an exchange tells the centre something went wrong,
and later sees the centre's answer on the exchange page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from carebank.core.errors import DomainError
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.disputes import services as disputes
from carebank.exchanges import services as exchanges
from carebank.web import apply_domain_error, format_when

bp = Blueprint("disputes", __name__)


class ProblemForm(FlaskForm):
    reason = TextAreaField(
        _l("What went wrong?"),
        validators=[DataRequired(), Length(max=disputes.REASON_MAX_LENGTH)],
        description=_l("For example: the visit did not happen, or the time counted is wrong."),
    )
    transaction_id = SelectField(_l("Which visit? (optional)"), default="")

    def chosen_transaction(self) -> int | None:
        return int(self.transaction_id.data) if self.transaction_id.data else None


def visit_choices(visits, empty_label) -> list[tuple[str, str]]:
    """Select options for visits: "date · duration"."""
    return [("", empty_label)] + [
        (str(v.id), f"{format_when(v.created_at)} · {format_minutes(disputes.visit_minutes(v))}")
        for v in visits
    ]


@bp.app_template_global("exchange_disputes")
def exchange_disputes(exchange):
    """The disputes the current member may see on an exchange page."""
    return disputes.disputes_for(db.session, exchange, current_user)


@bp.route("/exchanges/<id:exchange_id>/problem", methods=["GET", "POST"])
@login_required
def new(exchange_id: int):
    exchange = exchanges.get_exchange(db.session, current_user, exchange_id)
    if not exchange.is_party(current_user):
        abort(403)
    form = ProblemForm()
    form.transaction_id.choices = visit_choices(
        disputes.standing_visits(db.session, exchange.id), _("The whole exchange"))
    status = 200
    if form.validate_on_submit():
        try:
            disputes.raise_dispute(db.session, current_user, exchange.id, form.reason.data,
                                   form.chosen_transaction())
        except DomainError as error:
            apply_domain_error(error, form)
            status = error.status
        else:
            db.session.commit()
            flash(_("Thank you. The centre will look at it and may call you."), "success")
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    elif form.errors:
        status = 400
    return render_template("disputes/new.html", exchange=exchange, form=form), status
