"""Web Push: the server's VAPID key, the phones a member turned notifications on for, and
sending one notification to all of them (pywebpush: VAPID RFC 8292, aes128gcm RFC 8291)."""
from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import json
import os
import re
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from carebank.core.converters import by_id
from carebank.core.database import utcnow
from carebank.core.errors import NotFound, ValidationFailed
from carebank.push.models import PushSubscription

KEY_FILE = "vapid_private_key.pem"
# A notification waits at the push service for a phone that is off for up to a day.
TTL_SECONDS = 24 * 60 * 60
TIMEOUT_SECONDS = 10
ENDPOINT_MAX_LENGTH = 2048
# Old phones pile up until their push service says they are gone; past this many the
# oldest go first, so one member's send stays short.
MAX_PER_MEMBER = 10
# A push service answers these for a subscription that no longer exists.
GONE = frozenset({404, 410})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class PushFailed(Exception):
    """No subscription of the member took the notification, each for a reason other than
    being gone (a push service error, a timeout, no connection): worth trying again later."""


# --- the VAPID key -----------------------------------------------------------------------------

def vapid_key(app: Flask | None = None) -> Vapid:
    """The server's VAPID key: VAPID_PRIVATE_KEY if configured, else the one generated on first
    use into instance/ (read once per process)."""
    app = app or current_app
    key = app.extensions.get("carebank.vapid")
    if key is None:
        key = app.extensions["carebank.vapid"] = _load_key(app)
    return key


def _load_key(app: Flask) -> Vapid:
    configured = app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        if "-----BEGIN" in configured:
            return Vapid.from_pem(configured.encode())
        return Vapid.from_string(configured)  # base64url: the raw 32 bytes, or DER
    path = Path(app.instance_path) / KEY_FILE
    if not path.exists():
        _write_once(path)
    return Vapid.from_pem(path.read_bytes())


def _write_once(path: Path) -> None:
    """Write a new key unless another worker already did: the whole file is written aside
    (mkstemp: mode 0600) and linked into place, which fails if a key is already there, so no
    worker ever reads half a key or replaces the one phones subscribed with."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        with contextlib.suppress(FileExistsError):  # another worker was first: its key is the one
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def public_key(app: Flask | None = None) -> str:
    """The VAPID public key as the browser's PushManager wants it: the uncompressed P-256
    point (65 bytes), base64url without padding."""
    point = vapid_key(app).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64url(point)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- subscriptions -----------------------------------------------------------------------------

def subscribe(session, member, endpoint, p256dh, auth, *, allow_loopback: bool = False) -> PushSubscription:
    """Turn notifications on for this browser. An endpoint seen before (the same browser
    again, or a shared phone on which another member logs in) is updated and becomes this
    member's: a phone shows one member's notifications, the last one's who asked."""
    endpoint = _valid_endpoint(endpoint, allow_loopback)
    p256dh = _valid_key(p256dh, "p256dh", 65)
    auth = _valid_key(auth, "auth", 16)
    _valid_point(p256dh)
    member_id = member.id
    subscription = session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if subscription is None:
        subscription = PushSubscription(endpoint=endpoint, member_id=member_id, p256dh=p256dh, auth=auth)
        session.add(subscription)
    subscription.member_id, subscription.p256dh, subscription.auth = member_id, p256dh, auth
    session.flush()
    _keep_newest(session, member_id)
    return subscription


def subscriptions(session, member) -> list[PushSubscription]:
    """The member's phones with notifications on, oldest first."""
    return list(session.scalars(
        sa.select(PushSubscription).where(PushSubscription.member_id == member.id).order_by(PushSubscription.id)))


def unsubscribe(session, member, subscription_id) -> None:
    """Turn notifications off for one of the member's phones; anyone else's is "not found"."""
    subscription = by_id(session, PushSubscription, subscription_id)
    if subscription is None or subscription.member_id != member.id:
        raise NotFound(_l("That phone does not receive your notifications."))
    session.delete(subscription)
    session.flush()


def has_push(session, member_id: int) -> bool:
    """Whether any phone receives this member's notifications."""
    return session.scalar(sa.select(sa.exists().where(PushSubscription.member_id == member_id)))


def _keep_newest(session, member_id: int) -> None:
    ids = session.scalars(sa.select(PushSubscription.id).where(PushSubscription.member_id == member_id)
                          .order_by(PushSubscription.id.desc()).offset(MAX_PER_MEMBER)).all()
    if ids:
        session.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(ids)))


def _refused(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, fields={field: message})


