"""Online backup of an SQLite database: a consistent copy taken while requests keep running.

SQLite's backup API copies the database page by page from one read snapshot. In WAL mode
(which the app always uses) a reader blocks no writer, so the copy is taken in one step:
requests go on writing meanwhile, and the copy is the database as it was at one instant.
Copying in several small steps would not help: every commit by the app between two steps
makes SQLite restart the copy, which under steady traffic might never finish.

PostgreSQL is backed up with its own tool, pg_dump (see the README).
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

PG_DUMP_ADVICE = (
    "this database is PostgreSQL, which this command does not copy: back it up with pg_dump, "
    "e.g. pg_dump -Fc -f carebank.dump '{url}' (a consistent snapshot, taken while the bank runs), "
    "and see the README for restoring it with pg_restore"
)


class BackupRefused(Exception):
    """The backup was not made; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    transactions: int


def backup_sqlite(url: sa.URL | str, target: Path, force: bool = False) -> BackupResult:
    """Copy the SQLite database at `url` to `target`, checked and complete or not at all."""
    source = _sqlite_path(sa.make_url(url))
    target = Path(target)
    if target.exists() and not force:
        raise BackupRefused(f"{target} already exists; pass --force to overwrite it")
    # Written beside the target and renamed over it only once checked: a crash or a full disk
    # never leaves a half-written file under the backup's name.
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        transactions = _copy(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, transactions)


def _sqlite_path(url: sa.URL) -> Path:
    if url.get_backend_name() == "postgresql":
        # pg_dump speaks libpq URLs: no "+psycopg"; the password stays out of the message.
        raise BackupRefused(PG_DUMP_ADVICE.format(url=url.set(drivername="postgresql")))
    if url.get_backend_name() != "sqlite":
        raise BackupRefused(f"cannot back up a {url.get_backend_name()} database")
    if url.database in (None, "", ":memory:"):
        raise BackupRefused("an in-memory database has nothing on disk to back up")
    return Path(url.database)


def _copy(source: Path, destination: Path) -> int:
    """Copy in one step, check the copy, and return its number of ledger transactions."""
    if not source.is_file():  # sqlite3.connect would create an empty database there
        raise BackupRefused(f"there is no database at {source}")
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(destination)) as dst:
        src.backup(dst, pages=-1)
        if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupRefused("the copy failed its integrity check; the source may be damaged")
        return dst.execute("SELECT count(*) FROM ledger_transactions").fetchone()[0]

