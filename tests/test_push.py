"""Web Push: a real push service on loopback checks the VAPID signature (RFC 8292) and decrypts
the aes128gcm payload (RFC 8291) with the phone's own keys; the API turns phones on and off;
the server's VAPID key is made once per installation."""
from __future__ import annotations

import base64
import json
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import http_ece
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from carebank import create_app
from carebank.push import services as push
from carebank.push.models import PushSubscription
from config import TestConfig
from tests.conftest import logged_in

DAY = 24 * 60 * 60


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Phone:
    """A browser's side of a subscription: its P-256 key pair and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def keys(self) -> dict:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def as_json(self) -> dict:
        return {"endpoint": self.endpoint, "keys": self.keys}


@dataclass
class Received:
    path: str
    payload: dict
    vapid_key: str
    claims: dict
    ttl: int


@dataclass
class PushService:
    """A Web Push service on 127.0.0.1 that checks what it is sent and answers as told."""

    origin: str = ""
    phones: dict[str, Phone] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)  # path -> status; 201 otherwise
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # every request's, checked or not

    def phone(self, name: str) -> Phone:
        path = f"/push/{name}"
        phone = Phone(self.origin + path, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self.phones[path] = phone
        return phone

    def answer(self, phone: Phone, status: int) -> None:
        self.answers[urlsplit(phone.endpoint).path] = status

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.paths.append(request.path)
        if request.path == "/elsewhere":
            return Response(status=201)(environ, start_response)
        try:
            self.received.append(self._check(request))
        except Exception as problem:  # the test fails on it at teardown, with what was wrong
            self.problems.append(f"{request.path}: {problem!r}")
            return Response(str(problem), status=400)(environ, start_response)
        status = self.answers.get(request.path, 201)
        headers = {"Location": self.origin + "/elsewhere"} if 300 <= status < 400 else {}
        return Response(status=status, headers=headers)(environ, start_response)

    def _check(self, request: Request) -> Received:
        assert request.method == "POST"
        phone = self.phones[request.path]
        claims, key = self._verify_vapid(request.headers["Authorization"])
        assert request.headers["Content-Encoding"] == "aes128gcm"
        plain = http_ece.decrypt(request.get_data(), private_key=phone.private_key,
                                 auth_secret=phone.auth, version="aes128gcm")
        return Received(request.path, json.loads(plain), key, claims, int(request.headers["TTL"]))

    def _verify_vapid(self, authorization: str) -> tuple[dict, str]:
        """RFC 8292: `vapid t=<ES256 JWT>, k=<public key>`, signed by k, for this origin."""
        scheme, _, params = authorization.partition(" ")
        assert scheme == "vapid"
        parts = dict(part.strip().split("=", 1) for part in params.split(","))
        header, claims, signature = parts["t"].split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
        assert json.loads(unb64url(header))["alg"] == "ES256"
        claims = json.loads(unb64url(claims))
        assert claims["aud"] == self.origin
        assert time.time() < claims["exp"] <= time.time() + DAY
        assert claims["sub"]
        return claims, parts["k"]


@pytest.fixture
def push_service():
    service = PushService()
    server = make_server("127.0.0.1", 0, service, threaded=True)
    service.origin = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield service
    server.shutdown()
    thread.join(timeout=10)
    assert not service.problems


@pytest.fixture
def app(app, tmp_path):
    """The suite's app with its VAPID key in a temporary instance folder, and push services
    on loopback allowed (the test push service speaks plain HTTP)."""
    app.instance_path = str(tmp_path / "instance")
    app.config["PUSH_ALLOW_LOOPBACK"] = True
    return app


@pytest.fixture
def member(make_member):
    return make_member("Kim Sun-ja")


def subscribed(session, member, phone: Phone) -> PushSubscription:
    subscription = push.subscribe(session, member, phone.endpoint, phone.keys["p256dh"], phone.keys["auth"],
                                  allow_loopback=True)
    session.commit()
    return subscription


def send(app, session, member, **fields) -> int:
    message = {"title": "New response to your post", "body": "Lee responded to “Lunch together”.",
               "url": "/exchanges/7", **fields}
    with app.app_context():
        delivered = push.send_push(session, member.id, **message)
    session.commit()
    return delivered


def subscription_ids(session, member) -> list[int]:
    session.commit()
    return list(session.scalars(sa.select(PushSubscription.id).where(PushSubscription.member_id == member.id)))


# --- sending -----------------------------------------------------------------------------------

def test_a_push_reaches_the_phone_signed_and_decryptable_only_with_its_keys(app, session, member, push_service):
    phone = push_service.phone("kim")
    subscribed(session, member, phone)

    assert send(app, session, member, url="/exchanges/7") == 1

    [got] = push_service.received
    assert got.payload == {"title": "New response to your post", "body": "Lee responded to “Lunch together”.",
                           "url": "/exchanges/7"}
    with app.app_context():
        assert got.vapid_key == push.public_key()
    assert got.claims["sub"] == app.config["VAPID_SUBJECT"]
    assert got.ttl == DAY
    assert session.scalar(sa.select(PushSubscription.last_success_at)) is not None


def test_every_phone_of_the_member_gets_it_and_no_one_elses(app, session, member, make_member, push_service):
    other = make_member("Park")
    subscribed(session, member, push_service.phone("phone"))
    subscribed(session, member, push_service.phone("tablet"))
    subscribed(session, other, push_service.phone("other"))

    assert send(app, session, member) == 2
    assert sorted(r.path for r in push_service.received) == ["/push/phone", "/push/tablet"]


def test_a_member_without_phones_is_sent_nothing(app, session, member, push_service):
    assert send(app, session, member) == 0
    assert push_service.received == []
    assert not push.has_push(session, member.id)
    subscribed(session, member, push_service.phone("kim"))
    assert push.has_push(session, member.id)


@pytest.mark.parametrize("status", [404, 410])
def test_a_phone_the_push_service_says_is_gone_is_removed(app, session, member, push_service, status):
    gone, kept = push_service.phone("gone"), push_service.phone("kept")
    subscribed(session, member, gone)
    kept_id = subscribed(session, member, kept).id
    push_service.answer(gone, status)

    assert send(app, session, member) == 1
    assert subscription_ids(session, member) == [kept_id]


def test_the_only_phone_gone_is_removed_without_an_error(app, session, member, push_service):
    phone = push_service.phone("gone")
    subscribed(session, member, phone)
    push_service.answer(phone, 410)

    assert send(app, session, member) == 0
    assert subscription_ids(session, member) == []


def test_a_failing_push_service_keeps_the_phone_and_raises_to_try_again(app, session, member, push_service):
    phone = push_service.phone("kim")
    subscription_id = subscribed(session, member, phone).id
    push_service.answer(phone, 500)

    with pytest.raises(push.PushFailed, match="answered 500"):
        send(app, session, member)
    session.rollback()
    assert subscription_ids(session, member) == [subscription_id]


def test_one_phone_failing_does_not_fail_the_others(app, session, member, push_service):
    broken = push_service.phone("broken")
    subscribed(session, member, broken)
    subscribed(session, member, push_service.phone("fine"))
    push_service.answer(broken, 503)

    assert send(app, session, member) == 1
    assert len(subscription_ids(session, member)) == 2


@pytest.mark.parametrize("status", [302, 307, 308])
def test_a_push_service_cannot_redirect_the_server_elsewhere(app, session, member, push_service, status):
    phone = push_service.phone("kim")
    subscribed(session, member, phone)
    push_service.answer(phone, status)
    with pytest.raises(push.PushFailed):
        send(app, session, member)
    assert push_service.paths == ["/push/kim"]


def test_an_unreachable_push_service_is_a_failure_not_a_crash(app, session, member, push_service):
    phone = push_service.phone("kim")
    subscribed(session, member, phone)
    # Nothing listens there: the connection is refused.
    session.execute(sa.update(PushSubscription).values(endpoint="http://127.0.0.1:9/push/kim"))
    session.commit()
    with pytest.raises(push.PushFailed):
        send(app, session, member)


# --- the API -----------------------------------------------------------------------------------

def test_the_vapid_public_key_is_an_uncompressed_p256_point_in_base64url(app, member):
    key = logged_in(app, member).get("/api/v1/push/vapid-public-key").get_json()["key"]
    assert "=" not in key and "+" not in key and "/" not in key
    raw = unb64url(key)
    assert len(raw) == 65 and raw[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # a point on the curve


def test_a_phone_is_turned_on_listed_and_turned_off(app, member, push_service):
    phone = logged_in(app, member)
    subscription = push_service.phone("kim").as_json()

    created = phone.post("/api/v1/push-subscriptions", json=subscription)
    assert created.status_code == 201
    body = created.get_json()["subscription"]
    assert body["endpoint"] == subscription["endpoint"] and isinstance(body["id"], int)
    assert phone.get("/api/v1/push-subscriptions").get_json() == {"subscriptions": [body]}

    assert phone.delete(f"/api/v1/push-subscriptions/{body['id']}").status_code == 204
    assert phone.get("/api/v1/push-subscriptions").get_json() == {"subscriptions": []}


def test_the_same_browser_again_updates_its_subscription(app, member, push_service):
    phone = logged_in(app, member)
    subscription = push_service.phone("kim").as_json()
    first = phone.post("/api/v1/push-subscriptions", json=subscription).get_json()["subscription"]
    renewed = {**subscription, "keys": push_service.phone("kim").keys}  # the browser made new keys
    again = phone.post("/api/v1/push-subscriptions", json=renewed)
    assert again.status_code == 201 and again.get_json()["subscription"]["id"] == first["id"]
    assert len(phone.get("/api/v1/push-subscriptions").get_json()["subscriptions"]) == 1


def test_a_shared_phone_shows_only_the_last_members_notifications(app, session, member, make_member, push_service):
    other = make_member("Park")
    subscription = push_service.phone("shared").as_json()
    logged_in(app, member).post("/api/v1/push-subscriptions", json=subscription)
    logged_in(app, other).post("/api/v1/push-subscriptions", json=subscription)

    assert not push.has_push(session, member.id) and push.has_push(session, other.id)
    assert send(app, session, member) == 0


def test_another_members_phone_cannot_be_turned_off(app, member, make_member, push_service):
    theirs = logged_in(app, member).post("/api/v1/push-subscriptions", json=push_service.phone("kim").as_json())
    their_id = theirs.get_json()["subscription"]["id"]
    stranger = logged_in(app, make_member("Stranger"))

    assert stranger.delete(f"/api/v1/push-subscriptions/{their_id}").status_code == 404
    assert stranger.get("/api/v1/push-subscriptions").get_json() == {"subscriptions": []}
    assert logged_in(app, member).get("/api/v1/push-subscriptions").get_json()["subscriptions"][0]["id"] == their_id


def test_plain_http_push_services_are_refused_unless_loopback_is_allowed(app, member, push_service):
    phone = logged_in(app, member)
    subscription = push_service.phone("kim").as_json()
    app.config["PUSH_ALLOW_LOOPBACK"] = False
    refused = phone.post("/api/v1/push-subscriptions", json=subscription)
    assert refused.status_code == 400 and "endpoint" in refused.get_json()["error"]["fields"]
    app.config["PUSH_ALLOW_LOOPBACK"] = True
    assert phone.post("/api/v1/push-subscriptions", json=subscription).status_code == 201


@pytest.mark.parametrize("endpoint", [
    "http://push.example.org/send/abc",      # not https
    "https://127.0.0.1/send/abc",            # this machine, loopback not allowed
    "https://localhost/send/abc",
    "https://[::1]/send/abc",
    "https://localhost./send/abc",
    "https://2130706433/send/abc",           # 127.0.0.1 in an old numeric form
    "https://127.1/send/abc",
    "https://push.localhost/send/abc",
    "https://10.1.2.3/send/abc",             # the server's own network
    "https://169.254.169.254/latest",
    "https://user:secret@push.example.org/send",
    "ftp://push.example.org/send",
    "https:///send",
    "",
    "https://push.example.org/" + "a" * 3000,
    12345,
])
def test_only_https_push_services_on_the_internet_are_accepted(app, member, endpoint):
    app.config["PUSH_ALLOW_LOOPBACK"] = False
    phone = logged_in(app, member)
    keys = Phone("", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)).keys
    answer = phone.post("/api/v1/push-subscriptions", json={"endpoint": endpoint, "keys": keys})
    assert answer.status_code == 400, answer.get_json()
    assert "endpoint" in answer.get_json()["error"]["fields"]
    good = phone.post("/api/v1/push-subscriptions", json={"endpoint": "https://push.example.org/send/abc", "keys": keys})
    assert good.status_code == 201


def _bad_keys():
    phone = Phone("", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
    good = phone.keys
    point = unb64url(good["p256dh"])
    off_curve = point[:1] + point[1:33] + bytes(32)
    return [
        {"p256dh": good["p256dh"][:-4], "auth": good["auth"]},          # too short
        {"p256dh": b64url(b"\x05" + point[1:]), "auth": good["auth"]},  # not an uncompressed point
        {"p256dh": b64url(off_curve), "auth": good["auth"]},            # not on the curve
        {"p256dh": good["p256dh"], "auth": b64url(os.urandom(15))},     # auth secret is 16 bytes
        {"p256dh": good["p256dh"], "auth": "not base64!"},
        {"p256dh": good["p256dh"]},
        {"p256dh": 7, "auth": good["auth"]},
        "keys",
    ]


@pytest.mark.parametrize("keys", _bad_keys())
def test_bad_keys_are_refused(app, member, push_service, keys):
    answer = logged_in(app, member).post("/api/v1/push-subscriptions",
                                         json={"endpoint": push_service.phone("kim").endpoint, "keys": keys})
    assert answer.status_code == 400
    assert "keys" in answer.get_json()["error"]["fields"]


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/push/vapid-public-key"),
    ("get", "/api/v1/push-subscriptions"),
    ("post", "/api/v1/push-subscriptions"),
    ("delete", "/api/v1/push-subscriptions/1"),
])
def test_a_visitor_gets_401(client, method, path):
    assert getattr(client, method)(path, json={} if method == "post" else None).status_code == 401


# --- the VAPID key -----------------------------------------------------------------------------

def public_key_of(app) -> str:
    with app.app_context():
        return push.public_key()


def installation(database_url, instance, **config):
    app = create_app(TestConfig, DATABASE_URL=database_url, **config)
    app.instance_path = str(instance)
    return app


def test_the_vapid_key_is_generated_once_and_reused(database_url, tmp_path):
    first = public_key_of(installation(database_url, tmp_path / "instance"))
    again = public_key_of(installation(database_url, tmp_path / "instance"))
    assert first == again
    key_file = tmp_path / "instance" / "vapid_private_key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public_key_of(installation(database_url, tmp_path / "elsewhere")) != first


def test_a_configured_vapid_key_wins_and_nothing_is_written(database_url, tmp_path):
    private = ec.generate_private_key(ec.SECP256R1())
    raw = b64url(private.private_numbers().private_value.to_bytes(32, "big"))
    app = installation(database_url, tmp_path / "instance", VAPID_PRIVATE_KEY=raw)
    expected = b64url(private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    assert public_key_of(app) == expected
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    assert public_key_of(installation(database_url, tmp_path / "instance", VAPID_PRIVATE_KEY=pem)) == expected
    assert not (tmp_path / "instance" / "vapid_private_key.pem").exists()


# --- the page ----------------------------------------------------------------------------------

def test_the_inbox_offers_notifications_on_this_phone(app, member):
    page = logged_in(app, member).get("/notifications/").get_data(as_text=True)
    assert "data-push" in page and 'src="/static/js/push.js"' in page
    assert "Turn on notifications on this phone" in page
    assert 'data-key-url="/api/v1/push/vapid-public-key"' in page


def test_the_service_worker_shows_pushes_and_opens_their_page(client):
    worker = client.get("/sw.js").get_data(as_text=True)
    assert 'addEventListener("push"' in worker and "showNotification" in worker
    assert 'addEventListener("notificationclick"' in worker and "openWindow" in worker



def test_a_member_keeps_at_most_ten_phones_the_oldest_dropped(session, member, push_service):
    ids = [subscribed(session, member, push_service.phone(f"phone{n}")).id for n in range(push.MAX_PER_MEMBER + 1)]
    assert subscription_ids(session, member) == ids[1:]


def test_pushes_can_go_out_with_no_transaction_open(app, session, member, push_service):
    """The worker's way on SQLite: read the phones, let go of the database, send, then settle."""
    taken, gone = push_service.phone("taken"), push_service.phone("gone")
    taken_id = subscribed(session, member, taken).id
    subscribed(session, member, gone)
    push_service.answer(gone, 410)

    phones = push.targets(session, member.id)
    session.commit()
    with app.app_context():
        outcome = push.push_to(phones, "T", "B", "/notifications/")
    assert not session.in_transaction()
    assert push.settle(session, outcome) == 1
    assert subscription_ids(session, member) == [taken_id]
    assert session.scalar(sa.select(PushSubscription.last_success_at)) is not None
