"""Needs and offers pages: browse, post, see one post, respond, accept or decline, close."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from carebank.core.commit import committed, committing
from carebank.core.errors import DomainError
from carebank.core.extensions import db
from carebank.core.paging import requested_page
from carebank.core.policy import current_policy
from carebank.exchanges import services as exchanges
from carebank.matching.words import reasons_text
from carebank.posts import services as posts
from carebank.posts.forms import PostFilterForm, PostForm, RespondForm
from carebank.posts.models import Post, PostKind
from carebank.web import saving, show_refusal

bp = Blueprint("posts", __name__, url_prefix="/posts")

POST = "/<id:post_id>"
RESPONSE = f"{POST}/responses/<id:exchange_id>"
# A phone's screenful or three; "More" brings the next (the API gives 50 at a time).
BROWSE_PAGE_SIZE = 20
STATES = ("open", "matched", "expired", "closed")
STATE_LABELS = {
    "open": _l("Open"),
    "matched": _l("Matched"),
    "expired": _l("Expired"),
    "closed": _l("Closed"),
}


def post_state(post: Post) -> str:
    """open / matched / closed, or expired for an open post past its date."""
    if post.status.value == "open" and post.is_expired():
        return "expired"
    return post.status.value


@bp.app_template_filter("match_reasons")
def match_reasons(reasons) -> str:
    """A suggestion's reasons in words: "same kind of help · your neighbourhood"."""
    return reasons_text(reasons)


@bp.app_template_filter("post_state_label")
def post_state_label(post: Post) -> str:
    return str(STATE_LABELS[post_state(post)])


@bp.route("/")
def browse():
    form = PostFilterForm(request.args)
    form.validate()  # unknown choices get a message; the service ignores them
    page = requested_page(BROWSE_PAGE_SIZE)
    wanted = posts.PostFilter(kind=form.kind.data, category=form.category.data,
                              neighbourhood=form.neighbourhood.data, text=form.q.data)
    found, more = page.split(posts.browse(db.session, wanted, limit=page.limit, offset=page.offset))
    posts.load_authors(db.session, found)
    filters = {name: value for name, value in form.data.items() if value}
    return render_template(
        "posts/browse.html", form=form, found=found, page=page.number, more=more, filters=filters,
        neighbourhoods=posts.neighbourhoods(db.session),
    ), 400 if form.errors else 200


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = PostForm()
    if request.method == "GET":
        form.neighbourhood.data = current_user.neighbourhood
        if request.args.get("kind") in {k.value for k in PostKind}:
            form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        with saving(form) as saved:
            post = _create_post(form)
        if saved.ok:
            flash(_("Your need is posted.") if post.kind is PostKind.NEED else _("Your offer is posted."), "success")
            return redirect(url_for("posts.detail", post_id=post.id))
    return render_template("posts/new.html", form=form), 400 if form.errors else 200


def _create_post(form: PostForm) -> Post:
    starts_at, ends_at = form.window_utc()
    return posts.create_post(
        db.session, current_user, kind=form.kind.data, category=form.category.data,
        title=form.title.data, description=form.description.data or "",
        minutes=form.total_minutes, neighbourhood=form.neighbourhood.data,
        starts_at=starts_at, ends_at=ends_at, once=form.once.data and form.kind.data == "need",
        policy=current_policy(),
    )


@bp.route("/mine")
@login_required
def mine():
    groups = {state: [] for state in STATES}
    for post in posts.posts_of(db.session, current_user):
        groups[post_state(post)].append(post)
    return render_template("posts/mine.html", groups=groups, labels=STATE_LABELS)


@bp.route(POST)
def detail(post_id: int):
    post = posts.get_post(db.session, post_id)
    return _render_detail(post, RespondForm())


def _render_detail(post: Post, respond_form: RespondForm, status: int = 200):
    """The post, and what the viewer can do with it: manage it if theirs, else respond."""
    owner = current_user.is_authenticated and post.member_id == current_user.id
    responses = exchanges.responses_to(db.session, post.id, with_parties=owner) if current_user.is_authenticated else []
    return render_template(
        "posts/detail.html", post=post, owner=owner, respond_form=respond_form,
        responses=responses if owner else [],
        standings=exchanges.standings(db.session, responses) if owner else {},
        my_response=exchanges.live_response(responses, current_user),
        matches=posts.kept_suggestions(db.session, post, current_user) if owner else [],
    ), status


@bp.route(f"{POST}/respond", methods=["POST"])
@login_required
def respond(post_id: int):
    post = posts.get_post(db.session, post_id)
    form = RespondForm()
    if not form.validate_on_submit():
        return _render_detail(post, form, 400)
    with committing(_shown_unless_forbidden(form)) as saved:
        exchange = exchanges.respond(db.session, current_user, post.id, form.message.data or "")
    if not saved.ok:
        return _render_detail(post, form, saved.error.status)
    flash(_("Your response is sent. You will see here when it is answered."), "success")
    return redirect(url_for("exchanges.detail", exchange_id=exchange.id))


def _shown_unless_forbidden(form: RespondForm | None = None):
    """Show a refusal on the page, except not being allowed or something gone: the app's
    error page says why (your own post, a response that does not exist)."""
    def show(error: DomainError) -> None:
        if error.status in (403, 404):
            raise error
        show_refusal(error, form)
    return show


@bp.route(f"{RESPONSE}/accept", methods=["POST"])
@login_required
def accept(post_id: int, exchange_id: int):
    exchange = _decide(post_id, exchange_id, exchanges.accept)
    if exchange is None:
        return redirect(url_for("posts.detail", post_id=post_id))
    flash(_("You accepted. Arrange the visit together."), "success")
    return redirect(url_for("exchanges.detail", exchange_id=exchange.id))


@bp.route(f"{RESPONSE}/decline", methods=["POST"])
@login_required
def decline(post_id: int, exchange_id: int):
    if _decide(post_id, exchange_id, exchanges.decline) is not None:
        flash(_("You declined this response."), "success")
    return redirect(url_for("posts.detail", post_id=post_id))


def _decide(post_id: int, exchange_id: int, decision):
    """Accept or decline a response to this post; None (and a message) if already answered."""
    exchanges.get_response(db.session, current_user, post_id, exchange_id)
    with committing(_shown_unless_forbidden()) as saved:
        exchange = decision(db.session, current_user, exchange_id)
    return exchange if saved.ok else None


@bp.route(f"{POST}/close", methods=["POST"])
@login_required
def close(post_id: int):
    committed(posts.close_post)(db.session, current_user, post_id)  # a refusal: the error page
    flash(_("The post is closed. It no longer shows in the list."), "success")
    return redirect(url_for("posts.detail", post_id=post_id))
