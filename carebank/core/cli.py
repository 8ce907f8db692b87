"""`flask --app app migrate` and `backup`, and `commits`: the commit point of every command."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click
from flask.cli import with_appcontext

from carebank.core.commit import committed
from carebank.core.database import upgrade_database
from carebank.core.errors import DomainError
from carebank.core.extensions import db


def commits(command: Callable) -> Callable:
    """The CLI's commit point: the command's work is committed when it returns; a refusal is
    rolled back and ends the command with its reason (exit 1, no traceback)."""
    run = committed(command)

    @wraps(command)
    def run_or_refuse(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None

    return run_or_refuse


@click.command("migrate")
@with_appcontext  # app.cli.command would add it; add_command does not
def migrate_command() -> None:
    """Bring the database schema up to date (also done automatically on start)."""
    from flask import current_app

    upgrade_database(current_app._get_current_object())
    click.echo("database is up to date")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it already exists.")
@with_appcontext  # app.cli.command would add it; add_command does not
def backup_command(path: Path, force: bool) -> None:
    """Copy the SQLite database to PATH while the bank keeps running (PostgreSQL: use pg_dump)."""
    from carebank.core.backup import BackupRefused, backup_sqlite

    try:
        result = backup_sqlite(db.engine.url, path, force=force)
    except BackupRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up to {result.path}: {result.size_bytes} bytes, "
               f"{result.transactions} ledger transactions")
