"""The real app served by its own process on a loopback port, and a small client that uses it
like the PWA does (logged in through POST /api/v1/session, cookie and CSRF token kept).

A separate process, unlike the browser tests' in-thread server, can be killed with SIGKILL
half-way through a request, and its threads really run in parallel with the test's.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60  # seconds any one request may take before the test calls it hung
# Rate limits stay on (their code runs under the same load) but far above what a test sends
# from its one address; a test of the limits passes its own.
HIGH_LIMITS = {f"{name}_RATE_LIMIT": "1000 per minute" for name in ("LOGIN", "SIGNUP", "REDEEM")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`flask --app app run` against `database_url`; `config` becomes CAREBANK_* variables."""

    def __init__(self, database_url: str, log_path: Path, **config):
        self.database_url = database_url
        self.log_path = log_path
        # No task consumer in the served process: these tests race requests, not deliveries,
        # and a queue in the repo's instance/ would be shared by every test's server.
        self.config = {"SECRET_KEY": "live-test-secret", "AUTO_MIGRATE": False, "TASK_QUEUE_URL": "memory://",
                       **HIGH_LIMITS, **config}
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREBANK_", "FLASK_"))}
        env["CAREBANK_DATABASE_URL"] = self.database_url
        for name, value in self.config.items():
            env[f"CAREBANK_{name}"] = value if isinstance(value, str) else json.dumps(value)
        return env | {"PYTHONUNBUFFERED": "1"}

    def start(self, timeout: float = 30) -> LiveServer:
        """Start on a new free port and wait until it answers."""
        self.port = free_port()
        command = [sys.executable, "-m", "flask", "--app", "app", "run", "--host", "127.0.0.1",
                   "--port", str(self.port), "--no-reload", "--no-debugger", "--with-threads"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.environment(),
                                            stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_up(timeout)
        return self

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/api/v1/categories", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when the power goes."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def run_cli(self, *args: str) -> subprocess.CompletedProcess:
        """`flask --app app ARGS` on the server's database and configuration."""
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                              env=self.environment(), capture_output=True, text=True, timeout=120)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> LiveServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


class Client:
    """One phone: its own connection, cookies and CSRF token.

    Cookies are kept by hand: outside development the session cookie is Secure, and
    requests (rightly) never sends a Secure cookie over plain http, even to loopback."""

    def __init__(self, base_url: str, cookies: dict | None = None, csrf_token: str | None = None):
        self.base_url = base_url
        self.cookies = dict(cookies or {})
        self.csrf_token = csrf_token
        self.http = requests.Session()
        self.http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # keep none itself

    def request(self, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        headers = {"Accept-Language": "en", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if method.upper() != "GET" and self.csrf_token:
            headers.setdefault("X-CSRFToken", self.csrf_token)
        response = self.http.request(method, self.base_url + path, headers=headers,
                                     allow_redirects=False, timeout=TIMEOUT, **kwargs)
        self.cookies.update(response.cookies.get_dict())
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def refresh_csrf(self) -> str:
        self.csrf_token = self.get("/api/v1/session").json()["csrf_token"]
        return self.csrf_token

    def login(self, email: str, password: str) -> Client:
        self.refresh_csrf()
        response = self.post("/api/v1/session", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.refresh_csrf()  # the session may be a new one after login
        return self

    def state(self) -> dict:
        """What another thread or process needs to act as the same logged-in phone."""
        return {"base_url": self.base_url, "cookies": self.cookies, "csrf_token": self.csrf_token}

    def clone(self) -> Client:
        return Client(**self.state())


def answer(response: requests.Response) -> tuple[int, object]:
    """(status, parsed JSON or text) — picklable, and readable in an assertion message."""
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:300]


def fire_threads(clients: list[Client], path: str | list[str], payloads: list,
                 headers: list | None = None, answered: threading.Semaphore | None = None) -> list:
    """POST payloads[i] (None: no body) with clients[i] to path (or path[i]), all released at
    once by a barrier; answers in order (an exception in a thread is ("raised", repr)).
    `answered` is released once per response received, for a test that acts mid-burst."""
    paths = path if isinstance(path, list) else [path] * len(clients)
    barrier = threading.Barrier(len(clients))
    answers = [None] * len(clients)

    def run(i: int) -> None:
        barrier.wait(timeout=TIMEOUT)
        try:
            extra = headers[i] if headers else None
            answers[i] = answer(clients[i].post(paths[i], json=payloads[i], headers=extra))
        except Exception as error:
            answers[i] = ("raised", repr(error))
        else:
            if answered is not None:
                answered.release()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return answers


def _process_main(index: int, state: dict, path: str, payloads: list, barrier, results) -> None:
    """One process: wait for the others, then send its payloads at once from threads."""
    clients = [Client(**state) for _ in payloads]
    barrier.wait(timeout=TIMEOUT)
    results.put((index, fire_threads(clients, path, payloads)))


def fire_processes(client: Client, path: str, payloads_per_process: list[list]) -> list:
    """POST from several processes (each with one thread per payload), all released together;
    the answers of every process, in order. Spawned, not forked: the test process has threads
    and database connections that a fork would copy."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(payloads_per_process))
    results = context.Queue()
    processes = [
        context.Process(target=_process_main, args=(i, client.state(), path, payloads, barrier, results))
        for i, payloads in enumerate(payloads_per_process)
    ]
    for process in processes:
        process.start()
    try:
        collected = dict(results.get(timeout=TIMEOUT * 2) for _ in processes)
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return [collected[i] for i in range(len(processes))]
