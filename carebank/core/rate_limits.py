"""Rate limits on what an attacker would repeat: logging in, signing up, redeeming codes.

Each limit is a Flask-Limiter string read from the config at every request, so an operator,
a test or a benchmark can change it (CAREBANK_LOGIN_RATE_LIMIT="20 per minute"). The web
page and the API endpoint for the same action share one count (a `scope`), so switching
between them gains nothing. Counters live in RATELIMIT_STORAGE_URI: memory (one process) or
a Redis every worker shares. Behind a reverse proxy set CAREBANK_TRUST_PROXY, or every
visitor has the proxy's address and the per-address limits become one limit for all.

Going over a limit raises 429, which carebank.core.error_pages answers like any HTTP error (an
error page, or JSON under /api/), with Retry-After saying when to try again.

Failed logins are limited per address and per account *from one address*, never per account
alone: that would let anyone lock a member out with ten wrong passwords. An account tried
from many addresses is slowed instead: each address that failed on it waits a few seconds,
more as the failures grow, while an address that has not failed (the member on their own
phone) goes straight in. The waits are counted in the limiter's storage, not slept.
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
import sys
import time

from flask import Flask, after_this_request, current_app, request
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from carebank.core.extensions import limiter
from carebank.members.services import normalise_email


def configured(name: str):
    """The limit string under config key `name`, looked up when a request comes."""
    return lambda: current_app.config[name]


def per_address() -> str:
    return f"address:{get_remote_address()}"


def account_key() -> str | None:
    """The email a request names, hashed (counter keys are no place for addresses); None
    when it names none."""
    email = normalise_email(_submitted_email())
    if not email:
        return None
    # surrogatepass: JSON can carry half a character ("\ud800"); the view refuses it, but the
    # key is made first and must not fail (Flask-Limiter would take that for a dead storage).
    return "account:" + hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def per_account() -> str:
    """The account a request names, so one account cannot be tried from many addresses;
    without one, the client's address."""
    return account_key() or per_address()


def per_account_here() -> str:
    """One account tried from one address: what a guesser repeats (and a member's own typos)."""
    account = account_key()
    return f"{account}|{per_address()}" if account else per_address()


def _submitted_email():
    if request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # absurdly nested JSON; the view refuses it with a 400
            return None
        return data.get("email") if isinstance(data, dict) else None
    return request.form.get("email")


def per_member() -> str:
    # Per member, not per address: carers share a centre's Wi-Fi, and phones change address.
    if current_user.is_authenticated:
        return f"member:{current_user.get_id()}"
    return per_address()


def refused(response) -> bool:
    """A login that failed (wrong password, empty form): only those count, so a member who
    logs in often, or on many phones, is never slowed down."""
    return 400 <= response.status_code < 500 and response.status_code != 429


_login_per_address = limiter.shared_limit(
    configured("LOGIN_ADDRESS_RATE_LIMIT"), scope="login", key_func=per_address, methods=["POST"],
    deduct_when=refused)
_login_per_account_here = limiter.shared_limit(
    configured("LOGIN_RATE_LIMIT"), scope="login-account-address", key_func=per_account_here,
    methods=["POST"], deduct_when=refused)
signup = limiter.shared_limit(
    configured("SIGNUP_RATE_LIMIT"), scope="signup", key_func=per_address, methods=["POST"])
redeem = limiter.shared_limit(
    configured("REDEEM_RATE_LIMIT"), scope="redeem", key_func=per_member, methods=["POST"])
pin = limiter.limit(configured("CHECKIN_PIN_RATE_LIMIT"), key_func=per_member, methods=["POST"])


# ---- logging in -----------------------------------------------------------------------------


