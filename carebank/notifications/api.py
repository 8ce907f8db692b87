"""API v1: the member's notifications and marking them read."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from carebank.api import api
from carebank.api.handler import body, login_required
from carebank.api.serialize import iso
from carebank.core.extensions import db
from carebank.notifications import preferences
from carebank.notifications import services as notifications
from carebank.notifications.services import InboxItem


def _item(item: InboxItem) -> dict:
    n = item.notification
    return {"id": n.id, "kind": n.kind, "title": item.title, "body": item.body, "url": n.url,
            "created_at": iso(n.created_at), "read_at": iso(n.read_at)}


@api.get("/notifications")
@login_required
def list_notifications():
    unread_only = request.args.get("unread") in ("1", "true")
    items = notifications.inbox(db.session, current_user, unread_only=unread_only)
    return jsonify({"notifications": [_item(i) for i in items],
                    "unread_count": notifications.unread_count(db.session, current_user)})


@api.post("/notifications/read")
@login_required
def read_notifications():
    data = body()
    if data.get("all") is True:
        notifications.mark_read(db.session, current_user, everything=True)
    else:
        notifications.mark_read(db.session, current_user, data.get("ids"))
    return "", 204


@api.get("/notification-preferences")
@login_required
def get_notification_preferences():
    return jsonify(preferences.preferences_of(db.session, current_user))


@api.put("/notification-preferences")
@login_required
def put_notification_preferences():
    return jsonify(preferences.update_preferences(db.session, current_user, body()))
