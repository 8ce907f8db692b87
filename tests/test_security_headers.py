"""Security headers on every kind of response, and templates that a strict CSP can serve.

The policy forbids inline scripts, inline styles and javascript: URLs; a template that used
one would silently break in the browser, so the templates themselves are checked here.
"""
import re
from pathlib import Path

import pytest
from conftest import logged_in

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "X-Frame-Options": "DENY",
}


def directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_secured(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    policy = directives(response)
    assert policy, "no Content-Security-Policy"
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', 'unsafe-eval' or origin
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    # Only our own origin, never a third party or a wildcard.
    for sources in policy.values():
        assert not [s for s in sources if "://" in s or s in ("*", "http:", "https:", "'unsafe-inline'")]


@pytest.mark.parametrize("path", ["/", "/posts/", "/login", "/signup"])
def test_html_pages_carry_the_headers(client, path):
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_secured(response)


def test_a_members_page_carries_the_headers(app, make_member):
    response = logged_in(app, make_member()).get("/ledger/")
    assert response.status_code == 200
    assert_secured(response)


def test_scan_page_allows_the_camera_for_this_site_only(app, make_member):
    response = logged_in(app, make_member()).get("/scan")
    assert response.status_code == 200
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    assert_secured(response)


def test_json_answers_carry_the_headers(client):
    response = client.get("/api/v1/session")
    assert response.status_code == 200
    assert_secured(response)


def test_static_files_carry_the_headers(client):
    response = client.get("/static/css/carebank.css")
    assert response.status_code == 200
    assert_secured(response)


@pytest.mark.parametrize("path, status", [
    ("/no-such-page", 404),  # the HTML error page
    ("/api/v1/no-such-thing", 404),  # JSON error
    ("/api/v1/me", 401),
    ("/static/no-such-file.css", 404),
])
def test_error_answers_carry_the_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_secured(response)


def test_domain_errors_and_csrf_failures_carry_the_headers(client):
    refused = client.post("/api/v1/confirmations", json={"code": "nonsense"}, with_csrf=False)
    assert refused.status_code == 400
    assert_secured(refused)


def test_a_header_a_view_set_itself_is_kept(app):
    @app.get("/_own-policy")
    def own_policy():
        return "", 204, {"Content-Security-Policy": "default-src 'none'", "X-Frame-Options": "SAMEORIGIN"}

    response = app.test_client().get("/_own-policy")

    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # the rest still added


# --- templates a strict policy can serve ----------------------------------------------------

CHECKS = {
    # A <script> with anything but whitespace (or a Jinja comment) before its end tag.
    "inline <script>": re.compile(r"<script\b[^>]*>(?!\s*</script>)", re.I),
    "on...= handler": re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.I | re.S),
    "style= attribute": re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.I | re.S),
    "javascript: URL": re.compile(r"javascript\s*:", re.I),
}


def violations(html: str) -> list[str]:
    return [name for name, pattern in CHECKS.items() if pattern.search(html)]


@pytest.mark.parametrize("snippet, found", [
    ('<script>alert(1)</script>', ["inline <script>"]),
    ('<script nonce="x">\n  go()\n</script>', ["inline <script>"]),
    ('<button type="button" onclick="go()">', ["on...= handler"]),
    ('<a\n  href="/x"\n  onMouseOver = "go()">', ["on...= handler"]),
    ('<p class="a" style="color: red">', ["style= attribute"]),
    ('<a href="javascript:void(0)">', ["javascript: URL"]),
    ('<script src="/static/js/app.js" defer></script>', []),
    ('<form action="/x" data-on-save="y"><p>Turn the camera on = ready</p>', []),
    ('<div data-style="compact" class="button">', []),
])
def test_the_template_check_finds_what_the_policy_forbids(snippet, found):
    assert violations(snippet) == found


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_there_are_templates_to_check():
    assert len(templates()) > 10


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_nothing_inline_for_the_policy_to_block(path):
    assert violations(path.read_text(encoding="utf-8")) == []
