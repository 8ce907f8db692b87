"""A real bank's set-up: the start-up check of CAREBANK_ENV=production, and the whole stack of
deploy/ on this machine — Caddy (deploy/Caddyfile with its `tls internal` line, on loopback)
in front of gunicorn (deploy/gunicorn.conf.py), a throwaway PostgreSQL database, Redis for the
rate limits and the task queue, and one `flask --app app worker` — walked over HTTPS.

The stack test skips, saying why, without Debian's caddy (`apt-get install caddy`; .ci/run
installs it), PostgreSQL (CAREBANK_DATABASE_URL or CAREBANK_PG_URL, else the local `test`
database) or Redis on 127.0.0.1:6379. Caddy's config, data (its CA) and admin endpoint are
the test's own, under tmp_path: no root, nothing of the system's is touched."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from conftest import PASSWORD, Inbox, _migrate, _postgres_url, _throwaway_postgres, free_port

from carebank.core import production

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
CADDY = shutil.which("caddy")
# Said at collection; the `stack` fixture also skips, saying why, without PostgreSQL or Redis.
needs_caddy = pytest.mark.skipif(CADDY is None, reason="no caddy on PATH (Debian: apt-get install caddy)")
PG_URL = _postgres_url() or os.environ.get("CAREBANK_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/test")
# Redis databases no other test or benchmark uses (they use 15 and 14); flushed before and after.
LIMITS_REDIS, QUEUE_REDIS = "redis://127.0.0.1:6379/12", "redis://127.0.0.1:6379/13"
BROWSER_ENCODINGS = "gzip, deflate, br, zstd"  # what Chrome and Firefox send
FIRST_VISIT_BUDGET = 50 * 1024
# A raw 32-byte P-256 key in base64url (a test key, never a bank's).
TEST_VAPID_KEY = "7rFWyVOOr1CzCO6XDV3UBYl6aeXVXpZ5-V7e5Qr3VXo"

READY = {
    "ENV": "production",
    "SECRET_KEY": "x" * 48,
    "BASE_URL": "https://care.example.org",
    "DATABASE_URL": "postgresql+psycopg://carebank@127.0.0.1/carebank",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "TASK_QUEUE_URL": "redis://127.0.0.1:6379/1",
    "MAIL_SERVER": "smtp.example.org",
    "MAIL_SENDER": "carebank@care.example.org",
    "VAPID_PRIVATE_KEY": TEST_VAPID_KEY,
    "VAPID_SUBJECT": "mailto:it@care.example.org",
    "TRUST_PROXY": 1,
}


# ---- the start-up check ----------------------------------------------------------------------

def test_a_complete_production_config_is_ready():
    assert production.problems(READY) == []
    production.check(READY)


@pytest.mark.parametrize(("name", "wrong"), [
    ("SECRET_KEY", None), ("SECRET_KEY", "short"),
    ("BASE_URL", None), ("BASE_URL", "http://care.example.org"),
    ("DATABASE_URL", None), ("DATABASE_URL", "sqlite:////srv/carebank/carebank.sqlite3"),
    ("RATELIMIT_STORAGE_URI", "memory://"),
    ("TASK_QUEUE_URL", None), ("TASK_QUEUE_URL", "sqlite:////tmp/tasks.sqlite3"),
    ("MAIL_SERVER", None), ("MAIL_SENDER", "carebank@localhost"),
    ("VAPID_PRIVATE_KEY", None), ("VAPID_SUBJECT", "mailto:carebank@localhost"),
    ("TRUST_PROXY", 0),
    ("SESSION_COOKIE_SECURE", False), ("REMEMBER_COOKIE_SECURE", False),
])
def test_each_missing_or_unfit_setting_is_named(name, wrong):
    found = production.problems(READY | {name: wrong})
    assert len(found) == 1 and found[0].startswith(f"CAREBANK_{name}: "), found


def test_the_refusal_lists_every_missing_setting():
    with pytest.raises(production.NotReadyForProduction) as refused:
        production.check({"ENV": "production", "RATELIMIT_STORAGE_URI": "memory://", "TRUST_PROXY": 0})
    message = refused.value.format_message()
    for name in ("SECRET_KEY", "BASE_URL", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "TASK_QUEUE_URL",
                 "MAIL_SERVER", "VAPID_PRIVATE_KEY", "TRUST_PROXY"):
        assert f"CAREBANK_{name}:" in message


@pytest.mark.parametrize("env", [None, "", "development"])
def test_nothing_is_checked_outside_production(env):
    assert production.problems({"ENV": env}) == []
    production.check({"ENV": env, "RATELIMIT_STORAGE_URI": "memory://"})


def test_a_mistyped_environment_is_refused_rather_than_taken_for_development():
    assert production.problems(READY | {"ENV": "prod"}) == [
        "CAREBANK_ENV must be 'production' (or unset, for trying the app), not 'prod'"]


def test_the_settings_are_read_from_carebank_variables(monkeypatch):
    for name in [n for n in os.environ if n.startswith("CAREBANK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CAREBANK_ENV", "production")
    monkeypatch.setenv("CAREBANK_TRUST_PROXY", "1")  # parsed as JSON, as create_app does
    found = production.problems(production.configured())
    assert not any(line.startswith("CAREBANK_TRUST_PROXY") for line in found)
    assert any(line.startswith("CAREBANK_SECRET_KEY") for line in found)


def _run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def _clean_env(**carebank) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CAREBANK_", "FLASK_")) and k not in {"WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}}
    for name, value in carebank.items():
        env[f"CAREBANK_{name}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def test_every_entry_point_refuses_an_unready_production_bank(tmp_path):
    env = _clean_env(ENV="production", TRUST_PROXY=1)
    flask = _run([sys.executable, "-m", "flask", "--app", "app", "worker"], env)
    assert flask.returncode == 1 and "Error: CAREBANK_ENV=production" in flask.stderr
    assert "CAREBANK_SECRET_KEY:" in flask.stderr and "Traceback" not in flask.stderr
    gunicorn = _run([sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"),
                     "--bind", f"127.0.0.1:{free_port()}", "--no-control-socket", "app:app"], env)
    assert gunicorn.returncode == 1 and "CAREBANK_MAIL_SERVER:" in gunicorn.stderr
    assert "Booting worker" not in gunicorn.stderr  # the master said so before starting any


def test_the_quick_start_needs_no_settings():
    routes = _run([sys.executable, "-m", "flask", "--app", "app", "routes"], _clean_env(AUTO_MIGRATE=False))
    assert routes.returncode == 0, routes.stderr
    assert "main.home" in routes.stdout


# ---- the stack ---------------------------------------------------------------------------------

def _why_no_stack() -> str | None:
    if CADDY is None:
        return needs_caddy.kwargs["reason"]
    try:
        redis.Redis.from_url(LIMITS_REDIS, socket_timeout=1).ping()
    except redis.RedisError as error:
        return f"no Redis on 127.0.0.1:6379 ({error})"
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 2})
    try:
        engine.connect().close()
    except sa.exc.OperationalError as error:
        return f"no PostgreSQL at {PG_URL} ({str(error).splitlines()[0]})"
    finally:
        engine.dispose()
    return None


class Stack:
    """The running stack: its HTTPS origin, the CA to trust, the database and the logs."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = free_port()
        self.origin = f"https://localhost:{self.port}"
        self.ca = tmp / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        self.database_url = ""
        self.inbox: list = []

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in ("caddy", "gunicorn", "worker"))

    def client(self) -> requests.Session:
        """A phone: trusts Caddy's CA, keeps its cookies, and sends the CSRF token and a
        same-origin Referer (Flask-WTF checks it over HTTPS) with every change."""
        phone = requests.Session()
        phone.trust_env = False  # else REQUESTS_CA_BUNDLE, if set, wins over `verify`
        phone.verify = str(self.ca)
        phone.headers.update({"Accept-Language": "en", "Referer": f"{self.origin}/"})
        phone.headers["X-CSRFToken"] = phone.get(f"{self.origin}/api/v1/session", timeout=10).json()["csrf_token"]
        return phone


