"""Command-line tools: `flask --app app demo`, `ledger verify`, `members set-role`, `backup`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from .cards_cli import cards_cli
from .database import upgrade_database
from .errors import DomainError
from .extensions import db
from .models import Role
from .seed import seed_command

ledger_cli = AppGroup("ledger", help="Check the time ledger.")
members_cli = AppGroup("members", help="Manage members.")


@ledger_cli.command("verify")
def verify_ledger() -> None:
    """Check every ledger invariant; exit 1 and list the problems if any is broken."""
    from .ledger import chain_head, verify

    problems = verify(db.session)
    for problem in problems:
        click.echo(f"PROBLEM {problem}", err=True)
    if problems:
        raise SystemExit(1)
    count, head = chain_head(db.session)
    # Noting the head somewhere outside the database catches a tail cut off the chain.
    click.echo("ledger ok: every transaction balances, every cached balance matches and every "
               f"seal holds ({count} sealed, chain head {head})")


@ledger_cli.command("reverse")
@click.argument("transaction_id", type=int)
@click.option("--by", "coordinator_email", required=True, help="Email of the coordinator making the correction.")
@click.option("--memo", required=True, help="Why it is reversed (shown in both members' history).")
def reverse_command(transaction_id: int, coordinator_email: str, memo: str) -> None:
    """Undo a wrong transaction with a new, opposite one (nothing is ever edited)."""
    from .ledger import reverse
    from .members import find_by_email

    try:
        reversal = reverse(db.session, find_by_email(db.session, coordinator_email), transaction_id, memo)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"transaction {transaction_id} reversed by transaction {reversal.id}")


@members_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role_command(email: str, role: str) -> None:
    """Make a member a coordinator or admin (or a plain member again)."""
    from .members import set_role

    try:
        member = set_role(db.session, email, Role(role))
    except DomainError as error:
        raise click.ClickException(f"{email}: {error.message}") from None
    db.session.commit()
    click.echo(f"{member.email} is now {member.role.value}")


@click.command("demo")
@with_appcontext  # app.cli.command would add it; add_command does not
def demo_command() -> None:
    """Fill an empty database with a small, believable neighbourhood."""
    from .demo import DemoNotEmpty, load_demo

    try:
        summary = load_demo(db.session)
    except DemoNotEmpty as error:
        raise click.ClickException("the database already has members; demo data is only for an empty one") from error
    db.session.commit()
    click.echo(summary)


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
    from .backup import BackupRefused, backup_sqlite

    try:
        result = backup_sqlite(db.engine.url, path, force=force)
    except BackupRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up to {result.path}: {result.size_bytes} bytes, "
               f"{result.transactions} ledger transactions")


def register(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
    app.cli.add_command(members_cli)
    app.cli.add_command(cards_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(migrate_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(seed_command)
