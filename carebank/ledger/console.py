"""Console: grants from the community pool, a member's ledger with corrections (reversals,
never edits), and the audit log of what coordinators did for whom."""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.audit import services as audit
from carebank.audit.models import AuditEntry
from carebank.centres import services as centres
from carebank.core.errors import NotFound
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.ledger import services as ledger
from carebank.ledger.forms import AuditFilterForm, ConsoleGrantForm, ReverseForm
from carebank.ledger.models import Transaction
from carebank.ledger.services import Party
from carebank.ledger.views import KIND_WORDS, save_grant
from carebank.members.forms import VETTING_LABELS
from carebank.members.models import Member, VettingStatus
from carebank.web import saving
from carebank.web.console import bp

AUDIT_PAGE_SIZE = 50

# One sentence per audit action: "<coordinator> granted 1 h to <member>".
ACTION_SENTENCES = {
    "member.register": _l("%(actor)s registered %(member)s"),
    "member.edit": _l("%(actor)s edited the profile of %(member)s"),
    "member.deactivate": _l("%(actor)s deactivated %(member)s"),
    "member.reactivate": _l("%(actor)s reactivated %(member)s"),
    "member.vetting": _l("%(actor)s changed the carer check of %(member)s"),
    "member.pin": _l("%(actor)s changed the PIN of %(member)s"),
    "post.create": _l("%(actor)s posted for %(member)s"),
    "post.close": _l("%(actor)s closed a post of %(member)s"),
    "exchange.respond": _l("%(actor)s responded to a post for %(member)s"),
    "exchange.accept": _l("%(actor)s accepted a response for %(member)s"),
    "exchange.decline": _l("%(actor)s declined a response for %(member)s"),
    "exchange.cancel": _l("%(actor)s cancelled an exchange for %(member)s"),
    "pool.grant": _l("%(actor)s granted %(minutes)s to %(member)s"),
    "transaction.reverse": _l("%(actor)s reversed %(minutes)s for %(member)s"),
    "card.issue": _l("%(actor)s issued a member card to %(member)s"),
    "card.block": _l("%(actor)s blocked the member card of %(member)s"),
    "card.unlock": _l("%(actor)s unlocked the member card of %(member)s"),
    "checkin.approve": _l("%(actor)s approved a card check-in for %(member)s"),
    "checkin.reject": _l("%(actor)s rejected a card check-in for %(member)s"),
    "dispute.settle": _l("%(actor)s settled a dispute of %(member)s"),
    "visit.record": _l("%(actor)s recorded a visit for %(member)s"),
    "centre.create": _l("%(actor)s created a centre"),
    "centre.edit": _l("%(actor)s changed a centre"),
    "member.role": _l("%(actor)s changed the centre or role of %(member)s"),
}
VETTING_SENTENCE = _l("%(actor)s set the carer check of %(member)s to “%(status)s”")


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as a sentence, with its note (the reason given)."""

    entry: AuditEntry
    sentence: str
    note: str


def describe_entries(entries: list[AuditEntry]) -> list[AuditLine]:
    """Audit entries as sentences in the viewer's language."""
    minutes = ledger.moved_minutes(db.session, [e.transaction_id for e in entries if e.transaction_id])
    return [_describe(entry, minutes.get(entry.transaction_id, 0)) for entry in entries]


def _describe(entry: AuditEntry, minutes: int) -> AuditLine:
    names = {"actor": entry.actor.name, "member": entry.member.name if entry.member else "—",
             "minutes": format_minutes(minutes)}
    if entry.action == "member.vetting":
        # on_behalf.set_vetting records "<status>: <note>"; the status is shown translated.
        status, _sep, note = entry.reason.partition(": ")
        if status in {s.value for s in VettingStatus}:
            label = VETTING_LABELS[VettingStatus(status)]
            return AuditLine(entry, str(VETTING_SENTENCE) % {**names, "status": label}, note)
    template = ACTION_SENTENCES.get(entry.action, entry.action)
    return AuditLine(entry, str(template) % names, entry.reason)


@bp.route("/grant", methods=["GET", "POST"])
def grant():
    form = ConsoleGrantForm()
    if request.method == "GET":
        form.to_member_id.data = request.args.get("member", type=int)
    if form.validate_on_submit():
        saved = save_grant(form)
        if saved.ok:
            return redirect(url_for(".member_detail", member_id=form.to_member_id.data))
        return _grant_page(form, saved.error.status)
    return _grant_page(form, 400 if form.is_submitted() else 200)


def _grant_page(form: ConsoleGrantForm, status: int):
    return render_template(
        "console/ledger/grant.html", form=form,
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
        creator=ledger.creator_of(db.session, transaction),
    ), status


@bp.route("/audit")
def audit_log():
    form = AuditFilterForm(request.args)
    form.validate()
    member = _audit_member(form)
    found = [] if form.errors else audit.entries_for(
        db.session, current_user, member_id=member.id if member else None,
        limit=AUDIT_PAGE_SIZE + 1, before_id=form.before.data,
    )
    return render_template(
        "console/ledger/audit.html", form=form, member=member,
        lines=describe_entries(found[:AUDIT_PAGE_SIZE]),
        next_before=found[AUDIT_PAGE_SIZE - 1].id if len(found) > AUDIT_PAGE_SIZE else None,
    ), 400 if form.errors else 200


def _audit_member(form: AuditFilterForm) -> Member | None:
    """The member the log is filtered by; another centre's member is unknown."""
    if form.member.errors or not form.member.data:
        return None
    try:
        return centres.managed_member(db.session, current_user, form.member.data)
    except NotFound as error:
        form.member.errors.append(str(error.message))
        return None
