"""City-scale speed of carebank's busiest pages (issue 6), as ratios to a bare Flask "hello".

    .venv/bin/python bench/city.py

For each size (members; posts = 10 x members, transactions = 100 x members) and database, seeds
a town with `flask --app app seed`, serves it with gunicorn (2 sync workers) beside
bench/hello_app.py under the same settings, drives each page (PAGES below) with wrk after a
short warm-up, logged in as a member with many postings and open posts (confirmations: as a
second member redeeming codes made beforehand, each sent once; bench/wrk/confirm.lua), and
prints Markdown: every page's throughput as a ratio to hello's in the same run (measured
before and after each town, so drift shows), p50/p99 latency, how latency grows from the
smallest to the largest size against logarithmic growth, and issue 6's budgets on the largest
size. The same Markdown goes to bench/results/city-<date>.md, the raw figures to a .json beside
it; progress goes to stderr. Exits 1 when a budget is not met or `ledger verify` fails.

Options: --sizes 1000,10000  --databases sqlite,postgresql  --duration 10 (seconds per page)
         --connections 16  --threads 2  --pages home,posts,...  --keep (reuse the seeded
         SQLite files in bench/.data/ and PostgreSQL databases carebank_bench_<size>)
         --before REV (also serve the code of git revision REV, on its own fresh copy of each
         town, and report before/after side by side; the schema must be the same)
Needs wrk (Debian package wrk), Redis on 127.0.0.1:6379 (databases 14 and 15 are emptied) and,
for PostgreSQL, a server on 127.0.0.1:5432 with trust auth.
Each run works on a copy of the seeded database, so --keep runs measure the same town.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import gunicorn
import psycopg
import redis
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the setup step uses carebank's own services

from carebank import create_app  # noqa: E402
from carebank.confirmations import services as confirmations  # noqa: E402
from carebank.core.database import utcnow  # noqa: E402
from carebank.core.extensions import db  # noqa: E402
from carebank.core.policy import Policy  # noqa: E402
from carebank.exchanges import services as exchanges  # noqa: E402
from carebank.exchanges.models import Exchange, ExchangeStatus  # noqa: E402
from carebank.ledger.models import Account, Posting, Transaction, TransactionKind  # noqa: E402
from carebank.members.models import Member, Role  # noqa: E402
from carebank.posts import services as posts  # noqa: E402
from carebank.posts.models import Post, PostKind, PostStatus  # noqa: E402

BENCH = ROOT / "bench"
DATA_DIR = BENCH / ".data"
RESULTS_DIR = BENCH / "results"
CONFIRM_SCRIPT = BENCH / "wrk" / "confirm.lua"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_APP_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
SEED_PASSWORD = "seed-password-1234"
WORKERS = 2
WORKER_CLASS = "sync"
WARMUP_SECONDS = 2
WRK_TIMEOUT = "30s"  # a slow page is measured, not dropped as a wrk timeout (default 2 s)
# Flask-Login ties a session to the browser's User-Agent: the login and wrk send the same one.
USER_AGENT = "carebank-bench"
# Limits stay on (their code runs on every guarded request), far above what the bench sends.
RATE_LIMITS = ("LOGIN", "SIGNUP", "REDEEM", "CHECKIN_PIN")
UNLIMITED = "10000000 per minute"
# Codes made for the confirmations page: this rate, with a margin, for warm-up and measuring.
EXPECTED_CONFIRMATIONS_PER_SECOND = 600
CODE_MARGIN = 1.5
CODE_MINUTES = 30
CODES_PER_RECEIVER = 10  # more only when the town is too small to spread them wider
# Issue 17's budgets: each page's share of hello's requests per second (issue 6 asked 0.25 of
# every page; the pages that render cards and matches were given the lower targets).
BUDGET_SHARE_OF_HELLO = {"home": 0.08, "posts": 0.12, "post": 0.10, "post-other": 0.10, "ledger": 0.15,
                         "api-posts": 0.25, "api-me": 0.45, "qr": 0.5}
BUDGET_P99_MS = 100
BUDGET_CONFIRMATIONS_PER_SECOND = 500
BUDGET_RANKING_P95_MS = 20.0
BUDGET_QR_MS = 2.0


class BenchError(Exception):
    """Something that stops the run, said in a sentence."""


# --- what is measured --------------------------------------------------------------------------

@dataclass
class Town:
    """The seeded town's members and posts the pages are asked about, and the codes to redeem."""

    member_email: str
    neighbourhood: str
    category: str
    own_need_id: int
    other_need_id: int
    confirmer_email: str
    confirmer_id: int
    confirmer_exchange_id: int
    codes_file: Path
    warmup_codes_file: Path
    code_count: int
    qr_code_id: int = 0  # a code the confirmer made on the web, once the server runs


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    path: Callable[[Town], str]
    method: str = "GET"
    # Whose session asks: the bench member; the confirmer, who redeems the codes; or the
    # confirmer's session that made a code on the web (it holds the code the QR image shows).
    session: str = "member"

    @property
    def redeems_codes(self) -> bool:
        return self.method == "POST"


def _browse_query(town: Town) -> str:
    return urlencode({"kind": "need", "category": town.category, "neighbourhood": town.neighbourhood})


