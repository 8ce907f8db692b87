"""One-click unsubscribe (RFC 8058): every notification mail carries a signed link that turns
that kind's e-mail off for its member, with no login: the signature is the proof."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from carebank.core.converters import by_id
from carebank.core.errors import NotFound
from carebank.members.models import Member
from carebank.notifications import preferences
from carebank.notifications.kinds import KINDS

SALT = "unsubscribe"


def _signer(app: Flask) -> URLSafeSerializer:
    return URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT)


def token_for(app: Flask, member_id: int, kind: str) -> str:
    return _signer(app).dumps({"m": member_id, "k": kind})


def read_token(session: Session, app: Flask, token: str) -> tuple[Member, str]:
    """The member and kind a token names; NotFound for a forged or broken one."""
    try:
        payload = _signer(app).loads(token)
    except BadSignature:
        payload = None
    member = by_id(session, Member, payload.get("m")) if isinstance(payload, dict) else None
    kind = payload.get("k") if isinstance(payload, dict) else None
    if member is None or kind not in KINDS:
        raise NotFound(_l("That unsubscribe link does not work."), code="unsubscribe_not_found")
    return member, kind


def unsubscribe(session: Session, app: Flask, token: str) -> tuple[Member, str]:
    """Turn e-mail of the token's kind off for its member (the rest of their choices stay)."""
    member, kind = read_token(session, app, token)
    chosen = preferences.preferences_of(session, member)["email"]
    preferences.update_preferences(session, member, {"email": {**chosen, kind: False}})
    return member, kind
