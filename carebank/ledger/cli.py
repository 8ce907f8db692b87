"""`flask --app app ledger verify` and `ledger reverse`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from carebank.core.cli import commits
from carebank.core.extensions import db

ledger_cli = AppGroup("ledger", help="Check the time ledger.")


@ledger_cli.command("verify")
def verify_ledger() -> None:
    """Check every ledger invariant; exit 1 and list the problems if any is broken."""
    from carebank.ledger.services import chain_head, verify

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
@commits
def reverse_command(transaction_id: int, coordinator_email: str, memo: str) -> None:
    """Undo a wrong transaction with a new, opposite one (nothing is ever edited)."""
    from carebank.ledger.services import reverse
    from carebank.members.services import find_by_email

    reversal = reverse(db.session, find_by_email(db.session, coordinator_email), transaction_id, memo)
    click.echo(f"transaction {transaction_id} reversed by transaction {reversal.id}")
