"""Console: grants from the community pool and a member's ledger with corrections (reversals,
never edits)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from carebank.centres import services as centres
from carebank.core.extensions import db
from carebank.ledger import services as ledger
from carebank.ledger.forms import ConsoleGrantForm, ReverseForm
from carebank.ledger.labels import KIND_WORDS
from carebank.ledger.models import Transaction
from carebank.ledger.services import Party
from carebank.ledger.views import save_grant
from carebank.web import saving
from carebank.web.console import bp


@bp.route("/grant", methods=["GET", "POST"])
def grant():
    form = ConsoleGrantForm()
    if request.method == "GET":
        form.to_member_id.data = request.args.get("member", type=int)
    if form.validate_on_submit():
        saved = save_grant(form)
        if saved.ok:
            return redirect(url_for(".member_detail", member_id=form.to_member_id.data))
        # Above the bylaw's limit: the page offers to put the grant to a ballot (governance).
        return _grant_page(form, saved.error.status, needs_ballot=saved.error.code == "grant_needs_ballot")
    return _grant_page(form, 400 if form.is_submitted() else 200)


def _grant_page(form: ConsoleGrantForm, status: int, needs_ballot: bool = False):
    return render_template(
        "console/ledger/grant.html", form=form, needs_ballot=needs_ballot,
        recipient=ledger.grant_recipient(db.session, current_user, form.to_member_id.data),
        pool=ledger.pool_account(db.session).balance_minutes,
    ), status


@bp.route("/members/<id:member_id>/history")
def member_history(member_id: int):
    member = centres.managed_member(db.session, current_user, member_id)
    entries = ledger.history(db.session, member.id)
    return render_template(
        "console/ledger/history.html", member=member, entries=entries, kind_words=KIND_WORDS,
        reversed_ids=ledger.reversed_ids(db.session, [e.transaction_id for e in entries]),
        own_ids={e.transaction_id for e in entries if current_user.id in (member.id, e.counterparty_id)},
    )


@bp.route("/transactions/<id:transaction_id>/reverse", methods=["GET", "POST"])
def reverse(transaction_id: int):
    transaction, parties = ledger.managed_transaction(db.session, current_user, transaction_id)
    form = ReverseForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            ledger.reverse(db.session, current_user, transaction.id, form.memo.data)
        if saved.ok:
            flash(_("The transaction is reversed. Both balances are back as they were."), "success")
            member = ledger.managed_party(current_user, parties)
            return redirect(url_for(".member_history", member_id=member.id))
        return _reverse_page(transaction, parties, form, saved.error.status)
    return _reverse_page(transaction, parties, form, 400 if form.is_submitted() else 200)


def _reverse_page(transaction: Transaction, parties: list[Party], form: ReverseForm, status: int):
    return render_template(
        "console/ledger/reverse.html", transaction=transaction, parties=parties, form=form,
        kind_words=KIND_WORDS, reversal=ledger.reversal_of(db.session, transaction),
        creator=ledger.creator_of(db.session, transaction), own=ledger.is_party(current_user, parties),
    ), status
