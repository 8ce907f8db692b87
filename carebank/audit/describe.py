"""Audit entries as sentences in the viewer's language: "<coordinator> granted 1 h to <member>"."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.audit.models import AuditEntry
from carebank.core.i18n import format_minutes
from carebank.ledger import services as ledger
from carebank.members.forms import VETTING_LABELS
from carebank.members.models import VettingStatus

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
    "member.reset": _l("%(actor)s sent a password reset link to %(member)s"),
    "register.edit": _l("%(actor)s changed the register entry of %(member)s"),
    "board.seat": _l("%(actor)s changed the board seats of %(member)s"),
    "assembly.create": _l("%(actor)s called a general assembly"),
    "assembly.tally": _l("%(actor)s recorded the tellers' count of a motion"),
    "assembly.minutes": _l("%(actor)s closed an assembly and sealed its minutes"),
    "bylaw.change": _l("%(actor)s applied an adopted bylaw change"),
    "proposal.outcome": _l("%(actor)s recorded the outcome of a proposal"),
    "grant.request": _l("%(actor)s asked the members for a pool grant to %(member)s"),
    "grant.decide": _l("%(actor)s carried out a pool grant decision for %(member)s"),
}
VETTING_SENTENCE = _l("%(actor)s set the carer check of %(member)s to “%(status)s”")


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as a sentence, with its note (the reason given)."""

    entry: AuditEntry
    sentence: str
    note: str


def describe_entries(session: Session, entries: list[AuditEntry]) -> list[AuditLine]:
    """Audit entries as sentences in the viewer's language."""
    minutes = ledger.moved_minutes(session, [e.transaction_id for e in entries if e.transaction_id])
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


