"""`flask --app app members set-role`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from carebank.core.cli import commits
from carebank.core.errors import DomainError
from carebank.core.extensions import db
from carebank.members import services as members
from carebank.members.models import Role

members_cli = AppGroup("members", help="Manage members.")


@members_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@commits
def set_role_command(email: str, role: str) -> None:
    """Make a member a coordinator or admin (or a plain member again)."""
    try:
        member = members.set_role(db.session, email, Role(role))
    except DomainError as error:  # said with the email, which the service's message leaves out
        raise click.ClickException(f"{email}: {error.message}") from None
    click.echo(f"{member.email} is now {member.role.value}")