def _caddyfile(stack: Stack) -> str:
    """deploy/Caddyfile with its LAN line (`tls internal`) switched on, after a global block
    that keeps Caddy to loopback ports of its own and out of the system's trust store."""
    site, switched = re.subn(r"^(\s*)# tls internal$", r"\1tls internal", (DEPLOY / "Caddyfile").read_text(),
                             flags=re.MULTILINE)
    assert switched == 1, "deploy/Caddyfile lost its commented `tls internal` line"
    return (f"{{\n\tadmin 127.0.0.1:{free_port()}\n\thttp_port {free_port()}\n\tdefault_bind 127.0.0.1\n"
            f"\tskip_install_trust\n}}\n\n{site}")


def _start(stack: Stack, stop: ExitStack, name: str, command: list[str], env: dict,
           quit_with: signal.Signals = signal.SIGTERM) -> subprocess.Popen:
    log = open(stack.tmp / f"{name}.log", "wb")  # noqa: SIM115 (closed by the ExitStack)
    stop.callback(log.close)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    stop.callback(_end, process, quit_with)
    return process


def _end(process: subprocess.Popen, quit_with: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(quit_with)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(url: str, process: subprocess.Popen, stack: Stack, **options) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}:\n{stack.logs()}")
        try:
            if requests.get(url, timeout=2, **options).status_code == 200:
                return
        except (requests.RequestException, OSError):  # OSError: Caddy's CA is not written yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 30 s:\n{stack.logs()}")


