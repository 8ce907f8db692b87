"""Sending mail: through the SMTP server configured (MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS for
STARTTLS, MAIL_USERNAME and MAIL_PASSWORD, from MAIL_SENDER), or, with no server configured,
into instance/mail/ as .eml files, so a newcomer running the app sees what would have gone
out (any mail program opens them)."""
from __future__ import annotations

import smtplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import Flask

SMTP_TIMEOUT_SECONDS = 10


def send_mail(app: Flask, to: str, subject: str, text: str, html: str, *, language: str | None = None) -> None:
    """Send one message with a plain text and an HTML part; an SMTP failure raises
    (smtplib.SMTPException or OSError) for the caller to log."""
    message = compose(app.config.get("MAIL_SENDER") or "carebank@localhost", to, subject, text, html, language)
    server = app.config.get("MAIL_SERVER")
    if not server:
        write_to_outbox(Path(app.instance_path) / "mail", message)
        return
    with smtplib.SMTP(server, int(app.config.get("MAIL_PORT") or 25), timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if app.config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if app.config.get("MAIL_USERNAME"):
            smtp.login(app.config["MAIL_USERNAME"], app.config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


def compose(sender: str, to: str, subject: str, text: str, html: str, language: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if language:  # after the content: setting it drops every Content-* header
        message["Content-Language"] = language
    return message


def write_to_outbox(folder: Path, message: EmailMessage) -> Path:
    """Keep the message as an .eml file named by when it was written."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes())
    return path
