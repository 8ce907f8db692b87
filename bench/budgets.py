"""Page-weight budgets and Lighthouse scores of issue 3, measured against the real server.

    .venv/bin/python bench/budgets.py            # budgets + Lighthouse (needs Chromium and npx)
    .venv/bin/python bench/budgets.py --no-lighthouse

Serves a demo neighbourhood on loopback, loads pages in Debian's Chromium on a 360 px phone as
a first-time visitor, and sums what each response would weigh gzip-compressed (as a production
proxy would send it). Exits 1 when a budget is broken.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CAREBANK_CHROMIUM", "/usr/bin/chromium")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
BUDGET = {"total_kb": 50, "html_kb": 14, "performance": 95, "accessibility": 100, "best-practices": 95}
LIGHTHOUSE = "lighthouse@12.8.2"
SCANNER_FILES = ("jsQR", "scan.js")  # scan.js on /scan; jsQR only when a phone lacks a native decoder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "CAREBANK_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
           "CAREBANK_SECRET_KEY": "bench"}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([*flask, "run", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def first_visit(browser, url: str, cookies: list | None = None) -> list[dict]:
    """Every response a fresh phone receives for `url`, with its gzip-compressed size."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  service_workers="block")
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    responses = []
    page.on("response", lambda r: responses.append(r))
    page.goto(url, wait_until="networkidle")
    rows = []
    for response in responses:
        body = response.body() if response.status < 300 else b""
        rows.append({"url": response.url, "type": response.request.resource_type, "raw": len(body),
                     "gzip": len(gzip.compress(body, 9)) + 300})  # + ~300 bytes of headers
    context.close()
    return rows


def login_cookies(base: str, email: str, password: str) -> list[dict]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    session = json.load(opener.open(base + "/api/v1/session"))
    request = urllib.request.Request(base + "/api/v1/session", method="POST",
                                     data=json.dumps({"email": email, "password": password}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "X-CSRFToken": session["csrf_token"]})
    opener.open(request)
    jar = opener.handlers[[isinstance(h, urllib.request.HTTPCookieProcessor) for h in opener.handlers].index(True)].cookiejar
    return [{"name": c.name, "value": c.value, "url": base} for c in jar]


def weigh(browser, base: str, cookies: list) -> tuple[list[str], bool]:
    lines, ok = [], True
    # The weight budget is the home page's (and browse's); /scan is reported, not budgeted: a
    # phone without a native QR decoder loads jsQR there, on purpose, so it can scan offline.
    for label, path, who in [("home, visitor", "/", None), ("browse, visitor", "/posts/", None),
                             ("home, member", "/", cookies), ("scan, member", "/scan", cookies)]:
        rows = first_visit(browser, base + path, who)
        total = sum(r["gzip"] for r in rows) / 1024
        html = [r["gzip"] for r in rows if r["type"] == "document"][-1] / 1024  # after redirects
        foreign = [r["url"] for r in rows if urlsplit(r["url"]).hostname != "127.0.0.1"]
        fonts = [r["url"] for r in rows if r["type"] == "font"]
        scanner = [r["url"] for r in rows if any(name in r["url"] for name in SCANNER_FILES)]
        lines.append(f"{label:16} {len(rows):2} requests  total {total:5.1f} KB gz  HTML {html:4.1f} KB gz"
                     f"  fonts {len(fonts)}  third-party {len(foreign)}  scanner code {'yes' if scanner else 'no'}")
        budgeted = path != "/scan"
        ok &= (total <= BUDGET["total_kb"] or not budgeted) and html <= BUDGET["html_kb"]
        ok &= not foreign and not fonts
        ok &= bool(scanner) == (path == "/scan")
    return lines, ok


def lighthouse(base: str, path: str, cookies: list) -> dict[str, int]:
    headers = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)} if cookies else {}
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run(
            ["npx", "--yes", LIGHTHOUSE, base + path, "--quiet", "--output=json",
             f"--output-path={report.name}", "--only-categories=performance,accessibility,best-practices",
             f"--chrome-flags={' '.join(CHROME_FLAGS)}", f"--extra-headers={json.dumps(headers)}"],
            env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True, capture_output=True,
        )
        categories = json.loads(Path(report.name).read_text())["categories"]
    return {name: round(category["score"] * 100) for name, category in categories.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as workdir:
        server, base = start_server(Path(workdir))
        try:
            cookies = login_cookies(base, "youngja@demo.carebank", "demo1234")
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROME_FLAGS)
                lines, ok = weigh(browser, base, cookies)
                browser.close()
            print(f"budgets: total ≤ {BUDGET['total_kb']} KB gz, HTML ≤ {BUDGET['html_kb']} KB gz, "
                  "no fonts, no third-party requests, scanner code only on /scan")
            print("\n".join(lines))
            if not args.no_lighthouse:
                print(f"Lighthouse ({LIGHTHOUSE}, mobile): budgets performance ≥ {BUDGET['performance']}, "
                      f"accessibility {BUDGET['accessibility']}, best practices ≥ {BUDGET['best-practices']}")
                for label, path, who in [("home, visitor", "/", []), ("home, member", "/", cookies),
                                         ("scan, member", "/scan", cookies)]:
                    scores = lighthouse(base, path, who)
                    print(f"{label:16} " + "  ".join(f"{k} {v}" for k, v in scores.items()))
                    ok &= all(scores[k] >= BUDGET[k] for k in ("performance", "accessibility", "best-practices"))
        finally:
            server.terminate()
    print("all budgets met" if ok else "BUDGET BROKEN")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
