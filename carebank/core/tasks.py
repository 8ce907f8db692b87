"""The task queue (Huey) that delivers notifications, made from the app's config.

`TASK_QUEUE_URL` chooses the storage:

- None (the default): Huey's SQLite storage in instance/tasks.sqlite3, and a consumer thread
  started in the web process at its first request, so `flask --app app run` delivers with no
  other process to start. A thread rather than Huey's immediate mode: immediate mode would
  send the mail inside the request (up to the SMTP timeout, three tries) and has no scheduler,
  so the minute's sweep that sends held and retried deliveries would never run.
- `sqlite:////path/tasks.sqlite3`: the same, in another file.
- `redis://host:port/db`: Redis, for a bank with several web workers; then nothing runs in the
  web process and `flask --app app worker` processes deliver (each with 2 worker threads).
- `memory://`: in this process only, run by no one until `run_pending` (the tests). An app
  with TESTING and no URL gets this, so a test never writes instance/ or starts a thread.

Tasks are registered per app (`task`, `periodic_task`), run each in its own app context, and
commit through `task_transaction`, a worker task's one commit point.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import huey
from flask import Flask, current_app
from huey.consumer import Consumer
from sqlalchemy.orm import Session

from carebank.core.commit import committing
from carebank.core.extensions import db
from carebank.features import feature_modules

EXTENSION = "carebank.tasks"
WORKER_THREADS = 2
log = logging.getLogger(__name__)


class Tasks:
    """The app's Huey, and whether it runs inside the web process."""

    def __init__(self, app: Flask):
        url = app.config.get("TASK_QUEUE_URL") or ("memory://" if app.testing else None)
        self.huey = make_huey(url, Path(app.instance_path) / "tasks.sqlite3")
        self.embedded = isinstance(self.huey, huey.SqliteHuey)
        self.consumer: Consumer | None = None
        self._lock = threading.Lock()

    def start_embedded(self) -> None:
        """The web process's own consumer, once (SQLite storage only)."""
        if self.consumer is not None or not self.embedded:
            return
        with self._lock:
            if self.consumer is None:
                self.consumer = start_consumer(self.huey, WORKER_THREADS)


def make_huey(url: str | None, default_file: Path) -> huey.Huey:
    if url is None or url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")) if url else default_file
        path.parent.mkdir(parents=True, exist_ok=True)
        return huey.SqliteHuey("carebank", filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return huey.RedisHuey("carebank", url=url, results=False)
    if url == "memory://":
        return huey.MemoryHuey("carebank", results=False)
    raise ValueError(f"TASK_QUEUE_URL must be sqlite:///…, redis://… or memory://, not {url!r}")


def init_app(app: Flask) -> None:
    """Bind the app's task queue and each feature's tasks (its delivery.py's `register_tasks`);
    the embedded consumer starts at the first request. Needs `db` bound first."""
    tasks = app.extensions[EXTENSION] = Tasks(app)
    for module in feature_modules("delivery"):
        module.register_tasks(app)
    if tasks.embedded:
        app.before_request(tasks.start_embedded)


def tasks_of(app: Flask | None = None) -> Tasks:
    return (app or current_app).extensions[EXTENSION]


def task(app: Flask, function: Callable, **options):
    """Register `function` as one of the app's tasks (named by its module and name), run in
    its own app context."""
    return tasks_of(app).huey.task(**options)(_in_context(app, function))


def periodic_task(app: Flask, function: Callable, validate_datetime: Callable):
    return tasks_of(app).huey.periodic_task(validate_datetime)(_in_context(app, function))


def _in_context(app: Flask, function: Callable) -> Callable:
    @wraps(function)
    def run(*args, **kwargs):
        with app.app_context():
            return function(*args, **kwargs)

    return run


@contextmanager
def task_transaction() -> Iterator[Session]:
    """A worker task's one commit point: the block's work on the task's session is committed
    when it ends, or rolled back if it raised (through carebank/core/commit.py)."""
    with committing():
        yield db.session


class _ThreadConsumer(Consumer):
    """Huey's consumer without its signal handlers: they belong to the process's main thread
    (the web server's, or `flask worker`'s own loop)."""

    def _set_signal_handlers(self):
        pass


def start_consumer(queue: huey.Huey, workers: int = WORKER_THREADS) -> Consumer:
    """Worker and scheduler threads (daemons) for `queue`; `.stop(graceful=True)` ends them."""
    consumer = _ThreadConsumer(queue, workers=workers, worker_type="thread", periodic=True,
                               max_delay=1.0, check_worker_health=False)
    consumer.start()
    log.info("task consumer started with %d threads", workers)
    return consumer


def run_consumer(app: Flask, workers: int = WORKER_THREADS) -> None:
    """Run Huey's consumer in this process until SIGINT or SIGTERM (`flask worker`)."""
    Consumer(tasks_of(app).huey, workers=workers, worker_type="thread", periodic=True,
             max_delay=1.0).run()


def run_pending(app: Flask | None = None) -> int:
    """Run every task waiting in the queue here and now, in order; how many ran (tests, and
    the benchmark's own drain)."""
    queue, count = tasks_of(app).huey, 0
    while (found := queue.dequeue()) is not None:
        queue.execute(found)
        count += 1
    return count
