"""The member's notifications: the inbox page, opening one, marking all read, and the unread
count in every page's header."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.core.commit import committed
from carebank.core.extensions import csrf, db
from carebank.notifications import preferences, unsubscribe
from carebank.notifications import services as notifications
from carebank.notifications.forms import KIND_LABELS, PreferencesForm
from carebank.web import safe_next_url, saving
from carebank.web.forms import EmptyForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_template_global()
def unread_notifications() -> int:
    """For the header's bell: called only where a logged-in member's header is drawn."""
    return notifications.unread_count(db.session, current_user)


@bp.route("/")
@login_required
def inbox():
    return render_template("notifications/inbox.html", form=EmptyForm(),
                           items=notifications.inbox(db.session, current_user))


@bp.route("/<id:notification_id>/open", methods=["POST"])
@login_required
def open_one(notification_id: int):
    """Mark it read and go to what it is about."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for(".inbox"))
    # Every refusal (another member's notification) is the 404 page.
    found = committed(notifications.open_notification)(db.session, current_user, notification_id)
    return redirect(safe_next_url(found.url, ".inbox"))


@bp.route("/read", methods=["POST"])
@login_required
def read_all():
    form = EmptyForm()
    if form.validate_on_submit():
        with saving(form):
            notifications.mark_read(db.session, current_user, everything=True)
    return redirect(url_for(".inbox"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Which kinds go to this member's phone and e-mail, and their quiet hours."""
    form = PreferencesForm()
    chosen = preferences.preferences_of(db.session, current_user)
    if form.validate_on_submit():
        with saving(form) as saved:
            preferences.update_preferences(db.session, current_user, form.wanted(request.form))
        if saved.ok:
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for(".settings"))
    elif not form.is_submitted():
        form.fill(chosen)
    return render_template("notifications/settings.html", form=form, chosen=chosen,
                           kinds=KIND_LABELS), 400 if form.errors else 200


# One-click unsubscribe (RFC 8058): a mail program POSTs with no session and no CSRF token; the
# signed token is the proof. A GET (a person, or a mail scanner following the link) only asks.
@bp.route("/unsubscribe/<token>", methods=["GET", "POST"], endpoint="unsubscribe")
@csrf.exempt
def unsubscribe_mail(token: str):
    app = current_app._get_current_object()
    if request.method == "POST":
        member, kind = committed(unsubscribe.unsubscribe)(db.session, app, token)
    else:
        member, kind = unsubscribe.read_token(db.session, app, token)
    return render_template("notifications/unsubscribe.html", kind=KIND_LABELS.get(kind, kind),
                           done=request.method == "POST", member=member)
