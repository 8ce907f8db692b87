"""`flask --app app cards …`: printing member cards in batches."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from carebank.cards import services as cards
from carebank.cards.pdf import render_cards
from carebank.centres.services import get_centre
from carebank.core.cli import commits
from carebank.core.errors import DomainError
from carebank.core.extensions import db

cards_cli = AppGroup("cards", help="Print member cards.")


@cards_cli.command("pdf")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="The PDF file to write (A4, ten cards a page).")
@click.option("--centre", "centre_id", type=int, help="Only this centre's members (default: every centre).")
@click.option("--base-url", help="The site's address for the QR codes (default: CAREBANK_BASE_URL).")
@commits
def pdf_command(out: Path, centre_id: int | None, base_url: str | None) -> None:
    """Issue new cards to every active member and write them to an A4 PDF.

    Printing issues the cards: each member's previous card stops working at once."""
    base_url = base_url or current_app.config.get("BASE_URL")
    if not (base_url or "").startswith(("https://", "http://")):
        raise click.ClickException("The QR codes need the site's absolute address (https://…): "
                                   "pass --base-url or set CAREBANK_BASE_URL.")
    if centre_id is not None:
        try:
            get_centre(db.session, centre_id)
        except DomainError as error:
            raise click.ClickException(f"centre {centre_id}: {error.message}") from None
    members = cards.members_for_cards(db.session, None, centre_id=centre_id)
    if not members:
        click.echo("No active members: no cards issued, nothing written.")
        return
    issued = cards.issue_cards(db.session, None, members)
    # Committed only once the file is written: a failed write leaves the old cards working.
    out.write_bytes(render_cards(cards.card_faces(issued, base_url), sheet=True))
    click.echo(f"{len(issued)} cards for {len({i.member.id for i in issued})} members written to {out}")

