"""Console: grants from the community pool, a member's ledger with corrections (reversals,
never edits), and the audit log of what coordinators did for whom."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.audit import services as audit
from carebank.audit.models import AuditEntry
from carebank.centres import services as centres
from carebank.core.converters import MAX_ID
from carebank.core.errors import DomainError, InsufficientBalance, NotFound
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.core.policy import current_policy
from carebank.ledger import services as ledger
from carebank.ledger.forms import AuditFilterForm, ConsoleGrantForm, ReverseForm
from carebank.ledger.models import Account, Posting, Transaction, TransactionKind
from carebank.ledger.views import KIND_WORDS
from carebank.members.forms import VETTING_LABELS
from carebank.members.models import Member, VettingStatus
from carebank.web import apply_domain_error
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
    minutes = _moved_minutes([e.transaction_id for e in entries if e.transaction_id])
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


def _moved_minutes(transaction_ids: list[int]) -> dict[int, int]:
    """How many minutes each transaction moved (the sum of its credits)."""
    if not transaction_ids:
        return {}
    rows = db.session.execute(
        sa.select(Posting.transaction_id, sa.func.sum(Posting.minutes))
        .where(Posting.transaction_id.in_(transaction_ids), Posting.minutes > 0)
        .group_by(Posting.transaction_id)
    )
    return {transaction_id: int(total) for transaction_id, total in rows}


@bp.route("/grant", methods=["GET", "POST"])
def grant():
    form = ConsoleGrantForm()
    if request.method == "GET":
        form.to_member_id.data = request.args.get("member", type=int)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            ledger.grant_from_pool(db.session, current_user, form.to_member_id.data,
                                   form.total_minutes, form.memo.data, current_policy())
        except DomainError as error:
            status = _show_grant_error(error, form)
        else:
            db.session.commit()
            recipient = db.session.get(Member, form.to_member_id.data)
            flash(_("You granted %(minutes)s from the community pool to %(name)s.",
                    minutes=format_minutes(form.total_minutes), name=recipient.name), "success")
            return redirect(url_for(".member_detail", member_id=recipient.id))
    return render_template(
        "console/ledger/grant.html", form=form, recipient=_recipient(form.to_member_id.data),
        pool=ledger.pool_account(db.session).balance_minutes,
    ), status


def _show_grant_error(error: DomainError, form) -> int:
    """Put the refusal under its field; an empty pool is about the time asked for."""
    if isinstance(error, InsufficientBalance):
        error.fields = {"minutes": _("The community pool does not have that much time.")}
    apply_domain_error(error, form)
    return error.status


def _recipient(member_id) -> Member | None:
    """The member the grant is for, when the coordinator manages them."""
    if not isinstance(member_id, int) or not 0 < member_id <= MAX_ID:
        return None
    member = db.session.get(Member, member_id)
    return member if member is not None and centres.manages(current_user, member) else None


@bp.route("/members/<id:member_id>/history")
def member_history(member_id: int):
    member = centres.managed_member(db.session, current_user, member_id)
    entries = ledger.history(db.session, member.id)
    return render_template(
        "console/ledger/history.html", member=member, entries=entries, kind_words=KIND_WORDS,
        reversed_ids=_reversed([e.transaction_id for e in entries]),
    )


def _reversed(transaction_ids: list[int]) -> set[int]:
    """Which of these transactions a later correction has already undone."""
    if not transaction_ids:
        return set()
    return set(db.session.scalars(
        sa.select(Transaction.reverses_id).where(Transaction.reverses_id.in_(transaction_ids))))


@bp.route("/transactions/<id:transaction_id>/reverse", methods=["GET", "POST"])
def reverse(transaction_id: int):
    transaction, parties = _managed_transaction(transaction_id)
    form = ReverseForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            ledger.reverse(db.session, current_user, transaction.id, form.memo.data)
        except DomainError as error:
            if error.status in (403, 404):
                raise
            apply_domain_error(error, form)
            status = error.status
            transaction, parties = _managed_transaction(transaction_id)
        else:
            db.session.commit()
            flash(_("The transaction is reversed. Both balances are back as they were."), "success")
            member_id = next(p.member.id for p in parties if p.member and centres.manages(current_user, p.member))
            return redirect(url_for(".member_history", member_id=member_id))
    return render_template(
        "console/ledger/reverse.html", transaction=transaction, parties=parties, form=form,
        kind_words=KIND_WORDS, reversal=_reversal_of(transaction),
        creator=db.session.get(Member, transaction.created_by_id) if transaction.created_by_id else None,
    ), status


@dataclass(frozen=True)
class Party:
    """One posting of a transaction with whose account it is (None: the community pool)."""

    member: Member | None
    minutes: int


def _managed_transaction(transaction_id: int) -> tuple[Transaction, list[Party]]:
    """A transaction touching a member the coordinator manages, or NotFound."""
    transaction = db.session.get(Transaction, transaction_id)
    rows = db.session.execute(
        sa.select(Posting.minutes, Member)
        .join(Account, Posting.account_id == Account.id)
        .outerjoin(Member, Account.member_id == Member.id)
        .where(Posting.transaction_id == transaction_id).order_by(Posting.id)
    ).all() if transaction else []
    parties = [Party(member, minutes) for minutes, member in rows]
    if not any(p.member and centres.manages(current_user, p.member) for p in parties):
        raise NotFound(_l("That transaction does not exist."))
    return transaction, parties


def _reversal_of(transaction: Transaction) -> Transaction | None:
    if transaction.kind is TransactionKind.REVERSAL:
        return None
    return db.session.scalar(sa.select(Transaction).where(Transaction.reverses_id == transaction.id))


@bp.route("/audit")
def audit_log():
    form = AuditFilterForm(request.args)
    form.validate()
    member = _audit_member(form)
    if form.errors or (not current_user.is_admin and current_user.centre_id is None):
        found = []
    else:
        found = audit.entries(
            db.session, centre_id=None if current_user.is_admin else current_user.centre_id,
            member_id=member.id if member else None, limit=AUDIT_PAGE_SIZE + 1,
            before_id=form.before.data,
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
