"""The worker's minute check of visits: reminders before, "no check-in" and lone-visit alerts
during, "please confirm" after (the rules and their windows are in carebank/visits/safety.py).
Each rule runs in a transaction of its own, so one that fails does not hold back the others;
the notices it wrote are relayed to the task queue when it commits."""
from __future__ import annotations

import logging

from flask import Flask
from huey import crontab

from carebank.core import tasks
from carebank.core.database import utcnow
from carebank.visits import safety

log = logging.getLogger(__name__)


def register_tasks(app: Flask) -> None:
    # Every minute: a lone-visit alert is worth the few indexed queries it costs.
    tasks.periodic_task(app, check_visits, crontab(minute="*"))


def check_visits() -> None:
    now = utcnow()
    for rule in safety.RULES:
        try:
            with tasks.task_transaction() as session:
                rule(session, now)
        except Exception:  # whatever one rule met (rolled back), the next still runs
            log.exception("visit check %s failed; the next run tries again", rule.__name__)
