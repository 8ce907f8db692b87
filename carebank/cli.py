"""Command-line tools: `flask --app app demo`, `ledger verify`, `members set-role`, `backup`."""
from __future__ import annotations

from flask import Flask

from carebank.cards.cli import cards_cli
from carebank.core.cli import backup_command, migrate_command
from carebank.devdata.cli import demo_command, seed_command
from carebank.ledger.cli import ledger_cli
from carebank.members.cli import members_cli
from carebank.notifications.cli import worker_command


def register(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
    app.cli.add_command(members_cli)
    app.cli.add_command(cards_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(migrate_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(worker_command)