@contextmanager
def _flushed(*urls: str):
    connections = [redis.Redis.from_url(url, socket_timeout=2) for url in urls]
    for connection in connections:
        connection.flushdb()
    try:
        yield
    finally:
        for connection in connections:
            connection.flushdb()
            connection.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    why = _why_no_stack()
    if why:
        pytest.skip(why)
    stack = Stack(tmp_path_factory.mktemp("stack"))
    with ExitStack() as stop:
        stack.database_url = stop.enter_context(contextmanager(_throwaway_postgres)(PG_URL, _migrate))
        stop.enter_context(_flushed(LIMITS_REDIS, QUEUE_REDIS))
        handler = Inbox()
        smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
        smtp.start()
        stop.callback(smtp.stop)
        stack.inbox = handler.messages

        upstream = f"127.0.0.1:{free_port()}"
        env = _clean_env(**READY | {
            "BASE_URL": stack.origin, "DATABASE_URL": stack.database_url, "RATELIMIT_STORAGE_URI": LIMITS_REDIS,
            "TASK_QUEUE_URL": QUEUE_REDIS, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "AUTO_MIGRATE": False})
        env["PYTHONUNBUFFERED"] = "1"
        gunicorn = _start(stack, stop, "gunicorn", [
            sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"), "--workers", "2",
            "--bind", upstream, "--no-control-socket", "app:app"], env, quit_with=signal.SIGINT)  # no grace: a test
        _start(stack, stop, "worker", [sys.executable, "-m", "flask", "--app", "app", "worker"], env)
        (stack.tmp / "Caddyfile").write_text(_caddyfile(stack))
        caddy_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(stack.tmp),
                     "XDG_DATA_HOME": str(stack.tmp / "data"), "XDG_CONFIG_HOME": str(stack.tmp / "config"),
                     "CAREBANK_DOMAIN": f"localhost:{stack.port}", "CAREBANK_STATIC": str(ROOT / "static"),
                     "CAREBANK_UPSTREAM": upstream}
        caddy = _start(stack, stop, "caddy", [CADDY, "run", "--adapter", "caddyfile",
                                              "--config", str(stack.tmp / "Caddyfile")], caddy_env)
        _wait_for(f"http://{upstream}/api/v1/categories", gunicorn, stack)
        _wait_for(f"{stack.origin}/api/v1/categories", caddy, stack, verify=str(stack.ca))
        yield stack


