"""My time: balance and history, giving time to a neighbour or the community pool, and
coordinators' grants from the pool."""
from __future__ import annotations

from contextlib import AbstractContextManager

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.core.commit import Outcome, committing
from carebank.core.errors import DomainError, InsufficientBalance
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.core.paging import requested_page
from carebank.core.policy import current_policy
from carebank.governance import pool as governed_pool
from carebank.ledger import services as ledger
from carebank.ledger.forms import DonateForm, GiftForm, GrantForm
from carebank.ledger.labels import KIND_WORDS
from carebank.web import show_refusal

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

HISTORY_PAGE_SIZE = 25

@bp.route("/")
@login_required
def history():
    given, received = ledger.given_and_received(db.session, [current_user.id])[current_user.id]
    page = requested_page(HISTORY_PAGE_SIZE)
    entries, older = page.split(ledger.history(db.session, current_user.id, limit=page.limit,
                                               offset=page.offset))
    return render_template(
        "ledger/history.html", entries=entries, page=page.number, older=older,
        balance=ledger.balance_of(db.session, current_user.id), given=given, received=received,
        floor=current_policy().min_balance_minutes, kind_words=KIND_WORDS,
    )


@bp.route("/gift", methods=["GET", "POST"])
@login_required
def gift():
    """Two steps, without JavaScript: look the number up ("Send 1 h to 김영희 (효자동)?"), then send."""
    form = GiftForm()
    if request.method == "GET":
        form.to_member_id.data = request.args.get("to", type=int)
    recipient = ledger.gift_recipient(db.session, current_user, form.to_member_id.data)
    if form.validate_on_submit() and not request.form.get("change"):
        if not form.send.data:
            return _gift_preview(form)
        with saving_transfer(form) as saved:
            ledger.gift(db.session, current_user, form.to_member_id.data, form.total_minutes,
                        form.memo.data, current_policy())
        if saved.ok:
            flash(_("You gave %(minutes)s to %(name)s. Thank you!",
                    minutes=format_minutes(form.total_minutes), name=recipient.name), "success")
            return redirect(url_for(".history"))
    return render_template("ledger/gift.html", form=form, recipient=recipient,
                           changing=bool(request.form.get("change"))), 400 if form.errors else 200


def _gift_preview(form: GiftForm):
    """The recipient's name and neighbourhood, to check before anything moves; an unknown,
    deactivated or own number is said under the number."""
    found = ledger.member_or_none(db.session, form.to_member_id.data)
    try:
        ledger.validate_minutes(form.total_minutes, current_policy())
    except DomainError as error:
        show_refusal(error, form)
        return render_template("ledger/gift.html", form=form, recipient=None), 400
    if found is None:
        form.to_member_id.errors.append(_("No member has this number. Check it on their card or profile."))
    elif found.id == current_user.id:
        form.to_member_id.errors.append(_("You cannot give time to yourself."))
    elif not found.is_active:
        form.to_member_id.errors.append(_("This member is no longer active, so they cannot receive time."))
    else:
        return render_template("ledger/gift.html", form=form, recipient=found, preview=True)
    return render_template("ledger/gift.html", form=form, recipient=None), 400


@bp.route("/donate", methods=["GET", "POST"])
@login_required
def donate():
    form = DonateForm()
    if form.validate_on_submit():
        with saving_transfer(form) as saved:
            ledger.donate_to_pool(db.session, current_user, form.total_minutes, form.memo.data,
                                  current_policy())
        if saved.ok:
            flash(_("You gave %(minutes)s to the community pool. Thank you!",
                    minutes=format_minutes(form.total_minutes)), "success")
            return redirect(url_for(".history"))
    return render_template("ledger/donate.html", form=form), 400 if form.errors else 200


@bp.route("/pool")
@login_required
def pool():
    return _render_pool(GrantForm())


def _render_pool(form: GrantForm, status: int = 200):
    balance = ledger.pool_account(db.session).balance_minutes
    grant_form = form if current_user.is_coordinator else None
    return render_template("ledger/pool.html", balance=balance, form=grant_form), status


@bp.route("/pool/grant", methods=["POST"])
@login_required
def grant():
    if not current_user.is_coordinator:
        abort(403)
    form = GrantForm()
    if form.validate_on_submit() and save_grant(form).ok:
        return redirect(url_for(".pool"))
    return _render_pool(form, 400)


def save_grant(form) -> Outcome:
    """Grant a grant form's time from the pool and say so; a refusal is shown on the form.
    The pool page and the console's grant page share it."""
    # Through governance's pool service, which builds on the ledger and sends a grant above the
    # bylaw's limit to a ballot; the ledger's services never import governance.
    with saving_transfer(form) as saved:
        governed_pool.grant(db.session, current_user, form.to_member_id.data, form.total_minutes,
                            form.memo.data, form.need.data, current_policy())
    if saved.ok:
        recipient = ledger.grant_recipient(db.session, current_user, form.to_member_id.data)
        flash(_("You granted %(minutes)s from the community pool to %(name)s.",
                minutes=format_minutes(form.total_minutes), name=recipient.name), "success")
    return saved


def saving_transfer(form) -> AbstractContextManager[Outcome]:
    """The pages' commit point for a transfer, showing a refusal under the field it is about."""
    return committing(lambda error: show_refusal(_placed(error), form))


def _placed(error: DomainError) -> DomainError:
    """An unknown or deactivated member and a too-low balance carry no field of their own:
    they are shown under the member number and the time asked for."""
    fields = dict(error.fields)
    if isinstance(error, InsufficientBalance):
        fields["minutes"] = error.message
    elif error.code in ("member_not_found", "member_deactivated"):
        fields["to_member_id"] = error.message
    error.fields = fields
    return error