class LoginsPaused(TooManyRequests):
    """Failed logins from this address went over a limit: `seconds` until it is heard again."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = max(1, math.ceil(seconds))


def login(view):
    """Failed logins limited per address and per account from one address, and an account
    under attack slowed, never locked; past any of them the view raises LoginsPaused."""
    limited = _login_per_address(_login_per_account_here(view))

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        account = account_key() if request.method == "POST" else None
        if account:
            address = per_address()
            if (left := _unless_storage_fails(_slowdown_left, account, address, default=0)) > 0:
                raise _paused(left)
            after_this_request(functools.partial(_count_failure, account, address))
        try:
            return limited(*args, **kwargs)
        except RateLimitExceeded:
            raise _paused(limiter.current_limit.reset_at - time.time()) from None

    return guarded


def _paused(seconds: float) -> LoginsPaused:
    paused = LoginsPaused(seconds)

    @after_this_request
    def say_when(response):  # the error handlers build their own response, without it
        response.headers["Retry-After"] = str(paused.seconds)
        return response

    return paused


def _count_failure(account: str, address: str, response):
    if refused(response):
        _unless_storage_fails(_record_failure, account, address)
    return response


def _unless_storage_fails(work, *args, default=None):
    """`work(*args)`, or `default` if the counters' storage fails: the per-address limits
    still hold meanwhile (Flask-Limiter counts them in memory until the storage is back)."""
    try:
        return work(*args)
    except Exception:  # each storage has its own errors (redis, memcached, ...)
        current_app.logger.warning("login slow-down skipped: rate-limit storage failed", exc_info=True)
        return default


def _counters() -> FixedWindowRateLimiter:
    # The limiter's storage in use (Redis shared by every worker, or the memory fallback
    # while it is down), so the web page and the API, and every worker, count together.
    return FixedWindowRateLimiter(limiter.limiter.storage)


def _slowdown_threshold() -> RateLimitItem:
    """Failures on one account, from any addresses, from which on it is slowed."""
    return parse(current_app.config["LOGIN_SLOWDOWN_AFTER"])


# The attack counter counts this far past the threshold: the wait has reached any sane
# maximum long before (it doubles each time), and a fixed window only counts so far.
DOUBLINGS = 16


def _attack_counter() -> RateLimitItem:
    threshold = _slowdown_threshold()
    return type(threshold)(threshold.amount + DOUBLINGS, threshold.multiples)


def _failure_marker() -> RateLimitItem:
    """One failure from an address on an account, remembered as long as the longest wait;
    the end of its window tells when it happened."""
    return RateLimitItemPerSecond(1, current_app.config["LOGIN_SLOWDOWN_MAX_WAIT"])


def _record_failure(account: str, address: str) -> None:
    counters = _counters()
    counters.hit(_attack_counter(), "login-attack", account)
    marker = _failure_marker()
    counters.clear(marker, "login-failed-here", account, address)  # its window starts now
    counters.hit(marker, "login-failed-here", account, address)


def _slowdown_left(account: str, address: str) -> float:
    """Seconds this address must still wait before trying this account again (0: none)."""
    counters = _counters()
    counter = _attack_counter()
    failures = counter.amount - counters.get_window_stats(counter, "login-attack", account).remaining
    extra = failures - _slowdown_threshold().amount
    if extra < 0:
        return 0
    marker = _failure_marker()
    stats = counters.get_window_stats(marker, "login-failed-here", account, address)
    if stats.remaining:
        return 0  # no failure from here lately: the member on their own phone
    failed_at = stats.reset_time - marker.get_expiry()
    config = current_app.config
    wait = min(config["LOGIN_SLOWDOWN_FIRST_WAIT"] * 2 ** extra, config["LOGIN_SLOWDOWN_MAX_WAIT"])
    return failed_at + wait - time.time()


# ---- at start -------------------------------------------------------------------------------

PER_WORKER = ("rate-limit counters are kept in memory (CAREBANK_RATELIMIT_STORAGE_URI=%s) but gunicorn "
              "runs %d workers: each counts on its own, so every limit lets that many times as much "
              "through. Set CAREBANK_RATELIMIT_STORAGE_URI to a Redis they share "
              "(e.g. redis://127.0.0.1:6379/0).")


def warn_if_counting_per_worker(app: Flask) -> None:
    """Say so in the log at start when memory counters would be one set per gunicorn worker."""
    storage = app.config["RATELIMIT_STORAGE_URI"]
    if storage.startswith("memory://") and (workers := gunicorn_workers()) > 1:
        app.logger.warning(PER_WORKER, storage, workers)


def gunicorn_workers() -> int:
    """How many workers the gunicorn serving this process was told to start (1 outside it).

    Read with gunicorn's own parser from its command line (which a worker shares with the
    master) and GUNICORN_CMD_ARGS, its default being WEB_CONCURRENCY: no I/O, nothing run.
    A config file's `workers` is not read here; deploy/gunicorn.conf.py warns for itself."""
    # gunicorn's arbiter sets SERVER_SOFTWARE; a process a worker starts inherits it, not gunicorn.
    if "gunicorn" not in sys.modules or not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
        return 1
    from gunicorn.config import Config  # only here: nothing else of the app needs gunicorn

    settings = Config()
    parser = settings.parser()
    from_command = parser.parse_known_args(sys.argv[1:])[0].workers
    from_env = parser.parse_known_args(settings.get_cmd_args_from_env())[0].workers
    return from_command or from_env or settings.workers
