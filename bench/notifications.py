"""How fast the task queue drains notifications (issue 12), on Huey's SQLite storage and on Redis.

    .venv/bin/python bench/notifications.py [--notifications 1000] [--members 100] [--storages sqlite,redis]
                                            [--threads 2]

For each storage: a fresh migrated SQLite database, 1,000 notifications written through
`notify` and committed 10 at a time (as 100 requests would; the relay enqueues each commit's
deliveries: an e-mail and a push each, the push skipped for want of a subscription), then a
consumer with 2 worker threads (as `flask --app app worker` runs) drains them into an SMTP
server on loopback (aiosmtpd's Sink, in a process of its own as a mail server would be). The notifications are urgent, so quiet hours hold none whenever
the bench runs. Also: how long after a gift's request its in-app notification is readable
through the API. Prints the figures against the issue's budgets; exits 1 when one is missed.
Redis: 127.0.0.1:6379 db 14, flushed first.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carebank import create_app  # noqa: E402
from carebank.core import passwords, tasks  # noqa: E402
from carebank.core.database import upgrade_database  # noqa: E402
from carebank.core.extensions import db  # noqa: E402
from carebank.members.models import Member  # noqa: E402
from carebank.members.services import create_member  # noqa: E402
from carebank.notifications.models import Delivery  # noqa: E402
from carebank.notifications.services import notify  # noqa: E402
from config import Config  # noqa: E402

BUDGETS = {"sqlite": 30.0, "redis": 15.0}  # seconds to drain 1,000 notifications
VISIBLE_BUDGET = 1.0  # seconds from a request to its in-app notification
REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "bench-password-1234"


@contextmanager
def smtp_sink() -> Iterator[int]:
    """An SMTP server that takes every message and keeps none; its port."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                               "-c", "aiosmtpd.handlers.Sink"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_app(folder: Path, queue_url: str, mail_port: int):
    app = create_app(Config, DATABASE_URL=f"sqlite:///{folder / 'carebank.sqlite3'}", SECRET_KEY="bench",
                     TASK_QUEUE_URL=queue_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_port,
                     SESSION_COOKIE_SECURE=False, LOGIN_RATE_LIMIT="10000 per minute")
    if tasks.EXTENSION not in app.extensions:  # until create_app binds it
        tasks.init_app(app)
    upgrade_database(app)
    return app


def members(app, count: int) -> list[int]:
    with app.app_context():
        made = [create_member(db.session, name=f"Bench {n}", email=f"bench{n}@example.org", password=PASSWORD,
                              neighbourhood="Hyoja-dong").id for n in range(count)]
        db.session.commit()
    return made


def queue_notifications(app, member_ids: list[int], count: int) -> None:
    with app.app_context():
        for n in range(count):
            notify(db.session, member_ids[n % len(member_ids)], "gift_received", urgent=True,
                   name="Bench giver", minutes=30)
            if n % 10 == 9:
                db.session.commit()
        db.session.commit()


def counted(app, status: str, channels=("email", "push")) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
            Delivery.status == status, Delivery.channel.in_(channels))) or 0


def waiting(app) -> int:
    return counted(app, "queued")


def drain(app, threads: int, timeout: float = 300.0) -> float:
    started = time.perf_counter()
    consumer = tasks.start_consumer(tasks.tasks_of(app).huey, workers=threads)
    try:
        while waiting(app) and time.perf_counter() - started < timeout:
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        consumer.stop(graceful=True)


def visible_after_request(app, giver_id: int, recipient_id: int) -> float:
    """From sending a gift to reading its notification in the recipient's inbox (API)."""
    with app.app_context():
        emails = [db.session.get(Member, i).email for i in (giver_id, recipient_id)]
    sender, reader = app.test_client(), app.test_client()
    for phone, address in ((sender, emails[0]), (reader, emails[1])):
        phone.post("/api/v1/session", json={"email": address, "password": PASSWORD},
                   headers={"X-CSRFToken": csrf(phone)})
    before = len(reader.get("/api/v1/notifications").get_json()["notifications"])
    started = time.perf_counter()
    answer = sender.post("/api/v1/transfers", json={"to_member_id": recipient_id, "minutes": 5},
                         headers={"X-CSRFToken": csrf(sender)})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    after = len(reader.get("/api/v1/notifications").get_json()["notifications"])
    elapsed = time.perf_counter() - started
    assert after == before + 1, (before, after)
    return elapsed


def csrf(client) -> str:
    return client.get("/api/v1/session").get_json()["csrf_token"]


def run(storage: str, notifications: int, member_count: int, threads: int) -> dict:
    with smtp_sink() as port, tempfile.TemporaryDirectory(prefix="carebank-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'tasks.sqlite3'}" if storage == "sqlite" else REDIS_URL
        app = make_app(Path(folder), url, port)
        if storage == "redis":
            tasks.tasks_of(app).huey.storage.conn.flushdb()
        ids = members(app, member_count)
        started = time.perf_counter()
        queue_notifications(app, ids, notifications)
        queued = time.perf_counter() - started
        drained = drain(app, threads)
        result = {"storage": storage, "queued_s": queued, "drained_s": drained, "left": waiting(app),
                  "mails": counted(app, "sent", ("email",)), "visible_s": visible_after_request(app, ids[0], ids[1])}
        if tasks.tasks_of(app).consumer is not None:  # the request started the web process's own
            tasks.tasks_of(app).consumer.stop(graceful=True)
        with app.app_context():
            db.engine.dispose()
        if storage == "redis":
            tasks.tasks_of(app).huey.storage.conn.flushdb()
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--storages", default="sqlite,redis")
    parser.add_argument("--threads", type=int, default=tasks.WORKER_THREADS)
    options = parser.parse_args()
    passwords.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # setup, not measured
    ok = True
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"| storage | {options.notifications} notifications written | drained ({options.threads} threads) "
          f"| budget | mails | left | in-app visible after request |")
    print("|---|---|---|---|---|---|---|")
    for storage in options.storages.split(","):
        result = run(storage, options.notifications, options.members, options.threads)
        budget = BUDGETS[storage] * options.notifications / 1000
        met = (result["drained_s"] <= budget and result["left"] == 0 and result["mails"] == options.notifications
               and result["visible_s"] <= VISIBLE_BUDGET)
        ok &= met
        print(f"| {storage} | {result['queued_s']:.2f} s | {result['drained_s']:.2f} s | ≤ {budget:.0f} s "
              f"| {result['mails']} | {result['left']} | {result['visible_s'] * 1000:.0f} ms (≤ 1 s) |"
              f"{'' if met else ' MISSED'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
