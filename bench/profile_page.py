"""Where a page's time goes: pyinstrument over N requests to one page, in one process.

    .venv/bin/python bench/profile_page.py DATABASE_URL PATH [--requests 30] [--flat]

PATH is a page as the bench's member sees it ("/", "/ledger/", "/posts/?kind=need"); the
word POST in it stands for that member's newest open post, and `--confirm` profiles
POST /api/v1/confirmations with fresh codes instead (of a few exchanges, so each says
confirm_again: the bench spreads its codes over many and never needs to). Run it on a town seeded by
bench/city.py (bench/.data/), as its member (city.pick_bench_member); it works on a copy for
--confirm, as that writes.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from city import pick_bench_member  # noqa: E402  (bench/ is on the path when run from it)

from carebank import create_app  # noqa: E402
from carebank.confirmations import services as confirmations  # noqa: E402
from carebank.core.extensions import db  # noqa: E402
from carebank.core.policy import current_policy  # noqa: E402
from carebank.exchanges.models import Exchange, ExchangeStatus  # noqa: E402
from carebank.members import services as members  # noqa: E402
from carebank.members.models import Member  # noqa: E402
from carebank.posts.models import Post, PostStatus  # noqa: E402


def codes_to_redeem(session, provider: Member, count: int) -> list[str]:
    """Fresh codes the provider can redeem, made by the receivers of their exchanges."""
    exchanges = session.scalars(sa.select(Exchange).where(
        Exchange.provider_id == provider.id, Exchange.status == ExchangeStatus.ACCEPTED)).all()
    tokens = [confirmations.make_code(session, exchanges[n % len(exchanges)].receiver,
                                      exchanges[n % len(exchanges)].id, 15, current_policy())[1]
              for n in range(count)]
    session.commit()
    return tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("path", nargs="?", default="/")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--confirm", action="store_true")
    parser.add_argument("--flat", action="store_true")
    args = parser.parse_args()
    url = args.database_url
    with tempfile.TemporaryDirectory() as scratch:
        if args.confirm and url.startswith("sqlite:///"):
            copy = Path(scratch) / "town.sqlite3"
            shutil.copy(url.removeprefix("sqlite:///"), copy)
            url = f"sqlite:///{copy}"
        app = create_app(DATABASE_URL=url, REDEEM_RATE_LIMIT="1000000/minute")
        with app.app_context():
            member = pick_bench_member(db.session)
            newest = db.session.scalar(sa.select(Post.id).where(
                Post.member_id == member.id, Post.status == PostStatus.OPEN).order_by(Post.id.desc()).limit(1))
            tokens = codes_to_redeem(db.session, member, 2 * args.requests) if args.confirm else []
            login = members.open_login(db.session, member)  # the token a login's cookie carries
            db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = login, True
        csrf = client.get("/api/v1/session").get_json().get("csrf_token", "")

        def request(n: int):
            if args.confirm:
                return client.post("/api/v1/confirmations", json={"code": tokens[n], "confirm_again": True},
                                   headers={"X-CSRFToken": csrf})
            return client.get(args.path.replace("POST", str(newest)))

        for n in range(args.requests):  # warm: caches filled, statements compiled
            request(n)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        statuses = {request(args.requests + n).status_code for n in range(args.requests)}
        profiler.stop()
    print(f"{args.requests} requests, statuses {sorted(statuses)}, "
          f"{profiler.last_session.duration / args.requests * 1000:.1f} ms each (profiled)")
    print(profiler.output(ConsoleRenderer(unicode=True, color=False, flat=args.flat, show_all=False)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
