"""Console: centres and who works where (administrators only)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from carebank.centres import services as centre_rules
from carebank.centres.forms import CentreForm, MembershipForm
from carebank.centres.models import Centre
from carebank.core.extensions import db
from carebank.members import on_behalf
from carebank.members.forms import ROLE_LABELS
from carebank.web import saving
from carebank.web.console import bp

CENTRE = "/centres/<id:centre_id>"


def _admins_only() -> None:
    """Plain coordinators work within their centre; only admins manage centres and roles."""
    on_behalf.require_admin(current_user)


@bp.route("/centres")
def centres():
    _admins_only()
    return _render_list(_membership_form())


def _render_list(membership_form: MembershipForm, status: int = 200):
    found = centre_rules.all_centres(db.session)
    return render_template(
        "console/centres/index.html", centres=found, counts=centre_rules.member_counts(db.session),
        staff=centre_rules.staff_by_centre(db.session),
        membership_form=membership_form, role_labels=ROLE_LABELS,
    ), status


def _membership_form() -> MembershipForm:
    form = MembershipForm()
    form.centre_id.choices = [(c.id, c.name) for c in centre_rules.all_centres(db.session)]
    return form


@bp.route("/centres/new", methods=["GET", "POST"])
def centre_new():
    _admins_only()
    return _edit(None)


@bp.route(f"{CENTRE}/edit", methods=["GET", "POST"])
def centre_edit(centre_id: int):
    _admins_only()
    return _edit(centre_rules.get_centre(db.session, centre_id))


def _edit(centre: Centre | None):
    form = CentreForm(obj=centre)
    if form.validate_on_submit():
        with saving(form) as saved:
            centre = on_behalf.save_centre(db.session, current_user, centre, **form.fields_for_service())
        if saved.ok:
            flash(_("The centre %(name)s is saved.", name=centre.name), "success")
            return redirect(url_for(".centres"))
    status = 400 if request.method == "POST" else 200  # shown again: the POST was refused
    return render_template("console/centres/edit.html", form=form, centre=centre), status


@bp.route("/centres/membership", methods=["POST"])
def membership():
    """Move a member to a centre and set their role (from the centres page or a member's page)."""
    _admins_only()
    form = _membership_form()
    if form.validate_on_submit():
        with saving(form) as saved:
            member = centre_rules.managed_member(db.session, current_user, form.member_number.data)
            on_behalf.set_membership(db.session, current_user, member, centre_id=form.centre_id.data,
                                     role=form.role.data)
        if saved.ok:
            flash(_("%(name)s now works in %(centre)s as %(role)s.", name=member.name,
                    centre=member.centre.name, role=ROLE_LABELS[member.role]), "success")
            return redirect(url_for(".member_detail", member_id=member.id))
    return _render_list(form, 400)

