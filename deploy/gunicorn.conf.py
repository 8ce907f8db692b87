"""gunicorn's settings for carebank: `gunicorn -c deploy/gunicorn.conf.py app:app`, behind Caddy
(deploy/Caddyfile; set CAREBANK_TRUST_PROXY=1). Command-line options override these."""
import os
import sys
from pathlib import Path

from flask import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # config.py, wherever gunicorn was started from

bind = "127.0.0.1:8000"  # only the proxy on this machine talks to the workers
# gunicorn's rule of thumb: sync workers spend much of a request waiting on the database.
workers = 2 * (os.cpu_count() or 1) + 1
timeout = 30  # a request still running after this is stuck: the worker is restarted
graceful_timeout = 30  # on reload or stop, requests under way get this long to finish
keepalive = 5  # the proxy reuses its connections to the workers
accesslog = "-"  # beside the error log on stderr, for the service manager's journal
# Behind Caddy every request comes from 127.0.0.1: log the visitor's address it forwards
# instead, and how long the request took (%(M)s, milliseconds).
access_log_format = '%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
proc_name = "carebank"


def rate_limit_storage() -> str:
    """RATELIMIT_STORAGE_URI read the way the app reads it (config.py's default, then the
    CAREBANK_* variables), without building the app in the master."""
    settings = Config(str(ROOT))
    settings.from_object("config.Config")
    settings.from_prefixed_env("CAREBANK")
    return settings["RATELIMIT_STORAGE_URI"]


def on_starting(server):
    """CAREBANK_ENV=production with settings missing: say which once, from the master, and stop
    before any worker starts (each would refuse the same way in app.py)."""
    from carebank.core import production

    try:
        production.check()
    except production.NotReadyForProduction as error:
        server.log.error("%s", error.format_message())
        sys.exit(1)


def when_ready(server):
    """Memory counters are one set per worker: a limit of 10 would let 10 per worker through."""
    storage = rate_limit_storage()
    if server.cfg.workers > 1 and storage.startswith("memory://"):
        server.log.warning(
            "rate-limit counters are kept in memory (CAREBANK_RATELIMIT_STORAGE_URI=%s) but %d workers "
            "will run: each counts on its own, so every limit lets that many times as much through. "
            "Set CAREBANK_RATELIMIT_STORAGE_URI to a Redis they share (e.g. redis://127.0.0.1:6379/0).",
            storage, server.cfg.workers)
