"""The start-up check of a real bank: with CAREBANK_ENV=production the app refuses to start
until every setting a bank on the internet needs is set, and names each one that is not.

Without CAREBANK_ENV nothing is checked, so `flask --app app run` on SQLite needs no set-up.
app.py calls `check` before it builds the app (which would otherwise generate a secret key
and open an SQLite file in instance/), so gunicorn's workers, `flask --app app worker` and
every command refuse alike; deploy/gunicorn.conf.py asks the same in the master, once.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click
from flask import Config

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION = "production"
MIN_SECRET_LENGTH = 32
REDIS = ("redis://", "rediss://", "unix://")


class NotReadyForProduction(click.ClickException):
    """The settings a production bank lacks. A ClickException: the flask command prints it as
    one clear error; under gunicorn a worker that raised it fails to boot, which stops the master."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("CAREBANK_ENV=production, but the bank is not ready to start:\n"
                         + "\n".join(f"  - {problem}" for problem in problems)
                         + "\nSet them in the environment file (deploy/carebank.env.example).")


def configured() -> Config:
    """The settings as create_app reads them (config.py, then CAREBANK_* variables), without
    building the app."""
    settings = Config(str(ROOT))
    settings.from_object("config.Config")
    settings.from_prefixed_env("CAREBANK")
    return settings


def problems(settings: Mapping) -> list[str]:
    """What keeps these settings from running a production bank, one line per setting;
    nothing unless ENV is "production"."""
    env = settings.get("ENV")
    if env in (None, "", "development"):
        return []
    if env != PRODUCTION:
        return [f"CAREBANK_ENV must be {PRODUCTION!r} (or unset, for trying the app), not {env!r}"]
    return [f"CAREBANK_{name}: {needed}" for name, needed in _missing(settings)]


def _missing(settings: Mapping):
    def text(name: str) -> str:
        value = settings.get(name)
        return "" if value is None else str(value)

    if len(text("SECRET_KEY")) < MIN_SECRET_LENGTH:
        # Generated into instance/ otherwise: lost with the machine, and every login with it.
        yield "SECRET_KEY", f"set it explicitly, at least {MIN_SECRET_LENGTH} random characters"
    if not text("BASE_URL").startswith("https://"):
        yield "BASE_URL", "the bank's https:// origin (put in QR codes and e-mails)"
    if not text("DATABASE_URL").startswith("postgresql"):
        yield "DATABASE_URL", "a PostgreSQL database (postgresql+psycopg://...), not SQLite"
    if not text("RATELIMIT_STORAGE_URI").startswith(REDIS):
        yield "RATELIMIT_STORAGE_URI", "a Redis every worker shares (redis://127.0.0.1:6379/0), not memory://"
    if not text("TASK_QUEUE_URL").startswith(REDIS):
        yield "TASK_QUEUE_URL", "a Redis for the worker's queue (redis://127.0.0.1:6379/1)"
    if not text("MAIL_SERVER"):
        yield "MAIL_SERVER", "the SMTP server that sends reset links and notifications"
    if text("MAIL_SENDER").endswith("@localhost"):
        yield "MAIL_SENDER", "an address of the bank's domain (mail from @localhost is refused)"
    if not text("VAPID_PRIVATE_KEY"):
        yield "VAPID_PRIVATE_KEY", "the Web Push signing key (base64url or PEM); else one is generated per machine"
    if not text("VAPID_SUBJECT").startswith(("mailto:", "https://")) or text("VAPID_SUBJECT").endswith("@localhost"):
        yield "VAPID_SUBJECT", "a mailto: or https: contact that push services can reach"
    if not isinstance(settings.get("TRUST_PROXY"), int) or settings.get("TRUST_PROXY") < 1:
        yield "TRUST_PROXY", "1 behind Caddy (else every visitor shares its address, and HTTPS is not seen)"
    for cookie in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if settings.get(cookie) is False:
            yield cookie, "must stay true (the default): false is only for trying the app over plain HTTP"


def check(settings: Mapping | None = None) -> None:
    """Raise NotReadyForProduction, naming each missing setting, if a production bank lacks any."""
    found = problems(configured() if settings is None else settings)
    if found:
        raise NotReadyForProduction(found)