PAGES = [
    Page("home", "home (dashboard, logged in)", lambda t: "/"),
    Page("posts", "post list, filtered", lambda t: f"/posts/?{_browse_query(t)}"),
    Page("post", "post detail with matches (own need)", lambda t: f"/posts/{t.own_need_id}"),
    Page("post-other", "post detail (a neighbour's need)", lambda t: f"/posts/{t.other_need_id}"),
    Page("ledger", "ledger history", lambda t: "/ledger/"),
    Page("api-posts", "API post list, filtered",
         lambda t: "/api/v1/posts?" + urlencode({"kind": "offer", "category": t.category})),
    Page("api-me", "API own profile and balance", lambda t: "/api/v1/me"),
    Page("confirm", "API confirmations (fresh codes)", lambda t: "/api/v1/confirmations",
         method="POST", session="confirmer"),
    Page("qr", "confirmation QR image (SVG)", lambda t: f"/codes/{t.qr_code_id}/qr.svg", session="maker"),
]
PAGES_BY_KEY = {page.key: page for page in PAGES}


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    statuses: dict[str, int] = field(default_factory=dict)  # confirmations only: count by status
    output: str = ""

    @property
    def errors(self) -> int:
        unexpected = sum(n for status, n in self.statuses.items() if status != "201")
        return max(self.non_2xx_3xx, unexpected) + self.socket_errors


@dataclass
class TownRun:
    database: str
    size: int
    variant: str  # "now" (this tree), or the revision given as --before
    seed_seconds: float
    seed_reused: bool
    hello_start: WrkResult | None = None
    hello_end: WrkResult | None = None
    pages: dict[str, WrkResult] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # page key: why
    codes_made: int = 0
    confirmed: int = 0  # 201 answers, warm-up included
    visit_transactions: int = 0  # written by the confirmer, counted afterwards
    # wrk stops with requests in flight: the server writes their visits, wrk never sees the
    # 201s. So the visits may exceed the 201s by up to that many (a warm-up and a run).
    max_in_flight: int = 0
    verify_ok: bool = False
    verify_seconds: float = 0.0
    verify_message: str = ""
    app_tracebacks: list[str] = field(default_factory=list)
    ranking: str = ""  # bench/ranking.py's line: matches for one need among the open posts
    ranking_p95_ms: float = math.nan

    @property
    def visits_add_up(self) -> bool:
        return 0 <= self.visit_transactions - self.confirmed <= self.max_in_flight

    @property
    def hello_rps(self) -> float:
        runs = [r.requests_per_second for r in (self.hello_start, self.hello_end) if r]
        return sum(runs) / len(runs) if runs else 0.0

    def ratio(self, key: str) -> float:
        return self.pages[key].requests_per_second / self.hello_rps if self.hello_rps else 0.0


# --- options -----------------------------------------------------------------------------------

def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000", type=_int_list, help="members per town")
    parser.add_argument("--databases", default="sqlite,postgresql", type=_databases)
    parser.add_argument("--duration", default=10, type=int, help="seconds wrk runs per page")
    parser.add_argument("--connections", default=16, type=int)
    parser.add_argument("--threads", default=2, type=int)
    parser.add_argument("--pages", default=",".join(PAGES_BY_KEY), type=_pages,
                        help="a subset of: " + ", ".join(PAGES_BY_KEY))
    parser.add_argument("--keep", action="store_true", help="reuse databases seeded by an earlier run")
    parser.add_argument("--before", metavar="REV", help="also measure git revision REV, side by side")
    options = parser.parse_args(argv)
    if options.connections < options.threads:
        parser.error("--connections must be at least --threads (each wrk thread needs one)")
    return options


