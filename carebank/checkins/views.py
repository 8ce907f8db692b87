"""Card check-ins: a carer scans a resident's member card at the end of a visit.

The phone's camera (or the in-app scanner) opens /card/<token>. The carer picks the
exchange and the time; the resident types their PIN on the carer's phone, or, when they
have none, the carer sends the check-in to the centre for approval. PIN tries are limited
per carer (one phone cannot test many cards) and per card (the card locks).
"""
from __future__ import annotations

import secrets

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.checkins import services as checkins
from carebank.core import rate_limits
from carebank.core.errors import DomainError, InsufficientBalance, NotAllowed, ValidationFailed
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.core.policy import current_policy
from carebank.exchanges.models import Exchange
from carebank.web import apply_domain_error
from carebank.web.forms import DurationMixin

bp = Blueprint("checkins", __name__)


class CheckinForm(DurationMixin, FlaskForm):
    exchange_id = RadioField(_l("Which exchange"), coerce=int, validators=[DataRequired()])
    pin = PasswordField(_l("PIN"), validators=[Optional(), Length(max=10)],
                        render_kw={"maxlength": 4, "size": 4})
    note = StringField(_l("Note for the centre (optional)"),
                       validators=[Optional(), Length(max=checkins.NOTE_MAX_LENGTH)])
    request_token = HiddenField(validators=[DataRequired(), Length(max=64)])


@bp.route("/card/<token>", methods=["GET", "POST"])
@login_required
@rate_limits.pin
def card(token: str):
    """The page a scanned member card opens. Refusals show the error page: 400 not a card,
    404 unknown card, 409 replaced, blocked or locked, 403 no agreed exchange."""
    found = cards.find_card(db.session, token)
    cards.require_usable(found)
    agreed = _agreed_or_refuse(found)
    form = _checkin_form(agreed, found.member)
    if form.validate_on_submit():
        response = _submit(found, form)
        if response is not None:
            return response
    status = 400 if request.method == "POST" else 200
    return render_template("checkins/card.html", card=found, resident=found.member,
                           exchanges=agreed, form=form), status


def _agreed_or_refuse(found: MemberCard) -> list[Exchange]:
    agreed = checkins.agreed_exchanges(db.session, current_user, found.member)
    if not agreed:
        raise NotAllowed(_("You have no agreed exchange with %(name)s.", name=found.member.name),
                         code="no_exchange")
    return agreed


def _checkin_form(agreed: list[Exchange], resident) -> CheckinForm:
    """The form, with the agreed exchanges to choose from; on first show the only exchange is
    chosen, its usual length filled in, and a fresh request token made."""
    if request.method == "POST":
        form = CheckinForm()
    else:
        hours, rest = divmod(agreed[0].post.minutes if len(agreed) == 1 else 60, 60)
        form = CheckinForm(hours=hours, extra_minutes=rest, request_token=secrets.token_urlsafe(24),
                           exchange_id=agreed[0].id if len(agreed) == 1 else None)
    form.exchange_id.choices = [(e.id, _exchange_label(e)) for e in agreed]
    form.pin.label.text = _("PIN of %(name)s", name=resident.name)
    form.pin.description = _("%(name)s types their 4-digit PIN. Hand them the phone.", name=resident.name)
    return form


def _exchange_label(exchange: Exchange) -> str:
    if exchange.provider_id == current_user.id:
        return _("“%(title)s” — you help %(name)s", title=exchange.post.title, name=exchange.receiver.name)
    return _("“%(title)s” — %(name)s helps you", title=exchange.post.title, name=exchange.provider.name)


def _submit(found: MemberCard, form: CheckinForm):
    """Run the chosen consent; a redirect to the result, or None to show the form again."""
    try:
        checkin = _run(found, form)
    except checkins.WrongPin as error:
        # The wrong try is counted even though the check-in fails. Nothing else was written:
        # the service raises this before adding the check-in or touching the ledger.
        db.session.commit()
        if error.locked:
            return render_template("error.html", status=error.status, message=error.message), error.status
        form.pin.errors = [str(error.message)]
        return None
    except InsufficientBalance:
        db.session.rollback()
        apply_domain_error(_low_balance(form.exchange_id.data))
        return None
    except DomainError as error:
        apply_domain_error(error, form)
        return None
    db.session.commit()
    return redirect(url_for(".result", checkin_id=checkin.id))


def _run(found: MemberCard, form: CheckinForm):
    args = (db.session, current_user, found, form.exchange_id.data, form.total_minutes)
    if request.form.get("action") == "centre":
        return checkins.request_approval(*args, form.request_token.data, form.note.data,
                                         policy=current_policy())
    if found.member.pin_hash is not None and not form.pin.data:
        message = _("Ask %(name)s to type their PIN.", name=found.member.name)
        raise ValidationFailed(message, fields={"pin": message})
    return checkins.check_in_with_pin(*args, form.pin.data, form.request_token.data, current_policy())


def _low_balance(exchange_id: int) -> InsufficientBalance:
    """Say whose balance is too low, and what can be done about it."""
    receiver = db.session.get(Exchange, exchange_id).receiver
    floor = format_minutes(current_policy().min_balance_minutes)
    return InsufficientBalance(_(
        "This visit cannot be confirmed: %(name)s's balance cannot go below %(floor)s. "
        "A coordinator can help with time from the community pool.",
        name=receiver.name, floor=floor))


@bp.route("/checkins/<id:checkin_id>")
@login_required
def result(checkin_id: int):
    """What became of a check-in: confirmed, waiting for the centre, or not approved."""
    checkin = checkins.carers_checkin(db.session, current_user, checkin_id)
    return render_template("checkins/result.html", checkin=checkin, resident=checkin.card.member,
                           exchange=checkin.exchange)