def _sign_up(stack: Stack, name: str, email: str) -> requests.Session:
    phone = stack.client()
    answer = phone.post(f"{stack.origin}/api/v1/members", timeout=10,
                        json={"name": name, "email": email, "password": PASSWORD, "locale": "en"})
    assert answer.status_code == 201, answer.text
    phone.headers["X-CSRFToken"] = phone.get(f"{stack.origin}/api/v1/session", timeout=10).json()["csrf_token"]
    return phone


def _delivery(stack: Stack, kind: str, email: str) -> tuple[str, object]:
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT d.status, d.sent_at FROM notification_deliveries d"
                " JOIN notifications n ON n.id = d.notification_id JOIN members m ON m.id = n.member_id"
                " WHERE n.kind = :kind AND d.channel = 'email' AND m.email = :email"),
                {"kind": kind, "email": email}).one()
    finally:
        engine.dispose()


@needs_caddy
def test_an_exchange_walks_through_caddy_gunicorn_postgresql_redis_and_the_worker(stack):
    api = f"{stack.origin}/api/v1"
    receiver = _sign_up(stack, "Kim Young-ja", "young-ja@care.test")
    provider = _sign_up(stack, "Alex", "alex@care.test")
    # No quiet hours (start = end), so the notification goes out now, whatever the hour in Seoul.
    quiet = receiver.put(f"{api}/notification-preferences", json={"quiet_hours": {"start": "00:00", "end": "00:00"}})
    assert quiet.status_code == 200, quiet.text

    post = receiver.post(f"{api}/posts", json={"kind": "need", "category": "escort", "minutes": 90,
                                               "title": "Walk to the clinic", "description": "Tuesday"})
    assert post.status_code == 201, post.text
    exchange = provider.post(f"{api}/posts/{post.json()['post']['id']}/responses")
    assert exchange.status_code == 201, exchange.text
    exchange_id = exchange.json()["exchange"]["id"]
    assert receiver.post(f"{api}/exchanges/{exchange_id}/accept").json()["exchange"]["status"] == "accepted"
    code = provider.post(f"{api}/exchanges/{exchange_id}/confirmation-codes", json={"minutes": 90})
    assert code.status_code == 201, code.text
    assert code.json()["url"].startswith(f"{stack.origin}/")  # BASE_URL in the QR code
    confirmed = receiver.post(f"{api}/confirmations", json={"code": code.json()["url"]})
    assert confirmed.status_code == 201, confirmed.text
    assert provider.get(f"{api}/me").json()["member"]["balance_minutes"] == 90
    # The app saw HTTPS through Caddy's X-Forwarded-Proto (on plain HTTP to localhost it would
    # drop Secure), and gunicorn logged the visitor's address from X-Forwarded-For.
    assert receiver.cookies and all(cookie.secure for cookie in receiver.cookies)
    assert re.search(r'^127\.0\.0\.1 - - \[.*"POST /api/v1/confirmations HTTP/1\.1" 201 \d+ .*ms$',
                     stack.log("gunicorn"), re.MULTILINE), stack.log("gunicorn")

    # The worker took the response's notification off the Redis queue and mailed it.
    deadline = time.monotonic() + 20
    while _delivery(stack, "response_received", "young-ja@care.test")[0] != "sent" and time.monotonic() < deadline:
        time.sleep(0.2)
    status, sent_at = _delivery(stack, "response_received", "young-ja@care.test")
    assert (status, sent_at is not None) == ("sent", True), stack.logs()
    assert any(message["To"] == "young-ja@care.test" for message in stack.inbox)


@needs_caddy
@pytest.mark.parametrize("encoding", ["zstd", "gzip"])
def test_pages_come_compressed_as_asked_with_hsts(stack, encoding):
    home = requests.get(f"{stack.origin}/", verify=str(stack.ca), stream=True, timeout=10,
                        headers={"Accept-Encoding": encoding, "Accept-Language": "en"})
    assert home.status_code == 200
    assert home.headers["Content-Encoding"] == encoding
    assert home.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert len(home.raw.read(decode_content=False)) < 0.5 * len(_plain(stack, "/"))
    # The app believed Caddy's X-Forwarded-Proto: its own headers and Secure cookies are there.
    assert "Content-Security-Policy" in home.headers


