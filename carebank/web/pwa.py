"""The installable app: web app manifest, service worker and the offline page.

The worker's source is static/sw.js; it is served from /sw.js (so its scope is the whole
site) with a small config in front: the shell's version and the files to precache. The
version is a hash of the shell's bytes, so any change to them gives phones a new worker and
a fresh cache. What the worker may cache is decided by the server: it never stores a
response marked `Cache-Control: no-store`, which every page of a logged-in member is.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from flask import Blueprint, current_app, make_response, render_template, url_for
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _

from carebank.confirmations.services import CONFIRM_PATH

bp = Blueprint("pwa", __name__)

# Static files the offline page and every page need, cached when the worker installs.
SHELL_STATIC = (
    "css/carebank.css",
    "js/outbox.js",
    "js/app.js",
    "icons/favicon-32.png",
    "icons/apple-touch-icon.png",
    "icons/icon-192.png",
)
WORKER_SOURCE = "sw.js"
# The offline page is precached too, so what it is made of is part of the version.
OFFLINE_TEMPLATES = ("offline.html", "_outbox.html", "_pwa_head.html")
THEME_COLOUR = "#0b5d3b"
BACKGROUND_COLOUR = "#f3f5f2"
# Sent with a logout: the browser drops its caches and the site's storage (the worker's
# caches, its registration, the IndexedDB outbox), even where our JavaScript never ran.
CLEAR_SITE_DATA = '"cache", "storage"'


def shell_version(paths: Iterable[Path]) -> str:
    """A short hash of the files' bytes: it changes when any of them does."""
    digest = hashlib.sha256()
    for path in paths:
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big"))  # so moving bytes between files counts
        digest.update(data)
    return digest.hexdigest()[:12]


def shell_files(app) -> list[Path]:
    static = Path(app.static_folder)
    templates = Path(app.template_folder)
    catalogues = sorted((Path(app.root_path) / "translations").glob("*/LC_MESSAGES/messages.mo"))
    return [static / WORKER_SOURCE, *(static / name for name in SHELL_STATIC),
            *(templates / name for name in OFFLINE_TEMPLATES), *catalogues]


def _worker_script() -> str:
    """The worker as served: computed once per process (every request in debug mode)."""
    app = current_app
    cached = app.extensions.get("carebank.worker")
    if cached is None or app.debug:
        config = {
            "version": shell_version(shell_files(app)),
            "shell": [url_for(".offline"), *(url_for("static", filename=name) for name in SHELL_STATIC)],
            "offline": url_for(".offline"),
        }
        source = (Path(app.static_folder) / WORKER_SOURCE).read_text(encoding="utf-8")
        cached = f"self.CAREBANK_WORKER = {json.dumps(config)};\n{source}"
        app.extensions["carebank.worker"] = cached
    return cached


@bp.route("/sw.js")
def service_worker():
    response = make_response(_worker_script())
    response.mimetype = "text/javascript"
    # Browsers check for a new worker on every visit; no-cache makes that check reach us.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def _icon(name: str, size: int, purpose: str = "any") -> dict:
    return {"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}",
            "type": "image/png", "purpose": purpose}


@bp.route("/manifest.webmanifest")
def manifest():
    response = current_app.response_class(json.dumps(_manifest(), ensure_ascii=False),
                                          mimetype="application/manifest+json")
    # Names follow the member's language, so a cached copy must be checked with us.
    response.headers["Cache-Control"] = "no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response


def _manifest() -> dict:
    """The web app manifest, in the member's language."""
    return {
        "id": "/",
        "name": _("Carebank"),
        # Under the icon on a home screen: translators keep it short (about 12 characters).
        "short_name": pgettext("short app name", "Carebank"),
        "description": _("Give an hour of care, receive an hour of care. "
                         "Everyone can give, and everyone can receive."),
        "lang": str(get_locale()),
        "dir": "ltr",
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND_COLOUR,
        "theme_color": THEME_COLOUR,
        "icons": [
            _icon("icon-192.png", 192),
            _icon("icon-512.png", 512),
            _icon("maskable-512.png", 512, "maskable"),
        ],
        "shortcuts": [
            {"name": _("Scan"), "url": url_for("scan.scan"), "icons": [_icon("scan-96.png", 96)]},
            {"name": _("New post"), "url": url_for("posts.new"), "icons": [_icon("new-post-96.png", 96)]},
        ],
    }


@bp.route("/offline")
def offline():
    """What the worker shows for a page it may not keep. It holds nothing personal (the
    template reads no member data), so it may be cached even for a logged-in member."""
    response = make_response(render_template("offline.html", confirm_path=CONFIRM_PATH))
    response.headers["Cache-Control"] = "no-cache"
    # The worker fetches the page again when the member's language is no longer this one.
    response.headers["Content-Language"] = str(get_locale())
    return response
