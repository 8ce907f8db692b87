"""A notification as e-mail: the kind's title as the subject, its body and a link, as text and
HTML in the member's language, with RFC 8058 one-click unsubscribe for that kind.

Links are absolute: BASE_URL, else http://localhost:5000 (where `flask run` serves), since a
worker answers no request whose origin it could take.
"""
from __future__ import annotations

import smtplib
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, render_template
from flask_babel import force_locale

from carebank.core import mail
from carebank.notifications import unsubscribe
from carebank.notifications.kinds import words

if TYPE_CHECKING:
    from carebank.notifications.delivery import Job

DEFAULT_BASE_URL = "http://localhost:5000"


def send_notification(app: Flask, job: Job) -> None:
    """Send it; an SMTP failure raises (smtplib.SMTPException or OSError)."""
    _transport(app, compose(app, job))


def compose(app: Flask, job: Job) -> EmailMessage:
    leave = absolute(app, app.url_map.bind("localhost").build(
        "notifications.unsubscribe", {"token": unsubscribe.token_for(app, job.member_id, job.kind)}))
    with force_locale(job.locale):
        title, body = words(job.kind, job.params)
        values = {"name": job.name, "title": title, "body": body, "link": absolute(app, job.path),
                  "unsubscribe": leave}
        text = render_template("mail/notification.txt", **values)
        html = render_template("mail/notification.html", **values)
    message = mail.compose(app.config.get("MAIL_SENDER") or "carebank@localhost", job.address, title,
                           text, html, job.locale)
    message["List-Unsubscribe"] = f"<{leave}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def absolute(app: Flask, path: str) -> str:
    return (app.config.get("BASE_URL") or DEFAULT_BASE_URL).rstrip("/") + path


def _transport(app: Flask, message: EmailMessage) -> None:
    # carebank/core/mail.py's send_mail, for a message carrying headers of its own, and over
    # one connection per worker thread: a mail costs one exchange instead of a new session.
    server = app.config.get("MAIL_SERVER")
    if not server:
        mail.write_to_outbox(Path(app.instance_path) / "mail", message)
        return
    smtp, reused = _connection(app, server)
    try:
        smtp.send_message(message)
    except (smtplib.SMTPServerDisconnected, ConnectionError):
        _close()
        if not reused:
            raise
        # The server had closed a session it held open (its first reply never came, so nothing
        # was taken): once more, on a new one.
        smtp, _ = _connection(app, server)
        _send_or_close(smtp, message)
    except BaseException:
        _close()  # whatever state the session is in, the next mail starts a fresh one
        raise
    _kept.used = time.monotonic()


def _send_or_close(smtp: smtplib.SMTP, message: EmailMessage) -> None:
    try:
        smtp.send_message(message)
    except BaseException:
        _close()
        raise


_kept = threading.local()
# A session used this recently is taken as open (servers wait minutes before closing an idle
# one: RFC 5321 asks 5); an older one is checked with a NOOP first.
FRESH_SECONDS = 30


def _connection(app: Flask, server: str) -> tuple[smtplib.SMTP, bool]:
    """This thread's open SMTP session to `server` (checked with a NOOP when it has been idle),
    or a new one; and whether it was kept from an earlier mail."""
    key = (server, int(app.config.get("MAIL_PORT") or 25), bool(app.config.get("MAIL_USE_TLS")),
           app.config.get("MAIL_USERNAME"))
    if getattr(_kept, "key", None) == key:
        if time.monotonic() - _kept.used < FRESH_SECONDS:
            return _kept.smtp, True
        try:
            if _kept.smtp.noop()[0] == 250:
                return _kept.smtp, True
        except (smtplib.SMTPException, OSError):
            pass
    _close()
    smtp = smtplib.SMTP(server, key[1], timeout=mail.SMTP_TIMEOUT_SECONDS)
    if key[2]:
        smtp.starttls()
    if key[3]:
        smtp.login(key[3], app.config.get("MAIL_PASSWORD") or "")
    _kept.key, _kept.smtp, _kept.used = key, smtp, 0.0
    return smtp, False


def _close() -> None:
    smtp, _kept.key, _kept.smtp = getattr(_kept, "smtp", None), None, None
    if smtp is not None:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