def _plain(stack: Stack, path: str) -> bytes:
    return requests.get(f"{stack.origin}{path}", verify=str(stack.ca), timeout=10,
                        headers={"Accept-Encoding": "identity", "Accept-Language": "en"}).content


@needs_caddy
@pytest.mark.parametrize(("path", "cache"), [
    ("/static/vendor/jsQR-1.4.0.js", "public, max-age=31536000, immutable"),  # versioned name
    ("/static/css/carebank.css", "public, max-age=3600, must-revalidate"),  # no hash in the name
    ("/static/js/outbox.js", "no-cache"),  # imported by the service worker
])
def test_static_files_are_served_by_caddy_with_their_cache_lifetime(stack, path, cache):
    answer = requests.get(f"{stack.origin}{path}", verify=str(stack.ca), timeout=10,
                          headers={"Accept-Encoding": "zstd, gzip"}, stream=True)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == cache
    assert answer.headers["Content-Encoding"] == "zstd"
    assert answer.headers["Server"] == "Caddy"  # a proxied answer carries gunicorn's too
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    etag = answer.headers["ETag"]
    again = requests.get(f"{stack.origin}{path}", verify=str(stack.ca), timeout=10,
                         headers={"If-None-Match": etag, "Accept-Encoding": "zstd, gzip"})
    assert again.status_code == 304
    assert "/static/" not in stack.log("gunicorn"), "gunicorn served a static file"
    assert '"GET /api/v1/categories HTTP/1.1" 200' in stack.log("gunicorn")  # its access log is on


class _Assets(HTMLParser):
    """What a browser fetches for a page: stylesheets, icons, the manifest, scripts, images."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "link" and found.get("rel") in {"stylesheet", "icon", "apple-touch-icon", "manifest"}:
            self.urls.append(found["href"])
        elif tag in {"script", "img"} and found.get("src"):
            self.urls.append(found["src"])


def first_visit(stack: Stack) -> tuple[dict[str, int], dict[str, int]]:
    """The bytes on the wire (compressed as a browser asks) of a visitor's first look at the home
    page with an empty cache: the page and what it loads, each path with its size; then what the
    service worker it registers fetches as it installs (static/sw.js: its script, the script it
    imports, and the shell it precaches with cache: "reload", past the browser's cache)."""
    visitor = requests.Session()
    visitor.trust_env = False
    visitor.verify = str(stack.ca)
    visitor.headers.update({"Accept-Encoding": BROWSER_ENCODINGS, "Accept-Language": "ko"})

    def weigh(url: str) -> tuple[int, requests.Response]:
        answer = visitor.get(f"{stack.origin}{url}", stream=True, timeout=10)
        assert answer.status_code == 200, url
        return len(answer.raw.read(decode_content=False)), answer

    parser = _Assets()
    parser.feed(_plain(stack, "/").decode())
    page = {url: weigh(url)[0] for url in dict.fromkeys(["/", *parser.urls])}
    worker_size, _ = weigh("/sw.js")
    config = json.loads(re.match(r"self\.CAREBANK_WORKER = (.*);\n", _plain(stack, "/sw.js").decode()).group(1))
    install = {"/sw.js": worker_size, "/static/js/outbox.js (imported)": weigh("/static/js/outbox.js")[0]}
    install |= {f"{url} (precached)": weigh(url)[0] for url in config["shell"]}
    return page, install


@needs_caddy
def test_the_home_page_first_visit_weighs_under_50_kb(stack):
    page, install = first_visit(stack)
    print(f"\nfirst visit of the home page: {sum(page.values()) / 1024:.1f} KB compressed "
          f"({json.dumps(page)}); with the service worker's install {sum((page | install).values()) / 1024:.1f} KB "
          f"({json.dumps(install)})")
    assert {"/static/css/carebank.css", "/static/js/app.js", "/static/js/outbox.js"} <= set(page)
    assert sum((page | install).values()) <= FIRST_VISIT_BUDGET, (page, install)
