"""How long a centre's print run of member cards takes: issuing 500 cards and drawing them
on A4 sheets, as `flask --app app cards pdf` does. The target is under 10 s on a 2-core machine.

    .venv/bin/python bench/cards_pdf.py            # 500 members, best of 3
    .venv/bin/python bench/cards_pdf.py --members 1000 --runs 5 --out /tmp/cards.pdf

Builds a throwaway SQLite database (deleted afterwards) holding one centre and its members with
Korean names, then times, per run: selecting the members, issuing their cards (each run replaces
the previous run's cards, as a real reprint would), translating and rendering the PDF, and the
commit. Prints every run's wall time, the best, and the PDF's size. The first run also parses
the fonts (once per process), so it is the slowest.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carebank import create_app  # noqa: E402
from carebank.cards import services as cards  # noqa: E402
from carebank.cards.pdf import render_cards  # noqa: E402
from carebank.centres.services import save_centre  # noqa: E402
from carebank.core.database import upgrade_database  # noqa: E402
from carebank.core.extensions import db  # noqa: E402
from carebank.members.models import Member  # noqa: E402
from config import Config  # noqa: E402

BUDGET_SECONDS = 10.0
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
SYLLABLES = "영자순희민수지현정숙미경옥철호성진은혜서준하윤도연"


def korean_names(count: int) -> list[str]:
    rng = random.Random(4)  # the same names every run
    return [rng.choice(SURNAMES) + "".join(rng.choices(SYLLABLES, k=2)) for _ in range(count)]


def seed(count: int) -> int:
    """A centre with `count` members (residents without logins); its id."""
    centre = save_centre(db.session, None, name="효자 돌봄 센터", phone="02-123-4567")
    db.session.add_all(Member(name=name, centre_id=centre.id) for name in korean_names(count))
    db.session.commit()
    return centre.id


def print_run(centre_id: int, base_url: str) -> bytes:
    members = cards.members_for_cards(db.session, None, centre_id=centre_id)
    issued = cards.issue_cards(db.session, None, members)
    pdf = render_cards(cards.card_faces(issued, base_url), sheet=True)
    db.session.commit()
    return pdf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, help="keep the last run's PDF here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app(Config, DATABASE_URL=f"sqlite:///{workdir}/bench.sqlite3", SECRET_KEY="bench",
                         BASE_URL="https://carebank.example.org")
        upgrade_database(app)
        with app.app_context():
            centre_id = seed(args.members)
            times, pdf = [], b""
            for _ in range(args.runs):
                start = time.perf_counter()
                pdf = print_run(centre_id, app.config["BASE_URL"])
                times.append(time.perf_counter() - start)
            db.engine.dispose()
    if args.out:
        args.out.write_bytes(pdf)
    best = min(times)
    print(f"{args.members} cards, issue + render on A4: best of {args.runs} {best:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}); PDF {len(pdf) / 1024:.0f} KB, "
          f"{-(-args.members // 10)} pages")
    return 0 if best < BUDGET_SECONDS * args.members / 500 else 1


if __name__ == "__main__":
    sys.exit(main())
