"""Rate limits on what an attacker would repeat: logging in, signing up, redeeming codes.

Each limit is a Flask-Limiter string read from the config at every request, so an operator,
a test or a benchmark can change it (CAREBANK_LOGIN_RATE_LIMIT="20 per minute"). The web
page and the API endpoint for the same action share one count (a `scope`), so switching
between them gains nothing. Counters live in RATELIMIT_STORAGE_URI: memory (one process) or
a Redis every worker shares. Behind a reverse proxy set CAREBANK_TRUST_PROXY, or every
visitor has the proxy's address and the per-address limits become one limit for all.

Going over a limit raises 429, which carebank.errors_web answers like any HTTP error (an
error page, or JSON under /api/), with Retry-After saying when to try again.
"""
from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from carebank.core.extensions import limiter
from carebank.members.services import normalise_email


def configured(name: str):
    """The limit string under config key `name`, looked up when a request comes."""
    return lambda: current_app.config[name]


def per_address() -> str:
    return f"address:{get_remote_address()}"


def per_account() -> str:
    """The email a login names (hashed: counter keys are no place for addresses), so one
    account cannot be tried from many addresses; without one, the client's address."""
    email = normalise_email(_submitted_email())
    if not email:
        return per_address()
    # surrogatepass: JSON can carry half a character ("\ud800"); the view refuses it, but the
    # key is made first and must not fail (Flask-Limiter would take that for a dead storage).
    return "account:" + hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()[:32]


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
    configured("LOGIN_RATE_LIMIT"), scope="login", key_func=per_address, methods=["POST"],
    deduct_when=refused)
_login_per_account = limiter.shared_limit(
    configured("LOGIN_RATE_LIMIT"), scope="login-account", key_func=per_account, methods=["POST"],
    deduct_when=refused)
signup = limiter.shared_limit(
    configured("SIGNUP_RATE_LIMIT"), scope="signup", key_func=per_address, methods=["POST"])
redeem = limiter.shared_limit(
    configured("REDEEM_RATE_LIMIT"), scope="redeem", key_func=per_member, methods=["POST"])
pin = limiter.limit(configured("CHECKIN_PIN_RATE_LIMIT"), key_func=per_member, methods=["POST"])


def login(view):
    """Failed logins limited per address and per account (the email tried)."""
    return _login_per_address(_login_per_account(view))
