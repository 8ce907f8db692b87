"""Rate-limit counters in memory belong to one process: under gunicorn with several workers
each worker counts on its own (with -w 2, 19 wrong logins got through a limit of 10). The app
says so in the log at start, and so does deploy/gunicorn.conf.py's master; with one worker,
or counters in a Redis the workers share, nothing is said.

Each test starts the real app under gunicorn on a free loopback port and reads its log."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests
from livesrv import ROOT, LiveServer, free_port
from test_rate_limits import REDIS_URL

FROM_THE_APP = "WARNING in rate_limits: rate-limit counters are kept in memory"
FROM_THE_MASTER = "[WARNING] rate-limit counters are kept in memory"
CONFIG_FILE = str(ROOT / "deploy" / "gunicorn.conf.py")


class Gunicorn(LiveServer):
    """The app served by gunicorn, started with `arguments` and the extra environment `env`."""

    def __init__(self, database_url, log_path, arguments, env=None, **config):
        super().__init__(database_url, log_path, **config)
        self.arguments = arguments
        self.env = env or {}

    def environment(self) -> dict:
        # gunicorn reads these too: only the ones a test sets count.
        env = {k: v for k, v in super().environment().items() if k not in {"WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}}
        return env | self.env

    def start(self, timeout: float = 60) -> Gunicorn:
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", *self.arguments, "--bind", f"127.0.0.1:{self.port}",
                   "--no-control-socket", "app:app"]  # no socket in ~/.gunicorn shared with other runs
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.environment(),
                                            stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_answered(timeout)
        return self

    def _wait_until_answered(self, timeout: float) -> None:
        # gunicorn listens before its workers have loaded the app: a request may wait, not fail.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                requests.get(f"{self.url}/api/v1/categories", timeout=5).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log()}")


def served_log(database_url, tmp_path, arguments, env=None, **config) -> str:
    """The log of gunicorn started so, once a worker has loaded the app and answered."""
    with Gunicorn(database_url, tmp_path / "gunicorn.log", arguments, env, **config) as server:
        pass
    return server.log()


@pytest.mark.parametrize(("arguments", "env"), [
    (["-w", "2"], None),
    ([], {"GUNICORN_CMD_ARGS": "--workers 2"}),
    ([], {"WEB_CONCURRENCY": "2"}),
], ids=["command line", "GUNICORN_CMD_ARGS", "WEB_CONCURRENCY"])
def test_two_workers_counting_in_memory_are_warned_about(database_url, tmp_path, arguments, env):
    log = served_log(database_url, tmp_path, arguments, env)
    assert FROM_THE_APP in log, log
    assert "CAREBANK_RATELIMIT_STORAGE_URI" in log  # says what to set


def test_the_deploy_config_warns_from_the_master_too(database_url, tmp_path):
    log = served_log(database_url, tmp_path, ["-c", CONFIG_FILE, "-w", "2"])
    assert FROM_THE_MASTER in log and FROM_THE_APP in log, log
    assert '"GET /api/v1/categories HTTP/1.1" 200' in log  # the access log is on


@pytest.mark.parametrize(("arguments", "config"), [
    (["-w", "1"], {}),
    (["-w", "2"], {"RATELIMIT_STORAGE_URI": REDIS_URL}),
    (["-c", CONFIG_FILE, "-w", "2"], {"RATELIMIT_STORAGE_URI": REDIS_URL}),
], ids=["one worker", "redis", "redis, deploy config"])
def test_one_worker_or_shared_counters_are_not_warned_about(database_url, tmp_path, arguments, config):
    log = served_log(database_url, tmp_path, arguments, **config)
    assert "Booting worker" in log and "rate-limit counters" not in log, log
