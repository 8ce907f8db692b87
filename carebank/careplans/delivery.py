"""The worker's care plan task: every hour, active plans get their visits up to 8 weeks ahead,
and plans past their end date end (carebank.careplans.services.extend_all)."""
from __future__ import annotations

from flask import Flask
from huey import crontab

from carebank.careplans import services
from carebank.core import tasks
from carebank.core.database import utcnow


def register_tasks(app: Flask) -> None:
    # Hourly, though a plan is extended only once a week: a missed run costs nothing.
    tasks.periodic_task(app, extend_plans, crontab(minute="20"))


def extend_plans() -> None:
    with tasks.task_transaction() as session:
        services.extend_all(session, utcnow())
