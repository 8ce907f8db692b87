"""The installable app over HTTP: manifest, icons, service worker, offline page, and the
server's part in never caching personal pages (the worker itself runs in tests/browser)."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from carebank.web import pwa

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"


def manifest_of(client, lang: str) -> dict:
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": lang})
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    return response.get_json(force=True)


def icon_path(src: str) -> Path:
    assert src.startswith("/static/")
    return STATIC / src.removeprefix("/static/")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def png_pixels(path: Path) -> list[list[tuple[int, int, int]]]:
    """A small PNG reader for the icons (8-bit palette or RGB/RGBA, not interlaced)."""
    data = path.read_bytes()
    pos, chunks = 8, {}
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunks.setdefault(kind, b"")
        chunks[kind] += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and interlace == 0 and colour in (2, 3, 6)
    channels = {2: 3, 3: 1, 6: 4}[colour]
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = previous[i], previous[i - channels] if i >= channels else 0
            line[i] = (line[i] + [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]) & 0xFF
        rows.append(line)
        previous = line
    if colour == 3:
        palette = chunks[b"PLTE"]
        return [[tuple(palette[3 * i:3 * i + 3]) for i in row] for row in rows]
    return [[tuple(row[x:x + 3]) for x in range(0, stride, channels)] for row in rows]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def test_manifest_makes_the_app_installable(client):
    manifest = manifest_of(client, "en")
    assert manifest["name"] == "Carebank" and manifest["short_name"]
    assert manifest["lang"] == "en" and manifest["dir"] == "ltr"
    assert manifest["start_url"] == "/?source=pwa" and manifest["scope"] == "/" and manifest["id"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0b5d3b" and manifest["background_color"].startswith("#")
    assert manifest["description"]
    purposes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
    shortcuts = {shortcut["url"]: shortcut for shortcut in manifest["shortcuts"]}
    assert set(shortcuts) == {"/scan", "/posts/new"}
    assert shortcuts["/scan"]["name"] == "Scan" and shortcuts["/posts/new"]["name"] == "New post"
    assert all(s["icons"][0]["sizes"] == "96x96" for s in shortcuts.values())


def test_manifest_speaks_the_members_language(client):
    korean, english = manifest_of(client, "ko"), manifest_of(client, "en")
    assert korean["lang"] == "ko"
    assert korean["name"] == "돌봄 시간 은행" != english["name"]
    assert korean["shortcuts"][1]["name"] != english["shortcuts"][1]["name"]  # New post


def test_every_icon_the_manifest_names_is_a_small_png_of_its_declared_size(client):
    manifest = manifest_of(client, "en")
    icons = manifest["icons"] + [icon for shortcut in manifest["shortcuts"] for icon in shortcut["icons"]]
    for icon in icons:
        path = icon_path(icon["src"])
        side = int(icon["sizes"].split("x")[0])
        assert icon["type"] == "image/png"
        assert png_size(path) == (side, side), icon["src"]
        assert path.stat().st_size < 8_000, f"{path.name} is heavier than an icon needs to be"
        assert client.get(icon["src"]).status_code == 200


def test_the_maskable_icon_keeps_its_drawing_inside_the_safe_zone(client):
    """Launchers crop maskable icons to shapes as small as a circle of 80 % of the width:
    everything but the background must sit inside it, and the background fills the corners."""
    maskable = next(i for i in manifest_of(client, "en")["icons"] if i["purpose"] == "maskable")
    pixels = png_pixels(icon_path(maskable["src"]))
    size = len(pixels)
    background = pixels[0][0]
    radius = 0.4 * size
    outside = [(x, y) for y, row in enumerate(pixels) for x, colour in enumerate(row)
               if colour != background and (x + 0.5 - size / 2) ** 2 + (y + 0.5 - size / 2) ** 2 > radius ** 2]
    assert not outside, f"{len(outside)} drawn pixels fall outside the safe zone, e.g. {outside[:3]}"
    assert any(colour != background for row in pixels for colour in row)  # the drawing exists


def test_pages_link_the_manifest_icons_and_scripts(client):
    page = client.get("/").get_data(as_text=True)
    for needed in ('rel="manifest" href="/manifest.webmanifest"', 'rel="icon"', 'rel="apple-touch-icon"',
                   'src="/static/js/outbox.js" defer', 'src="/static/js/app.js" defer'):
        assert needed in page


def test_service_worker_is_served_from_the_root_and_always_revalidated(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    script = response.get_data(as_text=True)
    with client.application.app_context():
        version = pwa.shell_version(pwa.shell_files(client.application))
    assert f'"version": "{version}"' in script
    assert '"/offline"' in script and '"/static/css/carebank.css"' in script
    assert "importScripts(\"/static/js/outbox.js\")" in script


def test_shell_version_changes_when_a_shell_file_changes(tmp_path):
    css, js = tmp_path / "a.css", tmp_path / "a.js"
    css.write_text("body { color: black }")
    js.write_text("let a = 1;")
    before = pwa.shell_version([css, js])
    assert pwa.shell_version([css, js]) == before  # the same bytes, the same cache
    js.write_text("let a = 2;")
    assert pwa.shell_version([css, js]) != before
    js.write_text("let a = 1;")
    css.write_text("body { color: black}")  # bytes moved between files still count
    js.write_text(" let a = 1;")
    assert pwa.shell_version([css, js]) != before


def test_the_shell_version_covers_the_worker_and_the_offline_page(app):
    names = {path.name for path in pwa.shell_files(app)}
    assert {"sw.js", "carebank.css", "app.js", "outbox.js", "offline.html", "_outbox.html"} <= names
    assert all(path.exists() for path in pwa.shell_files(app))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_offline_page_says_what_still_works(client, lang):
    response = client.get("/offline", headers={"Accept-Language": lang})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in page and response.headers["Content-Language"] == lang
    assert "data-outbox" in page and 'href=""' in page  # the pending list, and a retry link


def test_offline_page_holds_nothing_personal_so_the_worker_may_keep_it(client, make_member):
    member = make_member("Kim Young-ja")
    client.login(member)
    response = client.get("/offline")
    page = response.get_data(as_text=True)
    assert "no-store" not in response.headers["Cache-Control"]
    assert "Kim Young-ja" not in page and "balance-pill" not in page and "csrf_token" not in page


def test_member_pages_are_marked_no_store_and_visitor_pages_are_not(client, make_member):
    """The worker caches a page only without no-store: that mark is what keeps a member's
    pages off a shared phone, while a visitor's pages may be read offline."""
    for path in ("/", "/posts/", "/login"):
        assert "no-store" not in client.get(path).headers["Cache-Control"], path
    client.login(make_member())
    for path in ("/", "/posts/", "/ledger/", "/profile"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_logout_clears_the_phones_caches_and_storage(client, make_member):
    client.login(make_member())
    home = client.get("/").get_data(as_text=True)
    assert "data-logout" in home
    response = client.post("/logout", data={"csrf_token": client.fetch_csrf_token()})
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_a_refused_logout_clears_nothing(client, make_member):
    client.login(make_member())
    response = client.post("/logout", data={"csrf_token": "forged"}, with_csrf=False)
    assert "Clear-Site-Data" not in response.headers


def test_api_logout_clears_the_phones_caches_and_storage(client, make_member):
    client.login(make_member())
    response = client.delete("/api/v1/session")
    assert response.status_code == 204
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
