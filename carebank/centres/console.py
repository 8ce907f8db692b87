"""Console: centres and who works where (administrators only)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from carebank.centres import services as centre_rules
from carebank.centres.forms import AssignNeighbourhoodForm, CentreForm, MembershipForm, NeighbourhoodEntryForm
from carebank.centres.models import Centre
from carebank.core.extensions import db
from carebank.members import on_behalf
from carebank.members.forms import ROLE_LABELS
from carebank.web import saving
from carebank.web.console import bp
from carebank.web.forms import EmptyForm

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
    return render_template("console/centres/edit.html", form=form, centre=centre, entry_form=NeighbourhoodEntryForm(),
                           empty_form=EmptyForm(), use=_use(centre)), status


def _use(centre: Centre | None) -> dict[int, tuple[int, int]]:
    """How many members and posts name each of the centre's neighbourhoods."""
    entries = centre.neighbourhood_entries if centre else []
    return {entry.id: centre_rules.neighbourhood_use(db.session, entry) for entry in entries}


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



# The centre's list of neighbourhoods: admins add, rename and remove entries; coordinators
# see their own centre's list; admins assign the values typed before the list existed.

ENTRY = "/neighbourhoods/<id:neighbourhood_id>"


@bp.route(f"{CENTRE}/neighbourhoods", methods=["POST"])
def neighbourhood_add(centre_id: int):
    _admins_only()
    centre = centre_rules.get_centre(db.session, centre_id)
    form = NeighbourhoodEntryForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            entry = centre_rules.add_neighbourhood(db.session, centre, form.name.data, form.district.data or "")
        if saved.ok:
            flash(_("%(name)s is on the list of %(centre)s.", name=entry.label, centre=centre.name), "success")
    else:
        flash(_("Please give the neighbourhood a name."), "error")
    return redirect(url_for(".centre_edit", centre_id=centre.id))


@bp.route(f"{ENTRY}/rename", methods=["POST"])
def neighbourhood_rename(neighbourhood_id: int):
    _admins_only()
    entry = centre_rules.get_neighbourhood(db.session, neighbourhood_id)
    centre_id = entry.centre_id
    form = NeighbourhoodEntryForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            centre_rules.rename_neighbourhood(db.session, entry, form.name.data, form.district.data or "")
        if saved.ok:
            flash(_("The neighbourhood is renamed; its members and posts follow."), "success")
    else:
        flash(_("Please give the neighbourhood a name."), "error")
    return redirect(url_for(".centre_edit", centre_id=centre_id))


@bp.route(f"{ENTRY}/remove", methods=["POST"])
def neighbourhood_remove(neighbourhood_id: int):
    _admins_only()
    entry = centre_rules.get_neighbourhood(db.session, neighbourhood_id)
    centre_id, label = entry.centre_id, entry.label
    form = EmptyForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            centre_rules.remove_neighbourhood(db.session, entry)
        if saved.ok:
            flash(_("%(name)s is off the list.", name=label), "success")
    return redirect(url_for(".centre_edit", centre_id=centre_id))


@bp.route("/neighbourhoods", methods=["GET", "POST"])
def neighbourhoods():
    """Coordinators: their centre's list. Admins: every list, and the typed values to assign."""
    centre_rules.require_coordinator(current_user)
    form = AssignNeighbourhoodForm()
    if current_user.is_admin and form.validate_on_submit():
        with saving(form) as saved:
            entry = centre_rules.listed_neighbourhood(db.session, form.neighbourhood.data)
            members, posts = centre_rules.assign_unmatched(db.session, form.value.data, entry)
        if saved.ok:
            flash(_("“%(value)s” is now %(name)s: %(members)s members and %(posts)s posts.", value=form.value.data,
                    name=entry.label, members=members, posts=posts), "success")
            return redirect(url_for(".neighbourhoods"))
    centre_id = None if current_user.is_admin else current_user.centre_id
    entries = centre_rules.neighbourhood_list(db.session, centre_id) if centre_id or current_user.is_admin else []
    unmatched = centre_rules.unmatched_neighbourhoods(db.session) if current_user.is_admin else []
    status = 400 if request.method == "POST" else 200
    return render_template("console/centres/neighbourhoods.html", entries=entries, unmatched=unmatched,
                           form=form), status
