"""Console: the centre's members, registering residents without email or phone, and acting
for a member (edit, vet, post, respond, accept, decline, deactivate).

Every member is loaded with `centres.managed_member`: another centre's member is "not found".
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from carebank.audit import services as audit
from carebank.audit.describe import describe_entries
from carebank.cards import services as cards
from carebank.centres import services as centres
from carebank.centres.forms import MembershipForm
from carebank.core.commit import committing
from carebank.core.errors import DomainError
from carebank.core.extensions import db
from carebank.core.paging import requested_page
from carebank.core.policy import current_policy
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange
from carebank.members import on_behalf, reset_mail, resets
from carebank.members.forms import (
    MEMBER_FILTERS,
    ROLE_LABELS,
    VETTING_LABELS,
    DeactivateForm,
    MemberEditForm,
    MemberSearchForm,
    ResidentForm,
    RespondForForm,
    VettingForm,
)
from carebank.members.models import Member
from carebank.members.services import find_member, register_resident, search_members
from carebank.posts import services as posts
from carebank.posts.forms import PostForm
from carebank.posts.models import Post, PostKind
from carebank.web import saving, show_refusal
from carebank.web.console import bp
from carebank.web.forms import EmptyForm

PAGE_SIZE = 30
MEMBER = "/members/<id:member_id>"
# Suggestions are worked out for this many open posts at most, to keep the page quick.
POSTS_WITH_MATCHES = 5


@dataclass(frozen=True)
class PostView:
    """One of the member's posts on their hub page, with its answers and suggestions."""

    post: Post
    responses: list[Exchange]
    matches: list[posts.Suggestion]


def _managed(member_id: int) -> Member:
    return centres.managed_member(db.session, current_user, member_id)


@bp.route("/members")
def members():
    form = MemberSearchForm(request.args)
    form.validate()  # an unknown filter gets a message and shows everyone
    page = requested_page(PAGE_SIZE)
    show = form.show.data if form.show.data in MEMBER_FILTERS else "all"
    found, more = page.split(search_members(db.session, current_user, form.q.data or "", show,
                                            limit=page.limit, offset=page.offset))
    return render_template(
        "console/members/index.html", form=form, found=found, page=page.number, more=more,
        cards=cards.working_cards(db.session, [m.id for m in found]), filters=MEMBER_FILTERS,
        args={k: v for k, v in (("q", form.q.data), ("show", show)) if v},
    ), 400 if form.errors else 200


@bp.route("/members/new", methods=["GET", "POST"])
def member_new():
    form = ResidentForm()
    form.centre_id.choices = [(c.id, c.name) for c in centres.all_centres(db.session)]
    if request.method == "GET":
        form.neighbourhood.data = _first_neighbourhood()
        form.centre_id.data = current_user.centre_id or 0
    if form.validate_on_submit():
        with saving(form) as saved:
            member = register_resident(db.session, current_user, consent_note=form.consent_note.data,
                                       centre_id=form.centre_id.data or None, **form.profile())
        if saved.ok:
            flash(_("%(name)s is registered with member number %(number)s. Print their card next.",
                    name=member.name, number=member.number), "success")
            return redirect(url_for(".member_detail", member_id=member.id))
    return render_template("console/members/new.html", form=form), _refused_status()


def _refused_status() -> int:
    """A form page shown again after a POST was refused (by the form or by a rule)."""
    return 400 if request.method == "POST" else 200


def _first_neighbourhood() -> str:
    centre = current_user.centre
    return centre.neighbourhood_list[0] if centre and centre.neighbourhood_list else ""


@bp.route(MEMBER)
def member_detail(member_id: int):
    return _render_detail(_managed(member_id))


def _render_detail(member: Member, status: int = 200, **forms):
    """The hub page: everything about one member and every action for them."""
    forms.setdefault("vetting_form", VettingForm(status=member.vetting.value))
    forms.setdefault("deactivate_form", DeactivateForm())
    forms.setdefault("membership_form", _membership_form(member))
    recent = audit.entries(db.session, member_id=member.id, limit=10)
    return render_template(
        "console/members/detail.html", member=member, card=cards.current_card(db.session, member.id),
        registered_by=find_member(db.session, member.registered_by_id),
        vetted_by=find_member(db.session, member.vetted_by_id),
        post_views=_post_views(member), member_exchanges=exchanges.exchanges_of(db.session, member)[:20],
        recent=describe_entries(db.session, recent), vetting_labels=VETTING_LABELS, role_labels=ROLE_LABELS,
        **forms,
    ), status


def _membership_form(member: Member) -> MembershipForm | None:
    if not current_user.is_admin:
        return None
    form = MembershipForm(member_number=member.id, centre_id=member.centre_id or 0, role=member.role.value)
    form.centre_id.choices = [(c.id, c.name) for c in centres.all_centres(db.session)]
    return form


def _post_views(member: Member) -> list[PostView]:
    """Open posts with their responses and, for the first few, suggested matches."""
    views = []
    for post in posts.posts_of(db.session, member):
        if not post.is_open() and post.status.value != "matched":
            continue
        wanted = post.is_open() and len(views) < POSTS_WITH_MATCHES
        matches = posts.suggestions(db.session, post, member, limit=5) if wanted else []
        views.append(PostView(post, exchanges.responses_to(db.session, post.id, with_parties=True), matches))
    return views


