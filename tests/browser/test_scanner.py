"""The in-app scanner in a real Chromium: its fake camera plays a video of a QR code made in
the test, the page decodes it, and the ledger moves; also a foreign QR code, a photo of the
code, and a scan without signal that is confirmed once the phone is back online."""
from __future__ import annotations

import json
import struct
import time
import zlib

import pytest
import qrcode
import sqlalchemy as sa
from conftest import balance, logged_in

from carebank.cards import services as cards
from carebank.confirmations import services as confirmations
from carebank.ledger.models import Transaction
from carebank.members.models import Role
from tests.browser.conftest import PHONE, launch, log_in

SIZE = 480  # px, square video frames and photos
FRAMES = 20  # two seconds at 10 frames a second; Chromium plays the file in a loop
SCAN_TIMEOUT_MS = 15_000

STARTED = "Camera on — point it at the code"
NOT_OURS = "This QR code is not a Carebank confirmation code"
SAVED = "Saved — will confirm when online"


# ---- pictures of a QR code, in pure Python ------------------------------------------------

def qr_pixels(text: str, size: int = SIZE) -> list[bytes]:
    """Rows of 8-bit grey pixels (0 black, 255 white): the QR code of `text`, modules scaled
    to whole pixels, on white with its quiet zone, centred in a size×size square."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the 4-module quiet zone
    scale = size // len(matrix)
    offset = (size - scale * len(matrix)) // 2
    white_row = bytes([255]) * size
    rows = [white_row] * offset
    for modules in matrix:
        row = bytearray(white_row)
        for x, dark in enumerate(modules):
            if dark:
                start = offset + x * scale
                row[start:start + scale] = bytes(scale)
        rows.extend([bytes(row)] * scale)
    return rows + [white_row] * (size - len(rows))


def write_y4m(path, text: str | None) -> str:
    """A YUV4MPEG2 video of the QR code (None: of a white wall), the format Chromium's fake
    camera plays."""
    luma = b"".join(qr_pixels(text)) if text is not None else bytes([255]) * (SIZE * SIZE)
    chroma = bytes([128]) * ((SIZE // 2) * (SIZE // 2))  # no colour: grey U and V
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{SIZE} H{SIZE} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + luma + chroma + chroma)
    return str(path)


def png(rows: list[bytes]) -> bytes:
    """An 8-bit greyscale PNG of these rows, as a phone's camera app would hand it over."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 (none) before each row
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


# ---- fixtures -----------------------------------------------------------------------------

@pytest.fixture
def visit(session, policy, make_member, make_exchange):
    """An agreed exchange (Alex helps Kim) and a live 60-minute code Alex shows Kim."""
    exchange = make_exchange(make_member("Alex"), make_member("Kim Young-ja"))
    _code, token = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    session.commit()
    return exchange, token


@pytest.fixture
def camera_phone(playwright_driver, tmp_path):
    """A phone whose rear camera films a QR code of the given text, or a blank wall (its own
    Chromium, since the fake camera's video is a launch flag). `allowed=False`: the member
    refuses the browser's camera prompt."""
    browsers = []

    def open_phone(text: str | None, allowed: bool = True):
        video = write_y4m(tmp_path / f"camera{len(browsers)}.y4m", text)
        flags = ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
        if allowed:
            flags.append("--use-fake-ui-for-media-stream")  # says yes to the camera prompt
        browser = launch(playwright_driver, *flags)
        browsers.append(browser)
        return browser.new_context(locale="en-GB", **PHONE)

    yield open_phone
    for browser in browsers:
        browser.close()


def open_scanner(context, base_url: str, member):
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    log_in(page, base_url, member)
    page.goto(f"{base_url}/scan")
    return page


def status(page):
    return page.locator("[data-scan-status]")


def transactions(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction))


