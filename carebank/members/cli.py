"""`flask --app app members set-role`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from carebank.core.cli import commits
from carebank.core.errors import DomainError
from carebank.core.extensions import db
from carebank.members.models import Role

members_cli = AppGroup("members", help="Manage members.")


@members_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@commits
def set_role_command(email: str, role: str) -> None:
    """Make a member a coordinator or admin (or a plain member again)."""
    from carebank.members.services import set_role

    try:
        member = set_role(db.session, email, Role(role))
    except DomainError as error:
        raise click.ClickException(f"{email}: {error.message}") from None
    click.echo(f"{member.email} is now {member.role.value}")
