"""Issue 6's ranking budget: matches for one need among a city's open posts, p95 ≤ 20 ms.

    .venv/bin/python bench/ranking.py DATABASE_URL [--samples 200]

Run on a database filled by `flask --app app seed` (bench/city.py keeps them in bench/.data/).
Times posts.suggest_matches for random open needs, as the owner sees them on the post's page.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carebank import create_app  # noqa: E402
from carebank.core.database import utcnow  # noqa: E402
from carebank.core.extensions import db  # noqa: E402
from carebank.posts import services as posts  # noqa: E402
from carebank.posts.models import Post, PostKind, PostStatus  # noqa: E402

BUDGET_P95_MS = 20.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_rankings(samples: int, seed: int) -> tuple[int, list[float]]:
    session = db.session
    now = utcnow()
    open_posts = session.scalar(sa.select(sa.func.count()).select_from(Post).where(
        Post.status == PostStatus.OPEN, Post.expires_at > now))
    needs = session.scalars(sa.select(Post.id).where(
        Post.status == PostStatus.OPEN, Post.kind == PostKind.NEED, Post.expires_at > now)).all()
    timings = []
    for post_id in random.Random(seed).sample(needs, min(samples, len(needs))):
        session.expunge_all()  # a request starts with an empty session
        post = session.get(Post, post_id)
        owner = post.member
        start = time.perf_counter()
        posts.suggest_matches(session, post, owner, now=now)
        timings.append((time.perf_counter() - start) * 1000)
    return open_posts, timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    app = create_app(DATABASE_URL=args.database_url)
    with app.app_context():
        time_rankings(20, args.seed + 1)  # warm the caches, as a running server has them
        open_posts, timings = time_rankings(args.samples, args.seed)
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    verdict = "met" if p95 <= BUDGET_P95_MS else "NOT met"
    print(f"{app.config.get('DATABASE_URL', '').split(':')[0]}: {len(timings)} needs ranked against "
          f"{open_posts} open posts: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(timings):.1f} ms "
          f"(budget p95 ≤ {BUDGET_P95_MS:.0f} ms: {verdict})")
    return 0 if p95 <= BUDGET_P95_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
