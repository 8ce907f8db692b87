"""Member cards as PDF: one ID-1 card per page, or A4 sheets of ten cards to cut out.

Knows nothing of the database: it draws `CardFace`s (see `cards.card_faces`). Korean names
print with an embedded subset of NanumSquare (carebank/fonts), never a printer's font. The
QR code is drawn as filled rectangles from the qrcode module matrix, so it is sharp at any
print resolution.
"""
from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import qrcode
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

# ISO/IEC 7810 ID-1, the size of a bank card.
CARD_WIDTH = 85.6 * mm
CARD_HEIGHT = 54 * mm
COLUMNS, ROWS = 2, 5
CARDS_PER_SHEET = COLUMNS * ROWS

FONT_DIR = Path(__file__).parent.parent / "fonts"  # shared by every printed page
REGULAR, BOLD = "NanumSquare", "NanumSquare-Bold"

MARGIN = 4 * mm
# The QR with its quiet zone; for a 33-module code (a URL of up to 62 bytes) the code
# itself is 24 mm wide, which phone cameras read from arm's length.
QR_BOX = 30 * mm
QUIET_MODULES = 4
BRAND = (0.043, 0.365, 0.231)  # #0b5d3b, the app's theme colour
OUTLINE_GREY = 0.6
CUT_MARK = 5 * mm


@dataclass(frozen=True)
class CardFace:
    """What one printed card shows, already translated."""

    centre_name: str
    centre_phone: str
    member_name: str
    member_number: str
    url: str
    found_text: str
    number_label: str = "No."
    unprintable_label: str = "Cannot print:"


def render_cards(faces: list[CardFace], *, sheet: bool) -> bytes:
    """A PDF of the cards: A4 sheets of ten (`sheet`), else one card-sized page each."""
    _register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4 if sheet else (CARD_WIDTH, CARD_HEIGHT), pageCompression=1)
    canvas.setTitle("Member cards")
    canvas.setCreator("Carebank")
    if sheet:
        _draw_sheets(canvas, faces)
    else:
        for face in faces:
            _draw_card(canvas, face)
            canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@functools.cache