def _valid_endpoint(endpoint, allow_loopback: bool) -> str:
    """A push service's https:// URL. Plain http only to this machine when allowed (tests);
    never an address on this machine or its network otherwise, since the server POSTs to it."""
    message = _l("This browser's push address cannot be used.")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > ENDPOINT_MAX_LENGTH:
        raise _refused("endpoint", message)
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower().rstrip(".")
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise _refused("endpoint", message) from None
    loopback = host in LOOPBACK_HOSTS
    if (not host or parts.username is not None or parts.password is not None or parts.fragment
            or endpoint != endpoint.strip() or any(c.isspace() for c in endpoint)):
        raise _refused("endpoint", message)
    if loopback:
        ok = allow_loopback and parts.scheme in ("https", "http")
    else:
        ok = parts.scheme == "https" and not _private_address(host)
    if not ok:
        raise _refused("endpoint", message)
    return endpoint


def _private_address(host: str) -> bool:
    """An address literal that is not on the internet. Old numeric forms count too (127.1,
    2130706433, 0x7f.0.0.1): the resolver reads them as IPv4 addresses."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return host.endswith(".localhost")  # a name (RFC 6761 keeps .localhost on this machine)
    return not address.is_global


def _valid_key(value, field: str, size: int) -> str:
    """Unpadded base64url of exactly `size` bytes."""
    message = _l("This browser's push keys are not valid.")
    if not isinstance(value, str) or not BASE64URL.fullmatch(value):
        raise _refused("keys", message)
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise _refused("keys", message) from None
    if len(raw) != size:
        raise _refused("keys", message)
    return _b64url(raw)


def _valid_point(p256dh: str) -> None:
    raw = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise _refused("keys", _l("This browser's push keys are not valid.")) from None


# --- sending -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One phone to push to, read out of the database (so sending needs no transaction)."""

    id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass
class Outcome:
    """What each push service answered: taken, gone (404, 410), or failed and why."""

    tried: int = 0
    taken: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def send_push(session, member_id: int, title: str, body: str, url: str) -> int:
    """Send {"title", "body", "url"} to each of the member's phones; how many took it (0 with
    none). A phone whose push service says it is gone (404, 410) is removed. PushFailed when
    every phone failed otherwise (then nothing here changed the session).

    The pushes go out inside the caller's transaction; a caller that must not hold one
    meanwhile (SQLite's write lock) reads `targets`, sends with `push_to` and then `settle`s."""
    return settle(session, push_to(targets(session, member_id), title, body, url))


def targets(session, member_id: int) -> list[Target]:
    rows = session.execute(sa.select(PushSubscription.id, PushSubscription.endpoint, PushSubscription.p256dh,
                                     PushSubscription.auth)
                           .where(PushSubscription.member_id == member_id).order_by(PushSubscription.id))
    return [Target(*row) for row in rows]


def push_to(phones: list[Target], title: str, body: str, url: str) -> Outcome:
    """The network part: one encrypted, VAPID-signed push to each phone (no database)."""
    payload = json.dumps({"title": title, "body": body, "url": url}, ensure_ascii=False)
    outcome = Outcome(tried=len(phones))
    with _http() as http:
        for phone in phones:
            answer = _send_one(http, phone, payload)
            if answer == "sent":
                outcome.taken.append(phone.id)
            elif answer == "gone":
                outcome.gone.append(phone.id)
            else:
                outcome.failures.append(answer)
    return outcome


def settle(session, outcome: Outcome) -> int:
    """Keep what the push services said: when each phone last took one, and forget the gone."""
    if outcome.tried and len(outcome.failures) == outcome.tried:
        raise PushFailed("; ".join(outcome.failures))
    if outcome.taken:
        session.execute(sa.update(PushSubscription).where(PushSubscription.id.in_(outcome.taken))
                        .values(last_success_at=utcnow()))
    if outcome.gone:
        session.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(outcome.gone)))
    return len(outcome.taken)


def _http() -> requests.Session:
    """One connection pool for a member's phones. A push service never redirects: following
    one would let a subscription point the server at any address."""
    http = requests.Session()
    http.max_redirects = 0
    return http


def _send_one(http: requests.Session, phone: Target, payload: str) -> str:
    """"sent", "gone", or why it failed (naming only the push service's origin: the full
    endpoint is the capability to push to that phone)."""
    parts = urlsplit(phone.endpoint)
    try:
        webpush(
            {"endpoint": phone.endpoint, "keys": {"p256dh": phone.p256dh, "auth": phone.auth}},
            data=payload, vapid_private_key=vapid_key(),
            # A new dict each time: pywebpush fills in aud (this endpoint's origin) and exp.
            vapid_claims={"sub": current_app.config["VAPID_SUBJECT"]},
            ttl=TTL_SECONDS, timeout=TIMEOUT_SECONDS, requests_session=http,
        )
    except WebPushException as error:
        if error.status_code in GONE:
            return "gone"
        reason = f"{parts.scheme}://{parts.netloc} answered {error.status_code}"
    except requests.RequestException as error:
        reason = f"{parts.scheme}://{parts.netloc}: {type(error).__name__}"
    else:
        return "sent"
    current_app.logger.warning("push not delivered: %s", reason)
    return reason