def wait_until(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


# ---- tests --------------------------------------------------------------------------------

def test_camera_scan_opens_the_confirm_page_and_the_ledger_moves(live_server, camera_phone, visit, session):
    exchange, token = visit
    page = open_scanner(camera_phone(confirmations.confirm_url(live_server, token)),
                        live_server, exchange.receiver)
    assert not page.locator("video").is_visible()  # the camera waits for the member's tap
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_url(f"{live_server}/c/{token}", timeout=SCAN_TIMEOUT_MS)
    assert page.console_errors == []  # e.g. nothing the Content Security Policy refused
    assert balance(session, exchange.provider) == 0  # scanning only asks
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{live_server}/exchanges/{exchange.id}")
    assert balance(session, exchange.provider) == 60
    assert balance(session, exchange.receiver) == -60


@pytest.mark.parametrize("text", [
    "https://example.org/c/0123456789ABCDEFGHJKMNPQRS",  # a code-like link to another site
    "Call Kim on 010-1234-5678",  # plain text
])
def test_a_qr_code_that_is_not_ours_is_named_and_scanning_goes_on(live_server, camera_phone, make_member, text):
    page = open_scanner(camera_phone(text), live_server, make_member())
    page.get_by_role("button", name="Start camera").click()
    message = status(page)
    message.filter(has_text=NOT_OURS).wait_for(timeout=SCAN_TIMEOUT_MS)
    assert message.get_attribute("role") == "status" and message.get_attribute("aria-live") == "polite"
    assert page.url == f"{live_server}/scan"
    assert page.locator("video").is_visible()  # still scanning
    page.get_by_role("button", name="Stop camera").click()
    assert message.inner_text() == "Camera off"
    assert page.evaluate("document.querySelector('video').srcObject") is None  # camera released
    assert page.get_by_role("button", name="Start camera").is_visible()


def test_scanner_announces_the_camera_and_keeps_focus_on_the_button(live_server, camera_phone, make_member):
    page = open_scanner(camera_phone(None), live_server, make_member())
    start = page.get_by_role("button", name="Start camera")
    start.focus()
    page.keyboard.press("Enter")  # a keyboard or switch user, as well as a tap
    status(page).filter(has_text=STARTED).wait_for()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Stop camera"
    video = page.get_by_label("Camera preview")
    assert video.is_visible() and video.evaluate("v => v.muted && v.playsInline && !v.paused")
    box = page.get_by_role("button", name="Stop camera").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44


@pytest.mark.parametrize(("allowed", "says"), [
    (False, "The camera is not allowed. Allow it in your browser settings, or take a photo of "
            "the code or type it below."),
    (None, "No camera was found. Take a photo of the code or type it below."),
])
def test_when_the_camera_fails_the_page_says_why_and_points_to_the_other_ways(
        live_server, phone, camera_phone, make_member, allowed, says):
    # None: the shared test browser, which has no camera at all.
    context = phone() if allowed is None else camera_phone(None, allowed=allowed)
    page = open_scanner(context, live_server, make_member())
    page.get_by_role("button", name="Start camera").click()
    message = status(page)
    message.filter(has_text=says).wait_for()
    assert "is-error" in message.get_attribute("class")
    assert page.get_by_role("button", name="Start camera").is_visible()  # to try again
    assert page.get_by_label("Photo of the QR code").is_visible()
    assert page.get_by_label("Confirmation code").is_visible()


def test_a_photo_of_the_code_opens_the_confirm_page(live_server, phone, visit):
    exchange, token = visit
    photo = png(qr_pixels(confirmations.confirm_url(live_server, token)))
    page = phone().new_page()
    log_in(page, live_server, exchange.receiver)
    page.goto(f"{live_server}/scan")
    page.get_by_label("Photo of the QR code").set_input_files(
        {"name": "code.png", "mimeType": "image/png", "buffer": photo})
    page.wait_for_url(f"{live_server}/c/{token}", timeout=SCAN_TIMEOUT_MS)
    assert "Confirm 1 h of care from Alex to Kim Young-ja" in page.locator("main").inner_text()


def test_a_photo_without_a_code_says_so(live_server, phone, make_member):
    page = phone().new_page()
    log_in(page, live_server, make_member())
    page.goto(f"{live_server}/scan")
    blank = png([bytes([255]) * SIZE] * SIZE)
    page.get_by_label("Photo of the QR code").set_input_files(
        {"name": "shoes.png", "mimeType": "image/png", "buffer": blank})
    status(page).filter(has_text="No QR code was found in this photo").wait_for()
    assert page.url == f"{live_server}/scan"


# A phone whose browser has its own QR reader (Android Chrome): a stand-in BarcodeDetector
# that reads every image as the given text, and jsQR switched off to prove it is not used.
NATIVE_DETECTOR = """
    window.BarcodeDetector = class {
        static getSupportedFormats() { return Promise.resolve(["qr_code", "ean_13"]); }
        constructor(options) { window.detectorFormats = options.formats; }
        detect(source) { return Promise.resolve([{ rawValue: %s }]); }
    };
    Object.defineProperty(window, "jsQR", { get() { return undefined; }, set() {} });
"""


def test_the_browsers_own_qr_reader_is_used_where_there_is_one(live_server, phone, visit):
    exchange, token = visit
    url = confirmations.confirm_url(live_server, token)
    context = phone()
    context.add_init_script(NATIVE_DETECTOR % json.dumps(url))
    page = context.new_page()
    log_in(page, live_server, exchange.receiver)
    page.goto(f"{live_server}/scan")
    page.get_by_label("Photo of the QR code").set_input_files(
        {"name": "code.png", "mimeType": "image/png", "buffer": png([bytes([255]) * SIZE] * SIZE)})
    page.wait_for_url(f"{live_server}/c/{token}", timeout=SCAN_TIMEOUT_MS)


def test_offline_scan_is_saved_and_confirmed_once_back_online(live_server, camera_phone, visit, session):
    exchange, token = visit
    context = camera_phone(confirmations.confirm_url(live_server, token))
    page = open_scanner(context, live_server, exchange.receiver)
    before = transactions(session)
    context.set_offline(True)  # a basement: no signal
    page.get_by_role("button", name="Start camera").click()
    status(page).filter(has_text=SAVED).wait_for(timeout=SCAN_TIMEOUT_MS)
    assert page.url == f"{live_server}/scan"
    assert page.evaluate("CarebankOutbox.list().then(items => items.map(i => [i.code, i.status]))") \
        == [[token, "pending"]]
    assert balance(session, exchange.provider) == 0  # nothing moved while offline
    page.locator("[data-outbox]").filter(has_text=SAVED).wait_for()  # in the pending list

    context.set_offline(False)  # back in signal: the outbox flushes on the online event
    assert wait_until(lambda: balance(session, exchange.provider) == 60)
    page.evaluate("CarebankOutbox.flush()")  # a second flush (say, the worker's) changes nothing
    page.reload()  # and so does the flush on page load
    page.wait_for_load_state()
    time.sleep(1)
    assert balance(session, exchange.provider) == 60
    assert transactions(session) == before + 1
    statuses = page.evaluate("CarebankOutbox.list().then(items => items.map(i => i.status))")
    assert statuses == ["done"]


def test_a_dead_connection_that_says_it_is_online_saves_the_code_too(live_server, camera_phone, visit):
    """Signal bars but no data (navigator.onLine is true): the scanner asks the server first
    rather than open a confirm page that would not load."""
    exchange, token = visit
    context = camera_phone(confirmations.confirm_url(live_server, token))
    page = open_scanner(context, live_server, exchange.receiver)
    page.route("**/api/v1/session", lambda route: route.abort("internetdisconnected"))
    page.get_by_role("button", name="Start camera").click()
    status(page).filter(has_text=SAVED).wait_for(timeout=SCAN_TIMEOUT_MS)
    assert page.url == f"{live_server}/scan"
    assert page.evaluate("CarebankOutbox.list().then(items => items.map(i => i.code))") == [token]


# ---- the maker's code page, which the scanner reads ------------------------------------

WAKE_LOCK_SPY = """
    window.wakeLocks = [];
    Object.defineProperty(Navigator.prototype, "wakeLock", { configurable: true, get() {
        return { request(type) {
            window.wakeLocks.push(type);
            return Promise.resolve({ release() { return Promise.resolve(); }, addEventListener() {} });
        } };
    } });
"""


def test_code_page_shows_a_large_qr_keeps_the_screen_on_and_sees_the_confirmation(
        app, live_server, phone, make_member, make_exchange):
    exchange = make_exchange(make_member("Alex"), make_member("Kim Young-ja"))
    context = phone()
    context.add_init_script(WAKE_LOCK_SPY)
    page = context.new_page()
    page.clock.install()  # the page checks every 10 s: the test moves its clock instead of waiting
    log_in(page, live_server, exchange.provider)
    page.goto(f"{live_server}/exchanges/{exchange.id}")
    page.get_by_role("button", name="Show a code for this visit").click()
    page.wait_for_url("**/codes/*")
    qr = page.locator(".qr img").bounding_box()
    assert qr["width"] >= 300 and qr["width"] == qr["height"]  # scannable from arm's length
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate("window.wakeLocks") == ["screen"]
    code = page.locator(".code-text").inner_text().replace("-", "")
    page.evaluate("window.notReloaded = true")

    context.set_offline(True)  # the maker's phone loses signal: the code stays on screen
    with page.expect_event("requestfailed"):
        page.clock.run_for(10_500)
    assert page.evaluate("window.notReloaded") and page.locator(".qr img").is_visible()

    context.set_offline(False)
    assert logged_in(app, exchange.receiver).post(f"/c/{code}").status_code == 302  # Kim confirms
    page.clock.run_for(10_500)
    page.get_by_text("Confirmed ✓ 1 h").wait_for()
    assert page.locator(".qr").count() == 0


def test_a_photo_of_a_member_card_opens_the_check_in_and_the_pin_confirms_the_visit(
        live_server, phone, session, make_member, make_exchange):
    coordinator = make_member("Coordinator Park", role=Role.COORDINATOR)
    carer, resident = make_member("Carer Lee"), make_member("Resident Kim")
    make_exchange(carer, resident)
    cards.set_pin(session, resident, "2468", coordinator)
    issued = cards.issue_card(session, resident, coordinator)
    session.commit()
    page = phone().new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    log_in(page, live_server, carer)
    page.goto(f"{live_server}/scan")
    photo = png(qr_pixels(cards.card_url(live_server, issued.token)))
    page.get_by_label("Photo of the QR code").set_input_files(
        {"name": "card.png", "mimeType": "image/png", "buffer": photo})
    page.wait_for_url(f"{live_server}/card/{issued.token}", timeout=SCAN_TIMEOUT_MS)
    assert "Visit with Resident Kim" in page.locator("main").inner_text()
    page.fill("#pin", "2468")
    page.get_by_role("button", name="Confirm with PIN").click()
    page.wait_for_url("**/checkins/*")
    assert "Confirmed: 1 h with Resident Kim" in page.locator("main").inner_text()
    assert (balance(session, carer), balance(session, resident)) == (60, -60)
    assert errors == []
