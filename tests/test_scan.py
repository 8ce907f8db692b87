"""The scan page as the server sends it (tests/browser/test_scanner.py runs it in Chromium):
logged-in only, in both languages, a typed-code form that works without JavaScript, the QR
decoder loaded here and nowhere else, and the maker's code page that it reads."""
import re
from pathlib import Path

import pytest
from conftest import balance, csrf_from, logged_in

from carebank.confirmations import services as confirmations

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
JSQR = "vendor/jsQR-1.4.0.js"


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def script_sources(html: str) -> list[str]:
    return re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', html)


@pytest.fixture
def member(make_member):
    return make_member("Kim Young-ja")


def test_a_visitor_is_sent_to_log_in_first(client):
    response = client.get("/scan")
    assert response.status_code == 302
    assert response.location.startswith("/login") and "next=%2Fscan" in response.location


@pytest.mark.parametrize(("language", "confirm_button"), [("ko", "방문 확인하기"), ("en", "Confirm the visit")])
def test_scan_page_renders_in_korean_and_english(app, make_member, language, confirm_button):
    page = html_of(logged_in(app, make_member(locale=language)).get("/scan"))
    assert f'<html lang="{language}">' in page
    assert confirm_button in page
    assert 'aria-current="page"' in page.split('href="/scan"')[1][:40]  # "Scan" is lit in the nav


def test_without_javascript_the_page_offers_the_typed_code_form(app, member):
    page = html_of(logged_in(app, member).get("/scan"))
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    assert form.group(1) == "/confirm"
    assert 'name="code"' in form.group(2) and 'name="csrf_token"' in form.group(2)
    # The camera and photo parts need JavaScript: a stylesheet loaded only without it collapses
    # them (with it, their space is kept while scan.js loads, so nothing jumps).
    assert page.count('class="card needs-js" data-needs-js') == 2
    noscript = re.search(r"<noscript><link rel=\"stylesheet\" href=\"([^\"]+)\"></noscript>", page)
    assert noscript and noscript.group(1) == "/static/css/noscript.css"
    assert ".needs-js { display: none; }" in (ROOT / "static" / "css" / "noscript.css").read_text()


def test_the_typed_code_from_the_scan_page_confirms_the_visit(app, session, policy, make_exchange):
    exchange = make_exchange(minutes=90)
    code, token = confirmations.make_code(session, exchange.provider, exchange.id, 90, policy)
    session.commit()
    receiver_phone = logged_in(app, exchange.receiver)
    page = html_of(receiver_phone.get("/scan"))
    # With the dashes shown on the maker's screen, as a person types it.
    preview = receiver_phone.post("/confirm", data={
        "csrf_token": csrf_from(page), "code": confirmations.display_code(token)})
    assert preview.status_code == 200 and balance(session, exchange.provider) == 0  # shown first
    response = receiver_phone.post(f"/c/{token}", data={"csrf_token": csrf_from(html_of(preview))})
    assert response.status_code == 302 and response.location == f"/exchanges/{exchange.id}"
    assert balance(session, exchange.provider) == 90
    assert balance(session, exchange.receiver) == -90


def test_scan_page_loads_the_scanner_and_fetches_the_decoder_only_when_needed(app, client, member):
    page = html_of(logged_in(app, member).get("/scan"))
    sources = script_sources(page)
    assert "/static/js/scan.js" in sources
    assert f"/static/{JSQR}" not in sources  # scan.js loads it only where there is no native detector
    assert f'data-jsqr-src="/static/{JSQR}"' in page
    assert "<script>" not in page and " style=" not in page
    for source in [*sources, f"/static/{JSQR}"]:
        served = client.get(source)
        assert served.status_code == 200 and served.mimetype.endswith("javascript"), source


@pytest.mark.parametrize("url", ["/", "/posts/", "/ledger/", "/exchanges/", "/confirm"])
def test_no_other_page_loads_the_decoder(app, member, url):
    page = html_of(logged_in(app, member).get(url))
    assert "jsQR" not in page and "scan.js" not in page


def test_every_message_the_scanner_shows_reaches_it_translated(app, member):
    """scan.js shows `say("name")` from the page's data-msg-name: a missing one would be a
    blank status for a screen reader to announce."""
    script = (ROOT / "static" / "js" / "scan.js").read_text()
    used = set(re.findall(r'say\("([a-z-]+)"', script))
    page = html_of(logged_in(app, member).get("/scan"))
    given = dict(re.findall(r'data-msg-([a-z-]+)="([^"]*)"', page))
    assert used and used <= set(given)
    assert all(given[name].strip() for name in used)
    assert given["not-ours"] == "This QR code is not a Carebank confirmation code"
    assert given["saved"] == "Saved — will confirm when online"


def test_scan_page_tells_the_scanner_which_urls_are_confirmation_codes(app, member):
    page = html_of(logged_in(app, member).get("/scan"))
    assert 'data-confirm-prefix="/c/"' in page
    assert 'data-code-origin="http://localhost"' in page
    app.config["BASE_URL"] = "https://care.example.org"  # what QR codes carry when configured
    page = html_of(logged_in(app, member).get("/scan"))
    assert 'data-code-origin="https://care.example.org"' in page


def test_the_vendored_decoder_is_pinned_and_licensed():
    decoder = (VENDOR / "jsQR-1.4.0.js").read_text()
    assert 'root["jsQR"] = factory()' in decoder  # defines window.jsQR
    assert "eval(" not in decoder and "new Function" not in decoder  # runs under the strict CSP
    assert "Apache License" in (VENDOR / "jsQR-1.4.0.LICENSE").read_text()
    assert "jsqr@1.4.0" in (VENDOR / "README.md").read_text()


# The maker's code page, which the scanner reads


def test_live_code_page_keeps_the_screen_awake_and_reloads_without_javascript(app, session, policy, make_exchange):
    exchange = make_exchange()
    maker = logged_in(app, exchange.provider)
    response = maker.post(f"/exchanges/{exchange.id}/codes", data={"hours": 1, "extra_minutes": 0})
    page = html_of(maker.get(response.location))
    assert "/static/js/code.js" in script_sources(page)
    assert 'data-code-state="live"' in page  # what code.js looks for to know it is still live
    # Without JavaScript the page reloads itself; with it, code.js checks without reloading.
    assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in page
    assert "Turn your screen brightness up" in page
    grouped = re.search(r'class="code-text">([0-9A-Z-]+)<', page).group(1)
    assert len(grouped) == 26 + 6 and grouped.count("-") == 6


def test_confirmed_code_page_stops_checking(app, session, policy, make_exchange):
    exchange = make_exchange()
    maker = logged_in(app, exchange.provider)
    code_url = maker.post(f"/exchanges/{exchange.id}/codes", data={"hours": 1, "extra_minutes": 0}).location
    token = re.search(r'class="code-text">([0-9A-Z-]+)<', html_of(maker.get(code_url))).group(1)
    logged_in(app, exchange.receiver).post(f"/c/{token.replace('-', '')}")
    page = html_of(maker.get(code_url))
    assert 'data-code-state="redeemed"' in page
    assert "code.js" not in page and "refresh" not in page


def test_the_scan_page_holds_nothing_personal_so_it_can_work_offline(client, make_member):
    member = make_member("Park Min-su")
    client.login(member)
    response = client.get("/scan")
    assert response.headers["Cache-Control"] == "no-cache, private"
    assert 'class="balance-pill' not in response.get_data(as_text=True)
    assert client.get("/ledger/").headers["Cache-Control"] == "no-store"  # personal stays out
