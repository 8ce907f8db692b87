"""The message thread of an exchange: its two people write to each other, report a message to
the centre, and may show each other their phone numbers."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.core.commit import committed
from carebank.core.extensions import db
from carebank.messages import services as messages
from carebank.messages.forms import EmptyForm, MessageForm
from carebank.messages.rate_limits import writing
from carebank.web import saving

bp = Blueprint("messages", __name__)

THREAD = "/exchanges/<id:exchange_id>/messages"


@bp.get(THREAD)
@login_required
@committed  # a coordinator's reading is written to the audit log
def thread(exchange_id: int):
    return _render(messages.read_thread(db.session, current_user, exchange_id), MessageForm())


def _render(page: messages.Thread, form: MessageForm, status: int = 200):
    return render_template("messages/thread.html", page=page, exchange=page.exchange, form=form,
                           quick_replies=_quick_replies()), status


def _quick_replies() -> list[str]:
    # In the viewer's language, as plain text (Jinja takes a lazy string for safe HTML).
    return [str(reply) for reply in messages.QUICK_REPLIES]


@bp.post(THREAD)
@login_required
@writing
def write(exchange_id: int):
    exchange = messages.party_exchange(db.session, current_user, exchange_id)
    form = MessageForm()
    status = 400
    if form.validate_on_submit():
        with saving(form) as saved:
            messages.write(db.session, current_user, exchange.id, form.body.data)
        if saved.ok:
            flash(_("Message sent."), "success")
            return redirect(url_for(".thread", exchange_id=exchange.id))
        status = saved.error.status
    return _render(messages.read_thread(db.session, current_user, exchange.id), form, status)


@bp.post("/messages/<id:message_id>/report")
@login_required
def report(message_id: int):
    exchange_id = messages.get_message(db.session, current_user, message_id).exchange_id
    form = EmptyForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            messages.report(db.session, current_user, message_id)
        if saved.ok:
            flash(_("Thank you. The centre can now read this conversation and may call you."),
                  "success")
    return redirect(url_for(".thread", exchange_id=exchange_id))


@bp.post("/exchanges/<id:exchange_id>/phone")
@login_required
def share_phone(exchange_id: int):
    exchange = messages.party_exchange(db.session, current_user, exchange_id)
    form = EmptyForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            messages.share_phone(db.session, current_user, exchange.id)
        if saved.ok:
            flash(_shared_message(exchange), "success")
    return redirect(url_for(".thread", exchange_id=exchange.id))


def _shared_message(exchange) -> str:
    partner = exchange.receiver if current_user.id == exchange.provider_id else exchange.provider
    if exchange.is_accepted:
        return _("%(name)s can now see your phone number.", name=partner.name)
    return _("%(name)s will see your phone number once the exchange is agreed.", name=partner.name)
