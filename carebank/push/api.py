"""API v1: the VAPID public key, and turning notifications on and off for a phone."""
from __future__ import annotations

from flask import current_app, jsonify
from flask_login import current_user

from carebank.api import api
from carebank.api.handler import body, created, login_required
from carebank.core.extensions import db
from carebank.push import services as push
from carebank.push.models import PushSubscription


def _subscription(s: PushSubscription) -> dict:
    return {"id": s.id, "endpoint": s.endpoint}


@api.get("/push/vapid-public-key")
@login_required
def vapid_public_key():
    return jsonify({"key": push.public_key()})


@api.get("/push-subscriptions")
@login_required
def list_push_subscriptions():
    return jsonify({"subscriptions": [_subscription(s) for s in push.subscriptions(db.session, current_user)]})


@api.post("/push-subscriptions")
@login_required
def create_push_subscription():
    data = body()
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    subscription = push.subscribe(db.session, current_user, data.get("endpoint"), keys.get("p256dh"),
                                  keys.get("auth"), allow_loopback=current_app.config["PUSH_ALLOW_LOOPBACK"])
    return created({"subscription": _subscription(subscription)})


@api.delete("/push-subscriptions/<id:subscription_id>")
@login_required
def delete_push_subscription(subscription_id: int):
    push.unsubscribe(db.session, current_user, subscription_id)
    return "", 204
