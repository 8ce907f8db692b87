"""First start: the secret key, configuration from the environment, and a brand-new database.

These tests never touch the project's own instance/ folder: the secret key is tested on an
app whose instance folder is a temporary directory, and the subprocess gets its own SQLite
file (also when the suite itself runs against PostgreSQL)."""
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from flask import Flask

from carebank import create_app
from carebank.core.extensions import db
from carebank.core.instance import ensure_secret_key
from carebank.core.policy import Policy
from config import TestConfig

ROOT = Path(__file__).resolve().parent.parent


def bare_app(instance_path: Path, **config) -> Flask:
    app = Flask("carebank_setup_test", instance_path=str(instance_path))
    app.config.update({"SECRET_KEY": None, **config})
    return app


def test_secret_key_is_generated_once_and_reused(tmp_path):
    first, second = bare_app(tmp_path / "instance"), bare_app(tmp_path / "instance")
    ensure_secret_key(first)
    ensure_secret_key(second)
    assert len(first.config["SECRET_KEY"]) >= 32
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert (tmp_path / "instance" / "secret_key").read_text() == first.config["SECRET_KEY"]


def test_generated_secret_key_file_is_readable_only_by_its_owner(tmp_path):
    ensure_secret_key(bare_app(tmp_path))
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_each_installation_gets_its_own_secret_key(tmp_path):
    one, other = bare_app(tmp_path / "one"), bare_app(tmp_path / "other")
    ensure_secret_key(one)
    ensure_secret_key(other)
    assert one.config["SECRET_KEY"] != other.config["SECRET_KEY"]


def test_configured_secret_key_wins_and_nothing_is_written(tmp_path):
    app = bare_app(tmp_path, SECRET_KEY="configured by the operator")
    ensure_secret_key(app)
    assert app.config["SECRET_KEY"] == "configured by the operator"
    assert not (tmp_path / "secret_key").exists()


def test_carebank_environment_variables_reach_the_config_as_numbers(monkeypatch, tmp_path):
    monkeypatch.setenv("CAREBANK_MIN_BALANCE_MINUTES", "-60")
    monkeypatch.setenv("CAREBANK_CONFIRMATION_CODE_TTL", "600")
    app = create_app(TestConfig, DATABASE_URL=f"sqlite:///{tmp_path / 'env.sqlite3'}")
    with app.app_context():
        db.engine.dispose()
    assert app.config["MIN_BALANCE_MINUTES"] == -60
    assert app.config["CONFIRMATION_CODE_TTL"] == 600
    policy = Policy.from_config(app.config)
    assert (policy.min_balance_minutes, policy.code_ttl_seconds) == (-60, 600)


def run_flask(database: Path, *args: str) -> subprocess.CompletedProcess:
    """`flask --app app ...` as an operator runs it, on its own SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREBANK_", "FLASK_"))}
    env.update(CAREBANK_DATABASE_URL=f"sqlite:///{database}", CAREBANK_SECRET_KEY="x")
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_first_start_creates_and_migrates_a_brand_new_database(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    result = run_flask(database, "ledger", "verify")
    assert result.returncode == 0, result.stderr
    assert "ledger ok" in result.stdout
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        pools = connection.execute("SELECT count(*) FROM accounts WHERE kind = 'pool'").fetchone()[0]
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"members", "accounts", "posts", "exchanges", "ledger_transactions", "postings",
            "confirmation_codes", "alembic_version"} <= tables
    assert pools == 1
    assert journal_mode == "wal"


def test_migrate_on_an_up_to_date_database_changes_nothing(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    assert run_flask(database, "migrate").returncode == 0
    again = run_flask(database, "migrate")
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM accounts WHERE kind = 'pool'").fetchone()[0] == 1
