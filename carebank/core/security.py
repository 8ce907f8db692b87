"""Transport and session security: headers on every response, HSTS and Secure cookies over
HTTPS, the proxy we trust, and a new session at every login.

The Content Security Policy allows exactly what the app does: its own scripts, styles, images,
manifest and service worker, and nothing inline or from another origin. That only holds while
templates carry no inline <script>, on...= handler, style= attribute or javascript: URL (a
test checks every template); JS is configured through data- attributes instead.
"""
from __future__ import annotations

import ipaddress
from datetime import timedelta
from urllib.parse import urlsplit

import flask
from flask import Flask, current_app, g, has_request_context, request, session
from flask_login import login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.members import services as members

# Each directive with why its sources are needed; default-src covers anything not listed.
# Sources the brief's first draft had and the app does not use are left out on purpose:
# img-src data: (no data: URI in our CSS, JS or markup), media-src blob: (the camera stream
# is attached with video.srcObject, which CSP does not govern) and worker-src blob: (jsQR
# decodes on the page's own thread; the only worker is /sw.js). Add one back with its reason
# if a change needs it: a CSP violation in the browser tests will say so.
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",  # our files in static/js and the vendored jsQR; nothing inline
    "style-src": "'self'",  # one stylesheet; the QR is inline SVG with fill attributes, no styles
    # blob: the photo fallback shows a chosen picture to an <img> through an object URL where
    # the browser lacks createImageBitmap (static/js/scan.js).
    "img-src": "'self' blob:",
    "media-src": "'self'",
    "connect-src": "'self'",  # fetch() to our API, from pages and the service worker
    "worker-src": "'self'",  # the service worker, /sw.js
    "manifest-src": "'self'",
    "font-src": "'self'",  # no web fonts today; never another origin's
    "object-src": "'none'",  # no plugins
    "base-uri": "'self'",  # an injected <base> cannot redirect relative URLs elsewhere
    "form-action": "'self'",  # forms post only to us
    "frame-ancestors": "'none'",  # no page of ours inside another site's frame (clickjacking)
}
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {sources}" for name, sources in CSP_DIRECTIVES.items())

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",  # a JSON or uploaded file is never run as a script
    "Referrer-Policy": "same-origin",  # code and exchange URLs never leak to other sites
    # The scanner needs the camera on our own pages; nothing needs a microphone or location.
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


# A browser that once saw this over HTTPS never uses plain HTTP for the site again (a year).
# Sent over HTTPS only: over HTTP it would be ignored, and it must not stick to localhost.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def add_security_headers(response):
    # setdefault: a view that chose its own header (say, a looser policy) keeps it.
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


class Response(flask.Response):
    """Flask's response, but a cookie asked to be Secure (SESSION_COOKIE_SECURE and
    REMEMBER_COOKIE_SECURE, on by default) is not, on plain HTTP to this machine."""

    def set_cookie(self, key, *args, secure: bool = False, **kwargs):
        super().set_cookie(key, *args, secure=secure and not plain_http_to_this_machine(), **kwargs)


def plain_http_to_this_machine() -> bool:
    """Whether this request came over plain HTTP to localhost or a loopback address: the
    quick start's `flask run`. The traffic never leaves the machine, so Secure protects
    nothing there, and Safari would refuse such a cookie (and the login with it). Decided by
    the Host the browser asked for: behind a proxy that forwards HTTPS (TRUST_PROXY) the
    request is secure whatever the Host says."""
    if not has_request_context() or request.is_secure:
        return False
    try:
        name = urlsplit(f"//{request.host}").hostname or ""
        return name == "localhost" or name.endswith(".localhost") or ipaddress.ip_address(name).is_loopback
    except ValueError:  # a host name, or a malformed Host header: keep the cookie Secure
        return False


# Session rotation. Flask's session is the signed cookie itself, so "rotating" it means:
# start the logged-in session empty instead of adding the login to whatever the browser sent.
# A session someone planted before the login (on a shared phone, or by a cookie set from a
# sibling domain) then carries nothing into it — above all not its CSRF secret, which that
# person would know — and the cookie value changes. What survives a login lives elsewhere:
# the language in its own cookie, the next page in the URL.
#
# Each login is also a row on the server (members.models.LoginSession): the cookies carry its
# random token, never the member number, and the user loader accepts a token only while its
# row exists. Logging out deletes the row, so a copy of the session or remember-me cookie
# taken before stops working too; a password change ends the member's other logins, a reset
# and a deactivation all of them.
#
# Flask-Login's session protection stays "basic" (a session whose address or browser changed
# is marked not fresh). "strong" would log a member out whenever their phone moves between
# Wi-Fi and mobile data, which on a carer's rounds is all day; nothing here asks for a
# fresh login, so "basic" costs nothing.


def start_session(member, *, remember: bool = False) -> None:
    """Log the member in on a new, empty session, recorded as a new login (flushed; the
    caller's commit point commits it)."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF keeps this request's token here; it signed the old secret
    member.login_token = members.open_login(db.session, member, forget_before=utcnow() - _longest_cookie_life())
    login_user(member, remember=remember)


def _longest_cookie_life() -> timedelta:
    """How long a login's cookies can stay valid: a session cookie's signature expires after
    PERMANENT_SESSION_LIFETIME, a remember-me cookie after REMEMBER_COOKIE_DURATION (Flask-Login:
    a year). An older login is dead and its row can go."""
    remember = current_app.config.get("REMEMBER_COOKIE_DURATION") or timedelta(days=365)
    remember = remember if isinstance(remember, timedelta) else timedelta(seconds=int(remember))
    return max(remember, current_app.permanent_session_lifetime)


def current_login() -> str | None:
    """The token of this request's login (from the session, or the remember-me cookie that
    Flask-Login has just turned into one), or None."""
    return session.get("_user_id")


def end_session() -> None:
    """Log out: end this login on the server (flushed) and forget everything the session held."""
    members.end_login(db.session, current_login())
    session.clear()
    g.pop("csrf_token", None)
    logout_user()  # after clear(): it leaves the note that deletes the remember-me cookie


def trust_proxy(app: Flask) -> None:
    """Believe X-Forwarded-For and -Proto from TRUST_PROXY proxies (their number), and no one else."""
    hops = int(app.config.get("TRUST_PROXY") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register(app: Flask) -> None:
    trust_proxy(app)
    app.response_class = Response
    app.after_request(add_security_headers)
