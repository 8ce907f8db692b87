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
from flask_login import current_user, login_required

from carebank.cards import services as cards
from carebank.cards.models import MemberCard
from carebank.checkins import services as checkins
from carebank.checkins.forms import CheckinForm
from carebank.core import rate_limits
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.exchanges.models import Exchange
from carebank.web import saving

bp = Blueprint("checkins", __name__)


@bp.route("/card/<token>", methods=["GET", "POST"])
@login_required
@rate_limits.pin
def card(token: str):
    """The page a scanned member card opens. Refusals show the error page: 400 not a card,
    404 unknown card, 409 member deactivated, card replaced, blocked or locked, 403 no agreed
    exchange."""
    found = cards.find_card(db.session, token)
    cards.require_usable(found)
    agreed = checkins.exchanges_to_check_in(db.session, current_user, found.member)
    form = _checkin_form(agreed, found.member)
    if form.validate_on_submit():
        with saving(form) as saved:
            checkin = _check_in(found, form)
        if saved.ok:
            return redirect(url_for(".result", checkin_id=checkin.id))
        if isinstance(saved.error, checkins.WrongPin) and saved.error.locked:
            raise saved.error  # the locking try is committed; the error page says it is locked
    status = 400 if request.method == "POST" else 200
    return render_template("checkins/card.html", card=found, resident=found.member,
                           exchanges=agreed, form=form), status


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


def _check_in(found: MemberCard, form: CheckinForm):
    """Confirm with the resident's PIN, or send the check-in to the centre (the button pressed)."""
    args = (db.session, current_user, found, form.exchange_id.data, form.total_minutes)
    if request.form.get("action") == "centre":
        return checkins.request_approval(*args, form.request_token.data, form.note.data,
                                         policy=current_policy())
    return checkins.check_in_with_pin(*args, form.pin.data, form.request_token.data, current_policy())


@bp.route("/checkins/<id:checkin_id>")
@login_required
def result(checkin_id: int):
    """What became of a check-in: confirmed, waiting for the centre, or not approved."""
    checkin = checkins.carers_checkin(db.session, current_user, checkin_id)
    return render_template("checkins/result.html", checkin=checkin, resident=checkin.card.member,
                           exchange=checkin.exchange)
