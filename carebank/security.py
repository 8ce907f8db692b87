"""Security headers on every response: a strict Content Security Policy and its companions.

The policy allows exactly what the app does: its own scripts, styles, images, manifest and
service worker, and nothing inline or from another origin. That only holds while templates
carry no inline <script>, on...= handler, style= attribute or javascript: URL (a test checks
every template); JS is configured through data- attributes instead.
"""
from __future__ import annotations

from flask import Flask

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


def add_security_headers(response):
    # setdefault: a view that chose its own header (say, a looser policy) keeps it.
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
