"""The worker's governance tasks: every ten minutes, ballots closing within a day remind the
members who have not voted yet (carebank.governance.proposals.remind_closing), once each; and
each day, once a quarter has ended, its voice report is announced to the members (once)."""
from __future__ import annotations

from flask import Flask
from huey import crontab

from carebank.core import tasks
from carebank.core.database import utcnow
from carebank.governance import proposals, voice


def register_tasks(app: Flask) -> None:
    # Often, though each ballot is reminded once: a missed run only makes a reminder later.
    tasks.periodic_task(app, remind_closing, crontab(minute="*/10"))
    # Daily: the first run after a quarter ends publishes its report; the others find it told.
    tasks.periodic_task(app, publish_voice_report, crontab(hour="1", minute="15"))


def remind_closing() -> None:
    with tasks.task_transaction() as session:
        proposals.remind_closing(session, utcnow())


def publish_voice_report() -> None:
    with tasks.task_transaction() as session:
        voice.publish_quarter(session, utcnow())
