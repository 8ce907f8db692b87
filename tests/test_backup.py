"""`flask --app app backup PATH`: a consistent copy of the SQLite database taken while
requests keep writing, which opens as a sound ledger; PostgreSQL is pointed to pg_dump."""
import sqlite3
import threading
from contextlib import closing

import pytest
from conftest import logged_in

from carebank import create_app
from carebank.core.extensions import db
from carebank.ledger import services as ledger
from config import TestConfig

ENOUGH_GIFTS = 5  # on each side of the backup, so it is taken mid-traffic


def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the backup command copies SQLite; PostgreSQL is backed up with pg_dump")


def transaction_count(path) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT count(*) FROM ledger_transactions").fetchone()[0]


def verify_copy(path) -> list[str]:
    """Open the copy as the bank's database and check every ledger invariant on it."""
    copy = create_app(TestConfig, DATABASE_URL=f"sqlite:///{path}")
    with copy.app_context():
        try:
            with db.sessionmaker() as session:
                return ledger.verify(session)
        finally:
            db.engine.dispose()


class GiftTraffic:
    """Two members giving each other a minute, back and forth, from a thread, until stopped."""

    def __init__(self, app, first, second):
        self.app = app
        self.turns = [(logged_in(app, first), second.id), (logged_in(app, second), first.id)]
        self.statuses: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            client, to_id = self.turns[len(self.statuses) % 2]
            response = client.post("/api/v1/transfers", json={"to_member_id": to_id, "minutes": 1})
            self.statuses.append(response.status_code)

    def wait_for(self, count: int) -> None:
        while len(self.statuses) < count and self.thread.is_alive():
            threading.Event().wait(0.01)

    def __enter__(self):
        # The client would commit the test's session from this thread; the test must not
        # use it meanwhile anyway.
        self.test_session = self.app.config.pop("TEST_SESSION")
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        self.app.config["TEST_SESSION"] = self.test_session


def test_backup_taken_while_gifts_run_is_a_sound_ledger(app, database_url, make_member, earn, tmp_path):
    sqlite_only(database_url)
    source, target = database_url.removeprefix("sqlite:///"), tmp_path / "backup.sqlite3"
    ara, bomi = make_member("Ara"), make_member("Bomi")
    earn(ara, 60)  # each gives back what they were given, a minute at a time
    earn(bomi, 60)
    traffic = GiftTraffic(app, ara, bomi)

    with traffic:
        traffic.wait_for(ENOUGH_GIFTS)
        before = transaction_count(source)
        result = app.test_cli_runner().invoke(args=["backup", str(target)])
        after = transaction_count(source)
        traffic.wait_for(len(traffic.statuses) + ENOUGH_GIFTS)

    assert result.exit_code == 0, result.output
    assert set(traffic.statuses) == {201}  # the backup never got in a request's way
    assert verify_copy(target) == []
    copied = transaction_count(target)
    assert before <= copied <= after < transaction_count(source)
    assert f"{copied} ledger transactions" in result.output and "bytes" in result.output


def test_backup_refuses_to_overwrite_a_file_unless_forced(app, database_url, make_member, tmp_path):
    sqlite_only(database_url)
    make_member()
    target = tmp_path / "backup.sqlite3"
    target.write_bytes(b"last week's backup")

    refused = app.test_cli_runner().invoke(args=["backup", str(target)])

    assert refused.exit_code != 0
    assert "already exists" in refused.output and "--force" in refused.output
    assert target.read_bytes() == b"last week's backup"

    forced = app.test_cli_runner().invoke(args=["backup", "--force", str(target)])

    assert forced.exit_code == 0, forced.output
    assert verify_copy(target) == []
    assert not target.with_name(target.name + ".partial").exists()


def test_postgresql_is_pointed_to_pg_dump(app, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL is backed up with pg_dump")
    target = tmp_path / "backup.sqlite3"

    result = app.test_cli_runner().invoke(args=["backup", str(target)])

    assert result.exit_code != 0
    assert "pg_dump -Fc" in result.output
    assert not target.exists()
