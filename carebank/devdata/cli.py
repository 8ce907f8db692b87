"""The demo and seed commands; each imports its data module only when it runs."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from carebank.core.cli import commits
from carebank.core.database import upgrade_database
from carebank.core.extensions import db
from carebank.core.passwords import hash_password
from carebank.core.policy import Policy
from carebank.devdata import DEFAULT_PASSWORD, EMAIL_DOMAIN, MINIMUM_MEMBERS


@click.command("demo")
@with_appcontext  # app.cli.command would add it; add_command does not
@commits
def demo_command() -> None:
    """Fill an empty database with a small, believable neighbourhood."""
    from carebank.devdata.demo import DemoNotEmpty, load_demo

    try:
        summary = load_demo(db.session)
    except DemoNotEmpty as error:
        raise click.ClickException("the database already has members; demo data is only for an empty one") from error
    click.echo(summary)


@click.command("seed")
@click.option("--members", type=click.IntRange(min=MINIMUM_MEMBERS), default=10_000, show_default=True)
@click.option("--posts", type=click.IntRange(min=0), default=100_000, show_default=True,
              help="Open posts (needs and offers) made in the last 29 days.")
@click.option("--transactions", type=click.IntRange(min=0), default=1_000_000, show_default=True,
              help="Ledger transactions over the last two years.")
@click.option("--seed", "seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True,
              help="The password of every seeded member with a login.")
@with_appcontext  # app.cli.command would add it; add_command does not
def seed_command(members: int, posts: int, transactions: int, seed: int, password: str) -> None:
    """Fill an EMPTY database with a believable city (for benchmarks), in bulk."""
    from carebank.devdata.seed import CityNotEmpty, CitySize, seed_city

    upgrade_database(current_app._get_current_object())
    started = time.perf_counter()
    size = CitySize(members=members, posts=posts, transactions=transactions)
    try:
        made = seed_city(db.engine, size, password_hash=hash_password(password), seed=seed,
                         policy=Policy.from_config(current_app.config), progress=click.echo)
    except CityNotEmpty as error:
        raise click.ClickException("the database already has members; the seed is only for an empty one") from error
    click.echo(
        f"seeded in {time.perf_counter() - started:.1f} s: {made['centres']} centres, "
        f"{made['members']:,} members ({made['coordinators']} coordinators, 1 admin, "
        f"{made['residents']:,} residents without a login), {made['open_posts']:,} open posts, "
        f"{made['exchanges']:,} exchanges, {made['transactions']:,} transactions "
        f"({made['visits']:,} visits, {made['gifts']:,} gifts, {made['donations']:,} donations, "
        f"{made['grants']:,} grants, {made['reversals']:,} reversals); pool {made['pool_minutes']:,} min"
    )
    click.echo(f"log in as m00001@{EMAIL_DOMAIN} (admin) or m00002@{EMAIL_DOMAIN} (coordinator), "
               f"password {password!r}")
