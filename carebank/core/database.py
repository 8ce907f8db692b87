"""Database wiring: the declarative base, engine settings per dialect, and migrations."""
from __future__ import annotations

import enum
import inspect
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"
DEFAULT_BUSY_TIMEOUT_MS = 30_000

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def database_url(app: Flask) -> str:
    """The configured URL, or an SQLite file in the instance folder."""
    url = app.config.get("DATABASE_URL")
    if url:
        return url
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(app.instance_path) / 'carebank.sqlite3'}"


def engine_options(url: str) -> dict:
    """Engine settings per dialect (SQLite needs a longer busy wait than its default)."""
    if url.startswith("sqlite"):
        return {"url": url, "connect_args": {"timeout": 30}}
    return {"url": url, "pool_pre_ping": True}


def configure_engine(engine: sa.Engine) -> None:
    """Make SQLite behave safely under concurrent requests.

    A transaction that may write starts with BEGIN IMMEDIATE: a deferred transaction that reads
    and then writes can fail at once with "database is locked" in WAL mode, while IMMEDIATE
    takes the write lock up front and waits for it. Pages that only read (GET, HEAD) begin
    DEFERRED, so under WAL they read side by side instead of queueing for that lock; a GET
    never changes anything. A view marked `reads_first` begins DEFERRED too and takes the lock
    at its first write. PostgreSQL needs nothing here: balance and code updates are
    conditional UPDATEs that lock the rows they change.
    """
    if engine.dialect.name != "sqlite":
        return
    busy_timeout_ms = _busy_timeout_ms()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
        cursor = dbapi_connection.cursor()
        # First, so that even switching to WAL waits no longer than configured.
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A pure reader beside the app (the test suite's own session) may ask for DEFERRED.
        mode = connection.get_execution_options().get("sqlite_begin") or _begin_mode()
        raw = connection.connection.dbapi_connection
        if mode == "IMMEDIATE":
            _begin_immediate(raw, busy_timeout_ms)
        else:
            raw.execute("BEGIN DEFERRED")
        # Whether this transaction holds the write lock: None for a pure reader, False for a
        # request that reads first and takes the lock at its first write.
        connection.info[HOLDS_WRITE_LOCK] = {"IMMEDIATE": True, READ_FIRST: False}.get(mode)

    @event.listens_for(engine, "before_cursor_execute")
    def _before_statement(connection, _cursor, statement, *_rest):
        if connection.info.get(HOLDS_WRITE_LOCK) is False and statement.lstrip()[:9].upper().startswith(WRITES):
            _take_write_lock(connection, busy_timeout_ms)


HOLDS_WRITE_LOCK = "carebank_holds_write_lock"
READ_FIRST = "READ_FIRST"
# A savepoint counts: it exists to undo writes, and ending the read transaction would end it.
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


def reads_first(view):
    """Mark a view that reads and checks a good deal before it writes (confirming a visit): on
    SQLite its request begins as a reader, beside the others, and takes the write lock at its
    first write or savepoint (or when the ledger asks, `hold_write_lock`), so a worker holds
    the lock only while it writes. What it read before may since have changed, as under
    PostgreSQL's READ COMMITTED: the conditional UPDATEs that guard codes and balances, and
    everything read after the lock, are current. Put it right under the route decorator."""
    view.carebank_reads_first = True
    return view


def hold_write_lock(session) -> None:
    """Make sure this transaction holds SQLite's write lock before reading what it must not
    read stale (the ledger's last seal, which the next seal chains to)."""
    connection = session.connection()
    if connection.info.get(HOLDS_WRITE_LOCK) is False:
        _take_write_lock(connection, _busy_timeout_ms())


def _take_write_lock(connection: sa.Connection, busy_timeout_ms: int) -> None:
    """End the read transaction (it wrote nothing) and begin an IMMEDIATE one in its place."""
    raw = connection.connection.dbapi_connection
    raw.execute("COMMIT")
    connection.info[HOLDS_WRITE_LOCK] = True
    _begin_immediate(raw, busy_timeout_ms)


# While another writer holds SQLite's lock, try again after this pause, doubling up to the
# longest: SQLite's own busy handler sleeps up to 100 ms between tries, and a worker that keeps
# writing slips in between them, so the waiting one starved (a p99 of 1.1 s at 142/s). The
# longest pause is short, as the lock stands idle while its next taker sleeps.
FIRST_LOCK_PAUSE_S, LONGEST_LOCK_PAUSE_S = 0.0001, 0.0005


def _begin_immediate(raw, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short pauses up to the busy timeout
    (then the "database is locked" error, answered 503). The pauses are ours: SQLite's busy
    wait is switched off for the tries and back on for every other statement. On the driver's
    connection, as this runs inside SQLAlchemy's own statement events."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = FIRST_LOCK_PAUSE_S
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() + pause > deadline:
                    raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from error
            time.sleep(pause)
            pause = min(2 * pause, LONGEST_LOCK_PAUSE_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")


READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _begin_mode() -> str:
    if not has_request_context():
        return "IMMEDIATE"  # the CLI, a task
    if request.method in READING_METHODS:
        return "DEFERRED"
    view = current_app.view_functions.get(request.endpoint)
    return READ_FIRST if getattr(view, "carebank_reads_first", False) else "IMMEDIATE"


def _busy_timeout_ms() -> int:
    """How long a request queues for SQLite's write lock before "database is locked" (the app
    then answers 503 "try again"): the app's SQLITE_BUSY_TIMEOUT_MS, else 30 s (plain Alembic)."""
    if not has_app_context():
        return DEFAULT_BUSY_TIMEOUT_MS
    return int(current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS))


def drop_async_teardown(app: Flask) -> None:
    """Flask-SQLAlchemy-Lite registers an async teardown for async sessions, which we never
    use; Flask runs it through asgiref on every request (half of a small request's time,
    measured 1.72 → 0.80 ms) and it fails under a running event loop (browser tests)."""
    app.teardown_appcontext_funcs[:] = [
        func for func in app.teardown_appcontext_funcs if not inspect.iscoroutinefunction(func)
    ]


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(app: Flask, revision: str = "head") -> None:
    """Create or migrate the database to the newest schema."""
    from carebank.core.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild SQLite tables (drop, then rename a copy); SQLite's own
            # procedure for that says to switch foreign keys off meanwhile and check them after.
            # The PRAGMA is ignored inside a transaction, so it goes straight to the driver.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config = alembic_config(db.engine.url.render_as_string(hide_password=False))
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("migration left rows whose foreign keys point nowhere")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


# The years a date in the bank can have: its history and its future. Year 1 or 9999 would
# overflow when moved between time zones, and every page showing it would fail.
FIRST_YEAR, LAST_YEAR = 1900, 2999


# The demo writes a history of past weeks through the real services: while `clock_at` holds a
# moment, "now" is that moment for every default and service, in this context only.
_clock: ContextVar[datetime | None] = ContextVar("carebank_clock", default=None)


def utcnow() -> datetime:
    return _clock.get() or datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Within the block, `utcnow()` is `moment` (aware): for writing dated demo history."""
    token = _clock.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _clock.reset(token)


class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_column(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    # Stored as plain strings with a CHECK, so adding a value is an ordinary migration.
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )
