"""Migration 0014 on a bank whose neighbourhoods were typed by hand (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import unicodedata
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from conftest import _throwaway_postgres

from carebank import create_app
from carebank.core.database import upgrade_database
from carebank.core.extensions import db
from config import TestConfig

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def app_at_0013(tmp_path):
    url = os.environ.get("CAREBANK_DATABASE_URL", "")
    if url.startswith("postgresql"):
        made = _throwaway_postgres(url, lambda _url: None)
        url = next(made)
    else:
        made, url = None, f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(TestConfig, DATABASE_URL=url)
    upgrade_database(app, "0013")
    yield app
    with app.app_context():
        db.engine.dispose()
    if made is not None:
        made.close()


def _filler(column: sa.Column):
    """A value for a NOT NULL column the test does not care about."""
    kind = column.type.python_type if hasattr(column.type, "python_type") else str
    return {bool: False, int: 0, str: "x", datetime: NOW}.get(kind, "x")


def insert(connection, table: sa.Table, **values) -> int:
    for column in table.columns:
        if column.name not in values and not column.nullable and not column.primary_key \
                and column.server_default is None:
            values[column.name] = _filler(column)
    return connection.execute(table.insert().values(**values)).inserted_primary_key[0]


def old_bank(app) -> dict:
    """Centres with one-per-line lists and members and posts with hand-typed values."""
    with app.app_context(), db.engine.begin() as connection:
        meta = sa.MetaData()
        centres, members, posts = (sa.Table(name, meta, autoload_with=connection)
                                   for name in ("centres", "members", "posts"))
        ids = {"jongno": insert(connection, centres, name="Jongno", neighbourhoods="종로구 효자동\n 종로구 삼청동 \n"),
               "mapo": insert(connection, centres, name="Mapo", neighbourhoods="Ahyeon-dong\n종로구 효자동")}
        typed = {"full": "종로구 효자동", "short": " 효자동 ", "nfd": unicodedata.normalize("NFD", "삼청동"),
                 "case": "AHYEON-DONG", "stray": "Atlantis", "staff": "효자동"}
        for key, value in typed.items():
            ids[key] = insert(connection, members, name=key, email=f"{key}@example.org", neighbourhood=value,
                              centre_id=ids["mapo"] if key == "staff" else None, role="member")
        ids["post_mapped"] = insert(connection, posts, member_id=ids["full"], neighbourhood="종로구  효자동",
                                    kind="need", status="open", minutes=60)
        ids["post_stray"] = insert(connection, posts, member_id=ids["stray"], neighbourhood="Atlantis",
                                   kind="need", status="open", minutes=60)
    return ids


def test_typed_neighbourhoods_map_to_the_list_and_give_members_their_centre(app_at_0013):
    ids = old_bank(app_at_0013)
    upgrade_database(app_at_0013, "0014")
    with app_at_0013.app_context(), db.engine.connect() as connection:
        entries = connection.execute(sa.text("SELECT centre_id, district, name FROM neighbourhoods ORDER BY id")).all()
        # Mapo's line for 종로구 효자동 stays with Jongno, which listed it first.
        assert entries == [(ids["jongno"], "종로구", "효자동"), (ids["jongno"], "종로구", "삼청동"),
                           (ids["mapo"], "", "Ahyeon-dong")]
        members = dict((row[0], row[1:]) for row in connection.execute(
            sa.text("SELECT id, neighbourhood, centre_id FROM members")))
        assert members[ids["full"]] == ("효자동", ids["jongno"])
        assert members[ids["short"]] == ("효자동", ids["jongno"])
        assert members[ids["nfd"]] == ("삼청동", ids["jongno"])
        assert members[ids["case"]] == ("Ahyeon-dong", ids["mapo"])
        assert members[ids["stray"]] == ("Atlantis", None)
        assert members[ids["staff"]] == ("효자동", ids["mapo"])  # a centre already set is kept
        posts = dict(connection.execute(sa.text("SELECT id, neighbourhood FROM posts")).all())
        assert posts == {ids["post_mapped"]: "효자동", ids["post_stray"]: "Atlantis"}


def test_unmatched_values_wait_on_the_console_after_the_upgrade(app_at_0013):
    old_bank(app_at_0013)
    upgrade_database(app_at_0013)
    from carebank.centres.services import unmatched_neighbourhoods
    with app_at_0013.app_context():
        assert unmatched_neighbourhoods(db.session) == [("Atlantis", 1, 1)]
