"""The member's notifications: the inbox page, opening one, marking all read, and the unread
count in every page's header."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from carebank.core.commit import committed
from carebank.core.extensions import db
from carebank.notifications import services as notifications
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
