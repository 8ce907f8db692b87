"""How long the worker's task takes to generate 8 weeks of visits for 10,000 care plans (issue 15).

    .venv/bin/python bench/visits.py [--plans 10000] [--database sqlite|postgresql] [--pg-url URL]

A fresh migrated database (SQLite in a temporary folder, or a throwaway PostgreSQL database
beside the one named) with 200 members, one accepted exchange per plan and that many active
plans, mixed like a centre's week: weekly on two days, every other week, weekdays and monthly
on the nth weekday, half skipping holidays and half moving them, a few centre closure days.
Then `careplans.services.extend_all` runs once, as the hourly task does, in one transaction,
and again (it must add nothing). Prints plans, visits, seconds and visits per second.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carebank import create_app  # noqa: E402
from carebank.careplans import services as careplans  # noqa: E402
from carebank.careplans.models import CarePlan, CentreClosure  # noqa: E402
from carebank.centres.models import Centre  # noqa: E402
from carebank.core.database import upgrade_database  # noqa: E402
from carebank.core.extensions import db  # noqa: E402
from carebank.exchanges.models import Exchange  # noqa: E402
from carebank.members.models import Member  # noqa: E402
from carebank.posts.models import Post  # noqa: E402
from carebank.visits.models import Visit  # noqa: E402
from config import Config  # noqa: E402

MEMBERS = 200
NOW = datetime(2027, 9, 1, 0, 0, tzinfo=UTC)
RULES = ["FREQ=WEEKLY;BYDAY=TU,TH", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
         "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "FREQ=MONTHLY;BYDAY=2TU", "FREQ=WEEKLY;BYDAY=SA"]


def fill(session, plans: int, rng: random.Random) -> None:
    """Members, posts, accepted exchanges and active plans, inserted in bulk."""
    centre = Centre(name="Bench centre", neighbourhoods="")
    session.add(centre)
    session.flush()
    members = [Member(name=f"Member {i}", email=f"m{i}@bench.example", password_hash=None,
                      centre_id=centre.id) for i in range(MEMBERS)]
    session.add_all(members)
    session.flush()
    ids = [m.id for m in members]
    pairs = [rng.sample(ids, 2) for _ in range(plans)]
    session.execute(sa.insert(Post), [
        {"member_id": receiver, "kind": "need", "category": "meals", "title": f"Visit {n}",
         "minutes": 60, "expires_at": NOW + timedelta(days=30)} for n, (_, receiver) in enumerate(pairs)])
    post_ids = session.scalars(sa.select(Post.id).order_by(Post.id)).all()
    session.execute(sa.insert(Exchange), [
        {"post_id": post_id, "provider_id": provider, "receiver_id": receiver, "responder_id": provider,
         "status": "accepted", "created_at": NOW}
        for post_id, (provider, receiver) in zip(post_ids, pairs, strict=True)])
    exchange_ids = session.scalars(sa.select(Exchange.id).order_by(Exchange.id)).all()
    session.execute(sa.insert(CarePlan), [
        {"exchange_id": exchange_id, "rrule": rng.choice(RULES),
         "starts_at": NOW + timedelta(days=rng.randrange(0, 7), hours=rng.randrange(0, 9)),
         "timezone": "Asia/Seoul", "minutes": rng.choice([60, 90, 120]),
         "until": date(2028, 6, 30), "place": "home", "holiday_policy": rng.choice(["skip", "move"]),
         "status": "active", "proposed_by_id": pairs[n][0], "accepted_by_id": pairs[n][1],
         "accepted_at": NOW, "created_at": NOW}
        for n, exchange_id in enumerate(exchange_ids)])
    session.add_all(CentreClosure(centre_id=centre.id, day=day, reason="typhoon")
                    for day in (date(2027, 9, 21), date(2027, 10, 6)))
    session.commit()


def run(url: str, plans: int) -> None:
    app = create_app(Config, DATABASE_URL=url, SECRET_KEY="bench", TASK_QUEUE_URL="memory://")
    upgrade_database(app)
    with app.app_context():
        session = db.session
        fill(session, plans, random.Random(15))
        started = time.perf_counter()
        made = careplans.extend_all(session, NOW)
        session.commit()
        seconds = time.perf_counter() - started
        again_started = time.perf_counter()
        again = careplans.extend_all(session, NOW)
        session.commit()
        again_seconds = time.perf_counter() - again_started
        stored = session.scalar(sa.select(sa.func.count()).select_from(Visit))
        print(f"{db.engine.dialect.name}: {plans} plans, {made} visits made in {seconds:.1f} s "
              f"({made / seconds:.0f} visits/s, {1000 * seconds / plans:.2f} ms a plan); "
              f"second run: {again} made in {again_seconds:.1f} s; visits stored: {stored}")
        db.engine.dispose()


def throwaway_postgres(url: str):
    name = f"bench_visits_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return admin, name, sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1/test")
    args = parser.parse_args()
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/bench.sqlite3", args.plans)
        return
    admin, name, url = throwaway_postgres(args.pg_url)
    try:
        run(url, args.plans)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