@bp.route(f"{MEMBER}/edit", methods=["GET", "POST"])
def member_edit(member_id: int):
    member = _managed(member_id)
    form = MemberEditForm(obj=member)
    if request.method == "GET":
        form.locale.data = member.locale or "ko"
    if form.validate_on_submit():
        with saving(form) as saved:
            on_behalf.update_member(db.session, current_user, member, **form.profile())
        if saved.ok:
            flash(_("The profile of %(name)s is saved.", name=member.name), "success")
            return redirect(url_for(".member_detail", member_id=member.id))
    return render_template("console/members/edit.html", form=form, member=member), _refused_status()


@bp.route(f"{MEMBER}/vetting", methods=["POST"])
def member_vetting(member_id: int):
    member = _managed(member_id)
    form = VettingForm()
    if form.validate_on_submit():
        with _saving_quietly(form) as saved:
            on_behalf.set_vetting(db.session, current_user, member, form.status.data, form.note.data)
        if saved.ok:
            flash(_("The carer check of %(name)s is saved.", name=member.name), "success")
            return redirect(url_for(".member_detail", member_id=member.id))
    return _render_detail(member, 400, vetting_form=form)


def _saving_quietly(form=None):
    """Like `saving`: a refusal is rolled back and shown on the form, except that a member
    out of reach or a forbidden act is an error page."""
    return committing(lambda error: _refuse_quietly(error, form))


def _refuse_quietly(error: DomainError, form) -> None:
    if error.status in (403, 404):
        raise error
    show_refusal(error, form)


@bp.route(f"{MEMBER}/deactivate", methods=["POST"])
def member_deactivate(member_id: int):
    member = _managed(member_id)
    form = DeactivateForm()
    if form.validate_on_submit():
        with _saving_quietly(form) as saved:
            on_behalf.deactivate(db.session, current_user, member, form.reason.data)
        if saved.ok:
            flash(_("%(name)s is deactivated. Their open posts are closed.", name=member.name), "success")
            return redirect(url_for(".member_detail", member_id=member.id))
    return _render_detail(member, 400, deactivate_form=form)


@bp.route(f"{MEMBER}/reactivate", methods=["POST"])
def member_reactivate(member_id: int):
    member = _managed(member_id)
    if _run(lambda: on_behalf.reactivate(db.session, current_user, member)):
        flash(_("%(name)s is active again.", name=member.name), "success")
    return redirect(url_for(".member_detail", member_id=member_id))


def _run(action) -> bool:
    """Do a POST button's action and commit; a refusal is flashed (an error page when the
    thing is out of reach or forbidden)."""
    if not EmptyForm().validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
        return False
    with _saving_quietly() as saved:
        action()
    return saved.ok


@bp.route(f"{MEMBER}/password-reset", methods=["POST"])
def member_password_reset(member_id: int):
    """Mail the member a link to set a new password (for a member who forgot theirs)."""
    member = _managed(member_id)
    made = []  # the mail, made before the commit and sent after it
    if _run(lambda: made.append(reset_mail.reset_mail(*resets.coordinator_reset(db.session, current_user, member)))):
        if reset_mail.send(made[0]):
            flash(_("A link to set a new password is on its way to %(email)s. It works for one hour.",
                    email=member.email), "success")
        else:
            flash(_("The link could not be mailed just now. Please try again in a moment."), "error")
    return redirect(url_for(".member_detail", member_id=member_id))


@bp.route(f"{MEMBER}/posts/new", methods=["GET", "POST"])
def member_post_new(member_id: int):
    member = _managed(member_id)
    form = PostForm()
    if request.method == "GET":
        form.neighbourhood.data = member.neighbourhood
        form.kind.data = request.args.get("kind") if request.args.get("kind") in {"need", "offer"} else None
    if form.validate_on_submit():
        with _saving_quietly(form) as saved:
            post = _post_for(member, form)
        if saved.ok:
            if post.kind is PostKind.NEED:
                flash(_("The need is posted for %(name)s.", name=member.name), "success")
            else:
                flash(_("The offer is posted for %(name)s.", name=member.name), "success")
            return redirect(url_for(".member_detail", member_id=member.id))
    return render_template("console/members/post_new.html", form=form, member=member), _refused_status()


def _post_for(member: Member, form: PostForm) -> Post:
    starts_at, ends_at = form.window_utc()
    return on_behalf.post_for(
        db.session, current_user, member, kind=form.kind.data, category=form.category.data,
        title=form.title.data, description=form.description.data or "", minutes=form.total_minutes,
        neighbourhood=form.neighbourhood.data, starts_at=starts_at, ends_at=ends_at,
        policy=current_policy(),
    )


@bp.route(f"{MEMBER}/posts/<id:post_id>/respond", methods=["POST"])
def member_respond(member_id: int, post_id: int):
    member = _managed(member_id)
    message = RespondForForm().message.data or ""
    if _run(lambda: on_behalf.respond_for(db.session, current_user, member, post_id, message)):
        flash(_("Responded for %(name)s. The other person will answer.", name=member.name), "success")
    return redirect(url_for(".member_detail", member_id=member_id))


@bp.route(f"{MEMBER}/exchanges/<id:exchange_id>/accept", methods=["POST"])
def member_accept(member_id: int, exchange_id: int):
    member = _managed(member_id)
    if _run(lambda: on_behalf.accept_for(db.session, current_user, member, exchange_id)):
        flash(_("Accepted for %(name)s. Arrange the visit together.", name=member.name), "success")
    return redirect(url_for(".member_detail", member_id=member_id))


@bp.route(f"{MEMBER}/exchanges/<id:exchange_id>/decline", methods=["POST"])
def member_decline(member_id: int, exchange_id: int):
    member = _managed(member_id)
    if _run(lambda: on_behalf.decline_for(db.session, current_user, member, exchange_id)):
        flash(_("Declined for %(name)s.", name=member.name), "success")
    return redirect(url_for(".member_detail", member_id=member_id))
