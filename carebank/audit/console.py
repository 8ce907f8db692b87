"""Console: the audit log of what coordinators did for whom, newest first."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from carebank.audit import services as audit
from carebank.audit.describe import describe_entries
from carebank.audit.forms import AuditFilterForm
from carebank.centres import services as centres
from carebank.core.errors import NotFound
from carebank.core.extensions import db
from carebank.members.models import Member
from carebank.web.console import bp

AUDIT_PAGE_SIZE = 50


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
        lines=describe_entries(db.session, found[:AUDIT_PAGE_SIZE]),
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
