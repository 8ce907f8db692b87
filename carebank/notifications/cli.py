"""`flask --app app worker`: deliver notifications from the task queue (Huey's consumer)."""
from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from carebank.core import tasks


@click.command("worker")
@click.option("--threads", default=tasks.WORKER_THREADS, show_default=True, help="Worker threads.")
@with_appcontext
def worker_command(threads: int) -> None:
    """Deliver notifications (e-mail, push) until stopped with Ctrl-C or SIGTERM.

    Run one or more beside the web workers when CAREBANK_TASK_QUEUE_URL names a Redis; with the
    default SQLite queue the web process delivers by itself, and a worker only adds hands."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    tasks.run_consumer(current_app._get_current_object(), workers=threads)