def _register_fonts() -> None:
    # Parsing a TrueType font takes a while; reportlab keeps it for the whole process, and
    # subsets it per document, so registering once is enough.
    pdfmetrics.registerFont(TTFont(REGULAR, FONT_DIR / "NanumSquareR.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, FONT_DIR / "NanumSquareB.ttf"))


def _draw_sheets(canvas: Canvas, faces: list[CardFace]) -> None:
    for start in range(0, len(faces), CARDS_PER_SHEET):
        page = faces[start : start + CARDS_PER_SHEET]
        for (x, y), face in zip(_card_origins(), page, strict=False):
            canvas.saveState()
            canvas.translate(x, y)
            _draw_card(canvas, face)
            canvas.restoreState()
        _draw_cut_lines(canvas)
        canvas.showPage()


def _card_origins() -> Iterator[tuple[float, float]]:
    """Lower-left corners of the ten cards, left to right and top to bottom."""
    left, bottom = _grid_origin()
    for row in range(ROWS):
        for column in range(COLUMNS):
            yield left + column * CARD_WIDTH, bottom + (ROWS - 1 - row) * CARD_HEIGHT


def _grid_origin() -> tuple[float, float]:
    page_width, page_height = A4
    return (page_width - COLUMNS * CARD_WIDTH) / 2, (page_height - ROWS * CARD_HEIGHT) / 2


def _draw_cut_lines(canvas: Canvas) -> None:
    """A hairline round every card, and marks in the margin where each cut runs, so a
    guillotine or scissors can follow them even if the outline is faint."""
    left, bottom = _grid_origin()
    right, top = left + COLUMNS * CARD_WIDTH, bottom + ROWS * CARD_HEIGHT
    canvas.saveState()
    canvas.setLineWidth(0.25)
    canvas.setStrokeGray(OUTLINE_GREY)
    canvas.grid([left + c * CARD_WIDTH for c in range(COLUMNS + 1)],
                [bottom + r * CARD_HEIGHT for r in range(ROWS + 1)])
    canvas.setStrokeGray(0)
    for c in range(COLUMNS + 1):
        x = left + c * CARD_WIDTH
        canvas.lines([(x, top + 2, x, top + 2 + CUT_MARK), (x, bottom - 2, x, bottom - 2 - CUT_MARK)])
    for r in range(ROWS + 1):
        y = bottom + r * CARD_HEIGHT
        canvas.lines([(left - 2, y, left - 2 - CUT_MARK, y), (right + 2, y, right + 2 + CUT_MARK, y)])
    canvas.restoreState()


def _draw_card(canvas: Canvas, face: CardFace) -> None:
    """One card with its lower-left corner at the origin."""
    _draw_header(canvas, face.centre_name)
    text_width = CARD_WIDTH - QR_BOX - MARGIN - 1 * mm
    _draw_fitted(canvas, face.member_name, BOLD, 16, MARGIN, CARD_HEIGHT - 21 * mm, text_width)
    missing = unprintable(face.member_name)
    if missing:
        codes = " ".join(f"U+{ord(char):04X}" for char in missing)
        _draw_fitted(canvas, f"{face.unprintable_label} {codes}", REGULAR, 6, MARGIN,
                     CARD_HEIGHT - 24 * mm, text_width)
    _draw_number(canvas, face, CARD_HEIGHT - 28 * mm)
    _draw_found(canvas, face, text_width)
    _draw_qr(canvas, face.url, CARD_WIDTH - QR_BOX - 1.5 * mm, 1.5 * mm, QR_BOX)


def _draw_header(canvas: Canvas, centre_name: str) -> None:
    canvas.setFillColorRGB(*BRAND)
    _draw_fitted(canvas, centre_name, BOLD, 10, MARGIN, CARD_HEIGHT - MARGIN - 10, CARD_WIDTH - 2 * MARGIN)
    canvas.setStrokeColorRGB(*BRAND)
    canvas.setLineWidth(0.8)
    rule = CARD_HEIGHT - MARGIN - 14
    canvas.line(MARGIN, rule, CARD_WIDTH - MARGIN, rule)
    canvas.setFillGray(0)


def unprintable(text: str, font: str = BOLD) -> list[str]:
    """The characters of `text` the font has no glyph for, in order of appearance: they would
    print as blanks, so a name "José" would come out "Jos "."""
    _register_fonts()
    glyphs = pdfmetrics.getFont(font).face.charToGlyph
    return list(dict.fromkeys(char for char in text if not char.isspace() and ord(char) not in glyphs))


def _printable(text: str, font: str) -> str:
    """`text` with each character the font lacks replaced by its base letter where it has
    one (é → e), else by "?"; the card then says which they were."""
    missing = set(unprintable(text, font))
    if not missing:
        return text
    return "".join(_stand_in(char, font) if char in missing else char for char in text)


def _stand_in(char: str, font: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and base != char and not unprintable(base, font) else "?"


def _draw_fitted(canvas: Canvas, text: str, font: str, size: float, x: float, y: float,
                 width: float) -> None:
    """`text` at `size`, or smaller so that it fits `width` (long names still print whole)."""
    text = _printable(text, font)
    natural = pdfmetrics.stringWidth(text, font, size)
    if natural > width:
        size = max(5.0, size * width / natural)
    canvas.setFont(font, size)
    canvas.drawString(x, y, text)


def _draw_number(canvas: Canvas, face: CardFace, y: float) -> None:
    canvas.setFont(REGULAR, 8)
    canvas.drawString(MARGIN, y, face.number_label)
    label_width = pdfmetrics.stringWidth(face.number_label, REGULAR, 8)
    canvas.setFont(BOLD, 11)
    canvas.drawString(MARGIN + label_width + 4, y, face.member_number)


def _draw_found(canvas: Canvas, face: CardFace, width: float) -> None:
    """"If found, please call the centre" and the centre's phone, at the foot of the card."""
    y = MARGIN
    if face.centre_phone:
        _draw_fitted(canvas, face.centre_phone, BOLD, 11, MARGIN, y, width)
        y += 13
    canvas.setFont(REGULAR, 7)
    lines = simpleSplit(face.found_text, REGULAR, 7, width)[:3]
    for line in reversed(lines):
        canvas.drawString(MARGIN, y, line)
        y += 8.5


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code filling a `size` square whose lower-left corner is (x, y), quiet zone
    included; each run of dark modules in a row is one rectangle."""
    modules = qr_modules(data)
    count = len(modules)
    step = size / (count + 2 * QUIET_MODULES)
    top = y + size - QUIET_MODULES * step
    left = x + QUIET_MODULES * step
    path = canvas.beginPath()
    for row_index, row in enumerate(modules):
        row_y = top - (row_index + 1) * step
        for start, length in _dark_runs(row):
            path.rect(left + start * step, row_y, length * step, step)
    canvas.setFillGray(0)
    canvas.drawPath(path, stroke=0, fill=1)


def qr_modules(data: str) -> list[list[bool]]:
    """The QR matrix for `data` without its quiet zone (error correction M, like confirmation codes)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def _dark_runs(row: list[bool]) -> Iterator[tuple[int, int]]:
    start = None
    for index, dark in enumerate([*row, False]):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            yield start, index - start
            start = None