def _int_list(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 20:
        raise argparse.ArgumentTypeError("sizes are numbers of members, at least 20")
    return sizes


def _databases(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(names) - {"sqlite", "postgresql"}
    if unknown or not names:
        raise argparse.ArgumentTypeError("databases: sqlite, postgresql")
    return names


def _pages(text: str) -> list[Page]:
    keys = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [key for key in keys if key not in PAGES_BY_KEY]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown page {', '.join(unknown)}; pages: {', '.join(PAGES_BY_KEY)}")
    return [PAGES_BY_KEY[key] for key in keys]


# --- the machine -------------------------------------------------------------------------------

def describe_machine(options: argparse.Namespace) -> dict[str, str]:
    machine = {
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": gunicorn.__version__,
        "wrk": _wrk_version(),
        "load": load_average(),
    }
    if "postgresql" in options.databases:
        machine["postgresql"] = _postgres_admin_query("SHOW server_version")[0][0]
    return machine


def load_average() -> str:
    """The 1-minute load average: other work on the machine shows here."""
    return Path("/proc/loadavg").read_text().split()[0]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _wrk_version() -> str:
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed (Debian: apt-get install wrk)")
    answer = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    said = (answer.stdout or answer.stderr).split("Copyright")[0].strip()
    return said.removeprefix("wrk ")


# --- databases ---------------------------------------------------------------------------------

def seed_version() -> str:
    """Changes when the seed command or the schema does, so --keep never reuses a stale town."""
    digest = hashlib.sha256()
    for path in [ROOT / "carebank" / "seed.py", *sorted((ROOT / "carebank" / "migrations").rglob("*.py"))]:
        digest.update(path.name.encode() + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()[:10]


def plain_env() -> dict[str, str]:
    """This process's environment without CAREBANK_ and FLASK_ settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("CAREBANK_", "FLASK_"))}


def carebank_env(database_url: str, **config: str) -> dict[str, str]:
    """carebank on the database with a random secret key, plus CAREBANK_<name> settings."""
    settings = {"DATABASE_URL": database_url, "SECRET_KEY": os.urandom(24).hex(), **config}
    return plain_env() | {f"CAREBANK_{name}": value for name, value in settings.items()}


def run_flask(database_url: str, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    """`flask --app app <args>` on the database, and how many seconds it took."""
    started = time.perf_counter()
    answer = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                            env=carebank_env(database_url), capture_output=True, text=True)
    return time.perf_counter() - started, answer


def seed(database_url: str, size: int) -> float:
    progress(f"seeding {size:,} members, {10 * size:,} posts, {100 * size:,} transactions")
    seconds, answer = run_flask(database_url, "seed", "--members", str(size), "--posts", str(10 * size),
                                "--transactions", str(100 * size), "--password", SEED_PASSWORD)
    if answer.returncode:
        raise BenchError(f"flask seed failed:\n{_tail(answer.stderr or answer.stdout)}")
    progress(f"seeded in {seconds:.1f} s")
    return seconds


def working_database(database: str, size: int, keep: bool):
    """A fresh copy of the seeded town (seeding it first unless --keep finds it), as
    (url, seed seconds, whether the seed was reused); the copy is removed afterwards."""
    return (_sqlite_copy if database == "sqlite" else _postgresql_copy)(size, keep)


@contextmanager
def _sqlite_copy(size: int, keep: bool) -> Iterator[tuple[str, float, bool]]:
    seeded = DATA_DIR / f"sqlite-{size}-{seed_version()}.sqlite3"
    timing = seeded.with_suffix(".json")
    reused = keep and seeded.exists() and timing.exists()
    if not reused:
        _seed_sqlite(seeded, timing, size)
    work = DATA_DIR / f"run-{size}.sqlite3"
    _remove_sqlite(work)
    shutil.copyfile(seeded, work)
    try:
        yield f"sqlite:///{work}", json.loads(timing.read_text())["seconds"], reused
    finally:
        _remove_sqlite(work)


def _seed_sqlite(seeded: Path, timing: Path, size: int) -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for stale in DATA_DIR.glob(f"sqlite-{size}-*"):
        stale.unlink()
    partial = seeded.with_name(seeded.name + ".partial")
    _remove_sqlite(partial)
    seconds = seed(f"sqlite:///{partial}", size)
    with sqlite3.connect(partial) as connection:  # fold the WAL in, so one file is the town
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    partial.rename(seeded)
    timing.write_text(json.dumps({"seconds": seconds}))


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def _postgresql_copy(size: int, keep: bool) -> Iterator[tuple[str, float, bool]]:
    seeded, work = f"carebank_bench_{size}", f"carebank_bench_{size}_run"
    seconds = _seeded_seconds(seeded) if keep else None
    reused = seconds is not None
    if not reused:
        seconds = _seed_postgresql(seeded, size)
    _postgres_admin(f"DROP DATABASE IF EXISTS {work} WITH (FORCE)", f"CREATE DATABASE {work} TEMPLATE {seeded}")
    try:
        yield POSTGRES_APP_URL.format(name=work), seconds, reused
    finally:
        _postgres_admin(f"DROP DATABASE IF EXISTS {work} WITH (FORCE)")


def _seed_postgresql(name: str, size: int) -> float:
    _postgres_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    seconds = seed(POSTGRES_APP_URL.format(name=name), size)
    # The database's comment says it holds a whole town of this seed version (see --keep).
    note = json.dumps({"seed_version": seed_version(), "seconds": seconds})
    _postgres_admin(f"COMMENT ON DATABASE {name} IS '{note}'")
    return seconds


def _seeded_seconds(name: str) -> float | None:
    rows = _postgres_admin_query(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", name)
    note = json.loads(rows[0][0]) if rows and rows[0][0] else {}
    return note.get("seconds") if note.get("seed_version") == seed_version() else None


def _postgres_admin(*statements: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _postgres_admin_query(query: str, *params) -> list[tuple]:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            return connection.execute(query, params or None).fetchall()
    except psycopg.OperationalError as error:
        raise BenchError(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}") from None


# --- the town's facts and codes (carebank's own services) ----------------------------------------

@contextmanager
def carebank_session(database_url: str):
    """A carebank app on the database and its session; the engine is closed afterwards."""
    app = create_app(DATABASE_URL=database_url, SECRET_KEY="bench-setup", AUTO_MIGRATE=False)
    with app.app_context():
        try:
            yield app, db.session
        finally:
            db.session.close()
            db.engine.dispose()


def prepare_town(database_url: str, code_count: int, codes_dir: Path) -> Town:
    """Pick the bench member and the posts its pages show; make `code_count` fresh codes."""
    progress(f"choosing the bench member and making {code_count:,} confirmation codes")
    with carebank_session(database_url) as (app, session):
        member = pick_bench_member(session)
        category = busiest_need_category(session, member.neighbourhood)
        confirmer = pick_confirmer(session, exclude=member)
        tokens = make_codes(session, confirmer, member, category, code_count, Policy.from_config(app.config))
        town = Town(
            member_email=member.email, neighbourhood=member.neighbourhood, category=category,
            own_need_id=open_need_of(session, member), other_need_id=neighbours_open_need(session, member),
            confirmer_email=confirmer.email, confirmer_id=confirmer.id,
            confirmer_exchange_id=accepted_exchange_of(session, confirmer),
            codes_file=codes_dir / "codes.txt", warmup_codes_file=codes_dir / "warmup-codes.txt",
            code_count=code_count,
        )
        session.commit()
    warmup_count = codes_for(WARMUP_SECONDS)
    town.warmup_codes_file.write_text("\n".join(tokens[:warmup_count]) + "\n")
    town.codes_file.write_text("\n".join(tokens[warmup_count:]) + "\n")
    return town


def codes_for(seconds: float) -> int:
    return math.ceil(EXPECTED_CONFIRMATIONS_PER_SECOND * seconds * CODE_MARGIN)


def open_needs() -> sa.Select:
    return sa.select(Post).where(Post.kind == PostKind.NEED, Post.status == PostStatus.OPEN,
                                 Post.expires_at > utcnow())


def pick_bench_member(session) -> Member:
    """A member with a login and several open posts (one a need), with the most postings."""
    open_posts = (
        sa.select(Post.member_id, sa.func.count().label("posts"),
                  sa.func.sum(sa.case((Post.kind == PostKind.NEED, 1), else_=0)).label("needs"))
        .where(Post.status == PostStatus.OPEN, Post.expires_at > utcnow())
        .group_by(Post.member_id).subquery())
    postings = (
        sa.select(Account.member_id, sa.func.count().label("postings"))
        .join(Posting, Posting.account_id == Account.id).group_by(Account.member_id).subquery())
    member = session.scalar(
        sa.select(Member)
        .join(open_posts, open_posts.c.member_id == Member.id)
        .join(postings, postings.c.member_id == Member.id)
        .where(Member.password_hash.is_not(None), Member.deactivated_at.is_(None),
               Member.role == Role.MEMBER, open_posts.c.needs > 0)
        .order_by(sa.case((open_posts.c.posts >= 3, 0), else_=1), postings.c.postings.desc())
        .limit(1))
    if member is None:
        raise BenchError("the seeded town has no member with a login and an open need")
    return member


def busiest_need_category(session, neighbourhood: str) -> str:
    """The category with the most open needs in the neighbourhood: the filter people use."""
    nearby = open_needs().where(sa.func.lower(Post.neighbourhood) == neighbourhood.lower()).subquery()
    return session.scalar(
        sa.select(nearby.c.category).group_by(nearby.c.category).order_by(sa.func.count().desc()).limit(1)
    ) or "meals"


def open_need_of(session, member: Member) -> int:
    return session.scalar(open_needs().where(Post.member_id == member.id)
                          .order_by(Post.created_at.desc()).limit(1)).id


def neighbours_open_need(session, member: Member) -> int:
    """A neighbour's open need, in the member's neighbourhood if there is one."""
    others = open_needs().where(Post.member_id != member.id).order_by(Post.created_at.desc()).limit(1)
    nearby = others.where(sa.func.lower(Post.neighbourhood) == member.neighbourhood.lower())
    post = session.scalar(nearby) or session.scalar(others)
    if post is None:
        raise BenchError("the seeded town has no open need of a second member")
    return post.id


def pick_confirmer(session, exclude: Member) -> Member:
    """The member who redeems every code: a second login, so the bench member's pages show
    the seeded town (the codes' own exchanges would crowd their dashboard)."""
    return session.scalar(
        sa.select(Member).where(Member.password_hash.is_not(None), Member.deactivated_at.is_(None),
                                Member.role == Role.MEMBER, Member.id != exclude.id)
        .order_by(Member.id.desc()).limit(1))


def accepted_exchange_of(session, member: Member) -> int:
    return session.scalar(sa.select(Exchange.id).where(
        Exchange.provider_id == member.id, Exchange.status == ExchangeStatus.ACCEPTED).limit(1))


def make_codes(session, confirmer: Member, bench_member: Member, category: str, count: int,
               policy: Policy) -> list[str]:
    """`count` codes only the confirmer can redeem (as the provider, credited), made by many
    receivers (not the bench member, whose pages are measured), interleaved so that
    consecutive redemptions debit different accounts."""
    per_receiver = []
    for receiver, share in share_codes(session, {confirmer.id, bench_member.id}, count, policy).items():
        post = posts.create_post(session, receiver, kind="need", category=category, title="Bench visit",
                                 minutes=CODE_MINUTES, policy=policy)
        exchange = exchanges.respond(session, confirmer, post.id)
        exchanges.accept(session, receiver, exchange.id)
        per_receiver.append([confirmations.make_code(session, receiver, exchange.id, CODE_MINUTES, policy)[1]
                             for _ in range(share)])
    return [token for group in itertools.zip_longest(*per_receiver) for token in group if token]


def share_codes(session, exclude: set[int], count: int, policy: Policy) -> dict[Member, int]:
    """How many codes each receiver makes: CODES_PER_RECEIVER each, more when the town is too
    small for that, and never enough to take anyone below the balance floor."""
    rows = session.execute(
        sa.select(Member, Account.balance_minutes).join(Account, Account.member_id == Member.id)
        .where(Member.deactivated_at.is_(None), Member.id.not_in(exclude))).all()
    rooms = {member: (balance - policy.min_balance_minutes) // CODE_MINUTES for member, balance in rows}
    rooms = dict(sorted(((m, room) for m, room in rooms.items() if room > 0), key=lambda item: -item[1]))
    if sum(rooms.values()) < count:
        raise BenchError(f"the town has no room above the balance floor for {count:,} codes; "
                         "use a shorter --duration or a larger size")
    per_receiver = CODES_PER_RECEIVER
    while sum(min(per_receiver, room) for room in rooms.values()) < count:
        per_receiver += 1
    shares, left = {}, count
    for member, room in rooms.items():
        shares[member] = min(per_receiver, room, left)
        left -= shares[member]
        if not left:
            break
    return shares


def count_visits_by(database_url: str, member_id: int) -> int:
    with carebank_session(database_url) as (_app, session):
        return session.scalar(sa.select(sa.func.count()).select_from(Transaction).where(
            Transaction.created_by_id == member_id, Transaction.kind == TransactionKind.VISIT))


# --- servers -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(app_spec: str, env: dict[str, str], log_path: Path, chdir: Path = ROOT,
           ready_path: str = "/") -> Iterator[str]:
    """gunicorn serving `app_spec` with the bench's worker settings; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", WORKER_CLASS,
               "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), "--log-level", "warning", app_spec]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        # Its own session: Ctrl-C reaches only this script, which then stops the server itself.
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, base_url + ready_path, log_path)
        yield base_url
    finally:
        _stop(process)


def _wait_until_ready(process: subprocess.Popen, url: str, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited ({process.returncode}):\n{_tail(log_path.read_text())}")
        try:
            requests.get(url, timeout=10)  # a worker still importing the app on a busy machine
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer {url} within {timeout:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop: the master ends its workers
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group gunicorn leads (start_new_session)
        process.wait()


# As deploy/ runs a bank: rate-limit counters and the task queue in Redis (databases of their
# own here, emptied before each town). No worker runs during the bench: the web workers' part
# of a notification (writing it, queueing its deliveries) is measured, the sending is not.
REDIS_LIMITS_URL, REDIS_TASKS_URL = "redis://127.0.0.1:6379/14", "redis://127.0.0.1:6379/15"


def server_env(database_url: str) -> dict[str, str]:
    limits = {f"{name}_RATE_LIMIT": UNLIMITED for name in RATE_LIMITS}
    return carebank_env(database_url, AUTO_MIGRATE="false", RATELIMIT_STORAGE_URI=REDIS_LIMITS_URL,
                        TASK_QUEUE_URL=REDIS_TASKS_URL, **limits)


def empty_redis() -> None:
    for url in (REDIS_LIMITS_URL, REDIS_TASKS_URL):
        with redis.Redis.from_url(url) as connection:
            connection.flushdb()


def logged_in_headers(base_url: str, email: str) -> dict[str, str]:
    """The headers of a phone logged in through the API: session cookie and CSRF token."""
    with requests.Session() as http:
        http.headers["User-Agent"] = USER_AGENT
        csrf = http.get(f"{base_url}/api/v1/session").json()["csrf_token"]
        answer = http.post(f"{base_url}/api/v1/session", json={"email": email, "password": SEED_PASSWORD},
                           headers={"X-CSRFToken": csrf})
        if answer.status_code != 200:
            raise BenchError(f"logging in {email} answered {answer.status_code}: {answer.text[:200]}")
        csrf = http.get(f"{base_url}/api/v1/session").json()["csrf_token"]
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    return {"User-Agent": USER_AGENT, "Cookie": cookie, "X-CSRFToken": csrf}


def make_code_on_the_web(base_url: str, headers: dict[str, str], exchange_id: int) -> tuple[dict[str, str], int]:
    """A code made through the exchange page, as a phone does, so that the session holds its
    token (which its QR image needs): that session's headers, and the code's id."""
    answer = requests.post(f"{base_url}/exchanges/{exchange_id}/codes", headers=headers, allow_redirects=False,
                           data={"csrf_token": headers["X-CSRFToken"], "hours": "1", "extra_minutes": "0"})
    made = re.search(r"/codes/(\d+)$", answer.headers.get("Location", ""))
    if answer.status_code != 302 or not made:
        raise BenchError(f"making a code on the web answered {answer.status_code}: {answer.text[:200]}")
    cookies = dict(pair.split("=", 1) for pair in headers["Cookie"].split("; ")) | dict(answer.cookies)
    return {**headers, "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}, int(made[1])


def why_unmeasurable(url: str, page: Page, headers: dict[str, str]) -> str | None:
    """None if the page answers as the bench expects, else what it answered instead."""
    if page.redeems_codes:  # a code no one made: passes login and CSRF, redeems nothing
        answer = requests.post(url, json={"code": "0" * 26}, headers=headers, allow_redirects=False)
        expected = answer.status_code == 400 and "invalid_code" in answer.text
    else:
        answer = requests.get(url, headers=headers, allow_redirects=False)
        expected = answer.status_code == 200
        if expected and page.key == "home" and "data-logout" not in answer.text:
            return "the page did not show the member as logged in"
    return None if expected else f"HTTP {answer.status_code} at the check before measuring"


# --- wrk ---------------------------------------------------------------------------------------

def run_wrk(url: str, seconds: float, options: argparse.Namespace, headers: dict[str, str],
            codes_file: Path | None = None) -> WrkResult:
    command = ["wrk", f"-t{options.threads}", f"-c{options.connections}", f"-d{seconds}s", "--latency",
               "--timeout", WRK_TIMEOUT]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if codes_file:
        command += ["-s", str(CONFIRM_SCRIPT), url, "--", str(codes_file), str(options.threads)]
    else:
        command.append(url)
    answer = subprocess.run(command, capture_output=True, text=True)
    if answer.returncode:
        raise BenchError(f"wrk failed: {answer.stderr or answer.stdout}")
    return parse_wrk(answer.stdout)


def parse_wrk(output: str) -> WrkResult:
    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else 0.0

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    statuses = re.search(r"^statuses (.*)$", output, re.MULTILINE)
    return WrkResult(
        requests_per_second=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=_latency_ms(output, "50%"),
        p99_ms=_latency_ms(output, "99%"),
        requests=int(number(r"(\d+) requests in")),
        non_2xx_3xx=int(number(r"Non-2xx or 3xx responses:\s+(\d+)")),
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        statuses={status: int(n) for status, n in (pair.split("=") for pair in statuses.group(1).split())}
        if statuses else {},
        output=output,
    )


LATENCY_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _latency_ms(output: str, percentile: str) -> float:
    found = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    return float(found.group(1)) * LATENCY_UNITS_MS[found.group(2)] if found else math.nan


def measure(url: str, options: argparse.Namespace, headers: dict[str, str]) -> WrkResult:
    run_wrk(url, WARMUP_SECONDS, options, headers)
    return run_wrk(url, options.duration, options, headers)


def created(result: WrkResult) -> int:
    return result.statuses.get("201", 0)


# --- one town ----------------------------------------------------------------------------------

NOW = "now"


def bench_town(database: str, size: int, hello_url: str, options: argparse.Namespace,
               variant: str = NOW, tree: Path = ROOT) -> TownRun:
    """One town served by the code in `tree` (this one, or the --before revision's copy)."""
    progress(f"--- {database}, {size:,} members, {variant}")
    with (working_database(database, size, options.keep) as (url, seed_seconds, reused),
          tempfile.TemporaryDirectory(prefix="carebank-codes-") as codes_dir):
        run = TownRun(database, size, variant, seed_seconds, reused, max_in_flight=2 * options.connections)
        empty_redis()
        town = prepare_town(url, codes_for(WARMUP_SECONDS) + codes_for(options.duration), Path(codes_dir))
        run.codes_made = town.code_count
        serve_and_measure(run, url, town, hello_url, options, tree)
        run.visit_transactions = count_visits_by(url, town.confirmer_id)
        verify_ledger(run, url)
        if variant == NOW:  # bench/ranking.py runs this tree's code in its own process
            time_ranking(run, url)
    return run


def before_tree(revision: str) -> tuple[str, Path]:
    """The code of `revision` (git archive, no .git), kept in bench/.data/ by its commit."""
    answer = subprocess.run(["git", "rev-parse", "--short", f"{revision}^{{commit}}"], cwd=ROOT,
                            capture_output=True, text=True)
    if answer.returncode:
        raise BenchError(f"--before {revision}: not a revision of this repository")
    commit = answer.stdout.strip()
    tree = DATA_DIR / f"before-{commit}"
    if not (tree / "carebank").is_dir():
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return commit, tree


def time_ranking(run: TownRun, url: str) -> None:
    """bench/ranking.py on the town: suggest_matches for random open needs, in one process."""
    progress("ranking matches (bench/ranking.py)")
    answer = subprocess.run([sys.executable, str(BENCH / "ranking.py"), url], capture_output=True,
                            text=True, env=plain_env(), cwd=ROOT)
    run.ranking = (answer.stdout.strip().splitlines() or [answer.stderr.strip()[-300:]])[-1]
    found = re.search(r"p95 ([\d.]+) ms", run.ranking)
    run.ranking_p95_ms = float(found.group(1)) if found else math.nan
    progress(run.ranking)


def time_qr_codes() -> str:
    """bench/qr.py: rendering a confirmation QR code, fresh and cached."""
    progress("QR codes (bench/qr.py)")
    answer = subprocess.run([sys.executable, str(BENCH / "qr.py")], capture_output=True, text=True,
                            env=plain_env(), cwd=ROOT)
    return answer.stdout.strip() or answer.stderr.strip()[-300:]


def serve_and_measure(run: TownRun, url: str, town: Town, hello_url: str, options: argparse.Namespace,
                      tree: Path = ROOT) -> None:
    """carebank on the town under gunicorn, its pages measured between two runs of hello."""
    log_path = DATA_DIR / "logs" / f"gunicorn-{run.database}-{run.size}-{run.variant}.log"
    with served("carebank:create_app()", server_env(url), log_path, chdir=tree,
                ready_path="/api/v1/categories") as base:
        run.hello_start = measure(hello_url, options, {"User-Agent": USER_AGENT})
        measure_pages(run, base, town, options)
        run.hello_end = measure(hello_url, options, {"User-Agent": USER_AGENT})
    run.app_tracebacks = tracebacks(log_path.read_text())


def measure_pages(run: TownRun, base_url: str, town: Town, options: argparse.Namespace) -> None:
    confirmer = logged_in_headers(base_url, town.confirmer_email)
    sessions = {"member": logged_in_headers(base_url, town.member_email), "confirmer": confirmer}
    sessions["maker"], town.qr_code_id = make_code_on_the_web(base_url, confirmer, town.confirmer_exchange_id)
    for page in options.pages:
        url = base_url + page.path(town)
        headers = sessions[page.session]
        problem = why_unmeasurable(url, page, headers)
        if problem:
            progress(f"{page.key}: skipped, {problem}")
            run.skipped[page.key] = problem
            continue
        if page.redeems_codes:
            result = measure_confirmations(run, url, town, options, headers)
        else:
            result = measure(url, options, headers)
        run.pages[page.key] = result
        progress(f"{page.key}: {result.requests_per_second:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                 f"p99 {result.p99_ms:.1f} ms, {result.errors} errors")


def measure_confirmations(run: TownRun, url: str, town: Town, options: argparse.Namespace,
                          headers: dict[str, str]) -> WrkResult:
    """Like measure(), each run redeeming codes of its own file; counts the 201s of both."""
    warmup = run_wrk(url, WARMUP_SECONDS, options, headers, town.warmup_codes_file)
    result = run_wrk(url, options.duration, options, headers, town.codes_file)
    run.confirmed = created(warmup) + created(result)
    return result


def verify_ledger(run: TownRun, url: str) -> None:
    progress("ledger verify")
    run.verify_seconds, answer = run_flask(url, "ledger", "verify")
    run.verify_ok = answer.returncode == 0
    said = (answer.stdout + answer.stderr).strip().splitlines()
    run.verify_message = said[-1] if said else ""
    progress(f"ledger verify: {'ok' if run.verify_ok else 'FAILED'} in {run.verify_seconds:.1f} s")


def tracebacks(log: str) -> list[str]:
    """The last line of each traceback the app logged (a page that answered 500)."""
    found, lines = [], log.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            following = [x for x in lines[index + 1:] if x and not x.startswith((" ", "\t"))]
            found.append(following[0] if following else line)
    return sorted(set(found))


# --- the report --------------------------------------------------------------------------------

def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def town_title(size: int) -> str:
    return f"{size:,} members, {10 * size:,} posts, {100 * size:,} transactions"


def render_report(machine: dict[str, str], options: argparse.Namespace, runs: list[TownRun],
                  qr: str = "") -> str:
    parts = [f"# City-scale bench, {machine['date']}", _machine_lines(machine, options)]
    if qr:
        parts.append(f"## QR codes (bench/qr.py)\n\n```\n{qr}\n```")
    now = [run for run in runs if run.variant == NOW]
    for database in options.databases:
        mine = [run for run in now if run.database == database]
        parts.append(f"## {DATABASE_NAMES[database]}")
        for run in mine:
            earlier = [r for r in runs if r.variant != NOW and (r.database, r.size) == (database, run.size)]
            if earlier:
                parts.append(_comparison_section(earlier[0], run))
            parts += [_town_section(r) for r in [*earlier, run]]
        if len(mine) > 1:
            parts.append(_growth_section(mine))
    parts.append(_budget_section(now, options, qr))
    return "\n\n".join(parts) + "\n"


DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _machine_lines(machine: dict[str, str], options: argparse.Namespace) -> str:
    versions = ", ".join(f"{name} {machine[key]}" for key, name in
                         [("python", "Python"), ("sqlite", "SQLite"), ("postgresql", "PostgreSQL"),
                          ("gunicorn", "gunicorn"), ("wrk", "wrk")] if key in machine)
    return "\n".join([
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; {versions}",
        f"- Load average (1 min) at the start: {machine['load']}, at the end: {machine['load_at_end']}",
        f"- gunicorn {WORKERS} {WORKER_CLASS} workers for carebank and for bench/hello_app.py alike; "
        f"wrk -t{options.threads} -c{options.connections} -d{options.duration}s --latency after a "
        f"{WARMUP_SECONDS} s warm-up per page",
        "- Ratio: the page's requests per second over hello's (the mean of hello before and after the town)",
    ])


def _town_section(run: TownRun) -> str:
    seed = f"reused (seeded in {run.seed_seconds:.0f} s)" if run.seed_reused else f"{run.seed_seconds:.1f} s"
    verify = "ok" if run.verify_ok else f"FAILED ({run.verify_message})"
    notes = [
        f"Seed: {seed}. `ledger verify` after the run: {verify} in {run.verify_seconds:.1f} s.",
        f"Hello: {_rps(run.hello_start)} req/s before the pages, {_rps(run.hello_end)} after "
        f"(p50 {_ms(run.hello_start.p50_ms)} and {_ms(run.hello_end.p50_ms)} ms).",
    ]
    if "confirm" in run.pages:
        notes.append(_visits_note(run))
    if run.ranking:
        notes.append(f"Ranking (bench/ranking.py): {run.ranking}")
    if run.app_tracebacks:
        notes.append(f"Errors in the app's log (bench/.data/logs/): {'; '.join(run.app_tracebacks)}.")
    rows = [_page_row(run, page) for page in PAGES if page.key in run.pages or page.key in run.skipped]
    table = markdown_table(["page", "req/s", "ratio to hello", "p50 ms", "p99 ms", "errors"], rows)
    code = "this tree" if run.variant == NOW else f"revision {run.variant}"
    return f"### {town_title(run.size)}: {code}\n\n" + "\n".join(notes) + "\n\n" + table


def _comparison_section(before: TownRun, after: TownRun) -> str:
    """Before and after side by side: each measured on its own copy of the town, in this run."""
    rows = []
    for page in PAGES:
        if page.key in before.pages and page.key in after.pages:
            was, now = before.pages[page.key], after.pages[page.key]
            gain = now.requests_per_second / was.requests_per_second if was.requests_per_second else math.nan
            share = (f"{before.ratio(page.key):.3f} → {after.ratio(page.key):.3f}" if not page.redeems_codes
                     else f"{_rps(was)}/s → {_rps(now)}/s")
            rows.append([page.label, share, f"{gain:.2f}×", f"{_ms(was.p99_ms)} → {_ms(now.p99_ms)}",
                         f"{was.errors} → {now.errors}", _budget_text(page)])
    header = ["page", "ratio to hello (confirmations: per second), before → after", "gain",
              "p99 ms", "errors", "budget"]
    return (f"### {town_title(after.size)}: revision {before.variant} → this tree\n\n"
            + markdown_table(header, rows))


def _budget_text(page: Page) -> str:
    if page.redeems_codes:
        return f"≥ {BUDGET_CONFIRMATIONS_PER_SECOND}/s"
    return f"≥ {BUDGET_SHARE_OF_HELLO[page.key]:.2f}"


def _visits_note(run: TownRun) -> str:
    extra = run.visit_transactions - run.confirmed
    verdict = (f"the {extra} more are requests in flight when wrk stopped (at most {run.max_in_flight})"
               if run.visits_add_up else "**they do not add up**")
    return (f"Confirmations: {run.codes_made:,} codes made; {run.confirmed:,} answered 201 (warm-up "
            f"included) and {run.visit_transactions:,} visit transactions were written: {verdict}.")


def _page_row(run: TownRun, page: Page) -> list[str]:
    if page.key in run.skipped:
        return [page.label, f"skipped: {run.skipped[page.key]}", "", "", "", ""]
    result = run.pages[page.key]
    return [page.label, _rps(result), f"{run.ratio(page.key):.3f}", _ms(result.p50_ms), _ms(result.p99_ms),
            str(result.errors)]


def _rps(result: WrkResult | None) -> str:
    return f"{result.requests_per_second:,.0f}" if result else "-"


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def allowed_growth(small: int, large: int) -> tuple[float, float]:
    """Logarithmic growth from the small town to the large: by transactions, and by members."""
    return math.log(100 * large) / math.log(100 * small), math.log(large) / math.log(small)


def _growth_section(runs: list[TownRun]) -> str:
    small, large = runs[0], runs[-1]
    by_transactions, by_members = allowed_growth(small.size, large.size)
    rows = []
    for page in PAGES:
        if page.key in small.pages and page.key in large.pages:
            before, after = small.pages[page.key].p50_ms, large.pages[page.key].p50_ms
            growth = after / before if before else math.nan
            rows.append([page.label, _ms(before), _ms(after), f"{growth:.2f}",
                         f"{by_transactions:.2f} ({by_members:.2f})", _growth_verdict(growth, by_transactions, by_members)])
    header = ["page", f"p50 ms at {small.size:,}", f"p50 ms at {large.size:,}", "growth",
              "allowed: log of transactions (of members)", "verdict"]
    return f"### Latency growth, {small.size:,} to {large.size:,} members\n\n" + markdown_table(header, rows)


def _growth_verdict(growth: float, by_transactions: float, by_members: float) -> str:
    if growth <= by_transactions:
        return "within log"
    if growth <= by_members:
        return "within log of members"
    return "faster than log"


def _budget_section(runs: list[TownRun], options: argparse.Namespace, qr: str = "") -> str:
    size = max(options.sizes)
    towns = {run.database: run for run in runs if run.size == size}
    header = ["budget"] + [DATABASE_NAMES[d] for d in options.databases]
    rows = []
    for page in options.pages:
        if page.redeems_codes:
            rows.append([f"{page.label}: ≥ {BUDGET_CONFIRMATIONS_PER_SECOND}/s, no error, verify ok"]
                        + [_confirmations_budget(towns[d]) for d in options.databases])
        else:
            rows.append([f"{page.label}: ≥ {BUDGET_SHARE_OF_HELLO[page.key]:.2f} of hello"]
                        + [_share_budget(towns[d], page.key) for d in options.databases])
        rows.append([f"{page.label}: p99 ≤ {BUDGET_P99_MS} ms"]
                    + [_p99_budget(towns[d], page.key) for d in options.databases])
    rows.append([f"ranking one need's matches: p95 ≤ {BUDGET_RANKING_P95_MS:.0f} ms"]
                + [_ranking_budget(towns[d]) for d in options.databases])
    rows.append([f"QR code of a fresh confirmation: p95 ≤ {BUDGET_QR_MS:.0f} ms (no database)"]
                + [_qr_budget(qr)] * len(options.databases))
    return f"## Budgets ({town_title(size)}, {options.connections} connections)\n\n" + markdown_table(header, rows)


def _qr_budget(qr: str) -> str:
    found = re.search(r"fresh code\s+p50\s+[\d.]+ ms\s+p95\s+([\d.]+) ms", qr)
    if not found:
        return "not measured"
    return f"{float(found.group(1)):.2f} ms: {_met(float(found.group(1)) <= BUDGET_QR_MS)}"


def _ranking_budget(run: TownRun) -> str:
    if math.isnan(run.ranking_p95_ms):
        return "not measured"
    return f"{run.ranking_p95_ms:.1f} ms: {_met(run.ranking_p95_ms <= BUDGET_RANKING_P95_MS)}"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _share_budget(run: TownRun, key: str) -> str:
    if key not in run.pages:
        return "not measured"
    return f"{run.ratio(key):.3f}: {_met(run.ratio(key) >= BUDGET_SHARE_OF_HELLO[key])}"


def _p99_budget(run: TownRun, key: str) -> str:
    if key not in run.pages:
        return "not measured"
    p99 = run.pages[key].p99_ms
    return f"{_ms(p99)} ms: {_met(p99 <= BUDGET_P99_MS)}"


def _confirmations_budget(run: TownRun) -> str:
    if "confirm" not in run.pages:
        return "not measured"
    result = run.pages["confirm"]
    ok = (result.requests_per_second >= BUDGET_CONFIRMATIONS_PER_SECOND and result.errors == 0
          and run.verify_ok and run.visits_add_up)
    verify = "verify ok" if run.verify_ok and run.visits_add_up else "ledger check FAILED"
    return f"{result.requests_per_second:,.0f}/s, {result.errors} errors, {verify}: {_met(ok)}"


def budgets_met(report: str) -> bool:
    return "**not met**" not in report


def save(report: str, machine: dict[str, str], options: argparse.Namespace, runs: list[TownRun]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = RESULTS_DIR / f"city-{datetime.now().strftime('%Y-%m-%d')}"
    stem.with_suffix(".md").write_text(report)
    raw = {"machine": machine, "options": {**vars(options), "pages": [p.key for p in options.pages]},
           "towns": [asdict(run) for run in runs]}
    stem.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str))
    return stem.with_suffix(".md")


# --- main --------------------------------------------------------------------------------------

def progress(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_all(options: argparse.Namespace) -> list[TownRun]:
    runs = []
    hello_log = DATA_DIR / "logs" / "gunicorn-hello.log"
    before = before_tree(options.before) if options.before else None
    with served("hello_app:app", plain_env(), hello_log, chdir=BENCH) as hello_url:
        for database in options.databases:
            for size in options.sizes:
                if before:
                    runs.append(bench_town(database, size, hello_url, options, *before))
                runs.append(bench_town(database, size, hello_url, options))
    return runs


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    try:
        machine = describe_machine(options)
        qr = time_qr_codes()
        runs = run_all(options)
    except BenchError as error:
        print(f"city bench stopped: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("city bench interrupted; servers stopped", file=sys.stderr)
        return 130
    machine["load_at_end"] = load_average()
    report = render_report(machine, options, runs, qr)
    print(report)
    progress(f"written to {save(report, machine, options, runs).relative_to(ROOT)} and .json")
    return 0 if budgets_met(report) and all(run.verify_ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
