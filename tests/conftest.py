"""Shared fixtures: an app on a migrated database (SQLite by default, PostgreSQL when
CAREBANK_DATABASE_URL points at one), a CSRF-aware client, and factories for members,
posts and exchanges that go through the real services."""
from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from flask.testing import FlaskClient

from carebank import create_app
from carebank.centres.models import Centre
from carebank.centres.services import add_neighbourhood, find_neighbourhoods, save_centre
from carebank.core import passwords
from carebank.core.database import Base, upgrade_database
from carebank.core.extensions import db
from carebank.core.policy import Policy
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.members.models import Role
from carebank.members.services import create_member
from carebank.posts import services as posts
from config import TestConfig

PASSWORD = "correct horse battery"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


# argon2id at its smallest: the same code path as the real hasher, at a fraction of a millisecond.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(request, monkeypatch):
    """Real argon2 (about 140 ms a hash) would be most of the suite's time; tests hash cheaply
    unless they check the real thing (mark them `real_password_hashing`). The parameters are
    stored in each hash, so hashes made either way still verify."""
    if "real_password_hashing" not in request.keywords:
        monkeypatch.setattr(passwords, "hasher", FAST_HASHER)


def _postgres_url() -> str | None:
    url = os.environ.get("CAREBANK_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """Migrate once per test run: a template SQLite file, or a throwaway PostgreSQL database
    (created beside the configured one, so parallel runs never touch each other's tables)."""
    url = _postgres_url()
    if url:
        yield from _throwaway_postgres(url, _migrate)
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.sqlite3'}"
    _migrate(url)
    yield url


def _migrate(url: str) -> None:
    app = create_app(TestConfig, DATABASE_URL=url)
    upgrade_database(app)
    with app.app_context():
        db.engine.dispose()


def _throwaway_postgres(url: str, prepare):
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"carebank_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    test_url = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        prepare(test_url)
        yield test_url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_postgres(app) -> None:
    """TRUNCATE skips the append-only row triggers, which is what a fresh test needs."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(sa.text("INSERT INTO accounts (kind, balance_minutes) VALUES ('pool', 0)"))


@pytest.fixture
def database_url(migrated_database, tmp_path):
    if migrated_database.startswith("postgresql"):
        return migrated_database
    path = tmp_path / "carebank.sqlite3"
    shutil.copyfile(migrated_database.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url, tmp_path):
    """The app, with no app context held open: each request must get its own `g`
    (the CSRF token and the request's database session live there). Its instance folder
    (generated keys, mails written as files, the task queue) is the test's own."""
    app = create_app(TestConfig, DATABASE_URL=database_url)
    app.instance_path = str(tmp_path / "instance")
    app.test_client_class = CsrfClient
    if database_url.startswith("postgresql"):
        with app.app_context():
            _empty_postgres(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def session(app):
    """The test's own database session, like a second process beside the server.

    The test client commits it before every request, so a test never holds a lock
    across a request and always reads what the request wrote."""
    with app.app_context():
        # DEFERRED on SQLite: a test reading between requests must not hold the write lock
        # that a request served to a browser is waiting for.
        test_session = db.sessionmaker(bind=db.engine.execution_options(sqlite_begin="DEFERRED"))
    app.config["TEST_SESSION"] = test_session
    yield test_session
    test_session.close()


@pytest.fixture
def policy(app) -> Policy:
    return Policy.from_config(app.config)


class CsrfClient(FlaskClient):
    """A test client that behaves like the PWA: English unless told otherwise, and it sends
    the CSRF token (from GET /api/v1/session) with every unsafe request."""

    csrf_token: str | None = None

    def open(self, *args, **kwargs):
        test_session = self.application.config.get("TEST_SESSION")
        if test_session is not None:
            test_session.commit()
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Accept-Language", "en")
        method = (kwargs.get("method") or "GET").upper()
        if method in UNSAFE and kwargs.pop("with_csrf", True):
            headers.setdefault("X-CSRFToken", self.fetch_csrf_token())
        kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def fetch_csrf_token(self) -> str:
        response = super().open("/api/v1/session", headers={"Accept-Language": "en"})
        return response.get_json()["csrf_token"]

    def login(self, member, password: str = PASSWORD):
        response = self.post("/api/v1/session", json={"email": member.email, "password": password})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response


@pytest.fixture
def client(app) -> CsrfClient:
    return app.test_client()


@pytest.fixture
def make_centre(session):
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, *, neighbourhoods: str = "", phone: str = "02-123-4567",
             address: str = "") -> Centre:
        centre = save_centre(session, None, name=name or f"Centre {next(counter)}",
                             neighbourhoods=neighbourhoods, phone=phone, address=address)
        session.commit()
        return centre

    return make


@pytest.fixture
def centre(make_centre) -> Centre:
    """The centre every member made by `make_member` belongs to unless told otherwise."""
    # Its list holds every neighbourhood the tests type (members and posts pick from the list).
    return make_centre("Hyoja Care Centre",
                       neighbourhoods="Hyoja-dong\n효자동\nCheongpa-dong\nSamcheong-dong\nMapo")


@pytest.fixture
def make_member(session, centre):
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, *, neighbourhood: str = "Hyoja-dong",
             role: Role = Role.MEMBER, **fields):
        n = next(counter)
        fields.setdefault("centre_id", centre.id)
        _listed(session, neighbourhood, fields["centre_id"])
        member = create_member(
            session, name=name or f"Member {n}", email=fields.pop("email", f"member{n}@example.org"),
            password=fields.pop("password", PASSWORD), neighbourhood=neighbourhood, role=role, **fields,
        )
        session.commit()
        return member

    return make


def _listed(session, neighbourhood: str, centre_id) -> None:
    """Put a neighbourhood a test names on its centre's list, as a centre would."""
    if neighbourhood.strip() and centre_id and not find_neighbourhoods(session, neighbourhood):
        add_neighbourhood(session, session.get(Centre, centre_id), neighbourhood)


@pytest.fixture
def coordinator(make_member):
    """The coordinator of `centre`."""
    return make_member("Han Mi-gyeong", role=Role.COORDINATOR)


@pytest.fixture
def console(app, coordinator):
    """The coordinator's phone, logged in."""
    return logged_in(app, coordinator)


@pytest.fixture
def make_post(session, policy):
    def make(member, *, kind: str = "need", category: str = "meals", title: str = "Lunch together",
             description: str = "", minutes: int = 60, **fields):
        post = posts.create_post(session, member, kind=kind, category=category, title=title,
                                 description=description, minutes=minutes, policy=policy, **fields)
        session.commit()
        return post

    return make


@pytest.fixture
def make_exchange(session, make_member, make_post):
    """An accepted exchange in which `provider` helps `receiver` (through a posted need)."""

    def make(provider=None, receiver=None, *, minutes: int = 60, accepted: bool = True):
        provider = provider or make_member("Provider")
        receiver = receiver or make_member("Receiver")
        need = make_post(receiver, kind="need", minutes=minutes)
        exchange = exchanges.respond(session, provider, need.id)
        if accepted:
            exchanges.accept(session, receiver, exchange.id)
        session.commit()
        return exchange

    return make


@pytest.fixture
def earn(session, policy, make_member, make_exchange):
    """Minutes a member has to give, earned as members earn them: a confirmed visit to a new
    neighbour (gifts and donations spend only time the member has)."""

    def earn(member, minutes: int = 600):
        exchange = make_exchange(member, make_member("Neighbour"))
        transaction = ledger.credit_visit(
            session, member.id, exchange.receiver_id, minutes, exchange_id=exchange.id,
            created_by_id=exchange.receiver_id, policy=policy)
        session.commit()
        return transaction

    return earn


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(app):
    """A real SMTP server on loopback that the app is configured to send through; its messages."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    yield handler.messages
    controller.stop()


@contextmanager
def statements_sent(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements sent through `engine` inside the block, in order."""
    sent: list[str] = []

    def seen(connection, cursor, statement, *rest):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)


def logged_in(app, member) -> CsrfClient:
    """A new client (a second phone) logged in as `member`."""
    client = app.test_client()
    client.login(member)
    return client


def balance(session, member) -> int:
    """A member's balance as the database has it now: ends the test's transaction first, so
    it reads what the requests wrote. `member` is a Member or an id."""
    session.commit()
    return ledger.balance_of(session, getattr(member, "id", member))


def logged_in_clients(app, member, count):
    """`count` clients logged in as `member`, each with its CSRF token already fetched,
    so that nothing but the raced request happens after the barrier."""
    clients = []
    for _ in range(count):
        client = app.test_client()
        client.login(member)
        clients.append((client, client.fetch_csrf_token()))
    return clients


def race(app, session, clients, path, payloads, headers=None):
    """POST payloads[i] with clients[i], all released at once by a barrier; the answers in
    client order. Each thread has its own client: its own cookies, app context and session."""
    session.commit()  # the test must hold no lock while the threads run
    # The test client would commit the shared test session from every thread at once.
    test_session = app.config.pop("TEST_SESSION")
    barrier = threading.Barrier(len(clients))
    answers = [None] * len(clients)

    def run(i, client, csrf):
        barrier.wait()
        try:
            response = client.post(path, json=payloads[i], headers={"X-CSRFToken": csrf, **(headers or {})})
            answers[i] = (response.status_code, response.get_json())
        except Exception as error:  # reported below, with the thread it happened in
            answers[i] = ("raised", repr(error))

    threads = [threading.Thread(target=run, args=(i, c, t)) for i, (c, t) in enumerate(clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        app.config["TEST_SESSION"] = test_session
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return answers


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page (for tests that post forms by hand)."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html).group(1)
