"""The minutes of a general assembly as an A4 PDF: the facts, the quorum, each motion's count,
the attendance by method, and signature blocks for the chair and the elected signers.

Knows nothing of the database: it draws `MinutesFacts` (see `assemblies.minutes_pdf`), with
labels in the current language. Korean prints with the embedded NanumSquare of the member
cards; a character the font lacks prints as its base letter or "?", never as a blank.
"""
from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from carebank.cards.pdf import BOLD, REGULAR, _register_fonts, unprintable
from carebank.core.i18n import TIME_PATTERNS
from carebank.governance.models import AttendanceMethod

MARGIN = 20 * mm
WIDTH = A4[0] - 2 * MARGIN
DRAFT_GREY = 0.55


@dataclass(frozen=True)
class MotionLine:
    position: int
    title: str
    special: bool
    bylaw: str
    threshold: int | None
    votes_for: int | None
    votes_against: int | None
    abstain: int | None
    passed: bool | None


@dataclass(frozen=True)
class MinutesFacts:
    """What the minutes say (names and numbers; the words are added here)."""

    title: str
    held_at: datetime
    place: str
    record_date: date
    eligible: int
    present: int
    proxies: int
    needed: int
    quorum_met: bool
    motions: list[MotionLine]
    by_method: dict[AttendanceMethod, int]
    chair: str
    tellers: list[str] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)
    closed_at: datetime | None = None  # None: a draft


def render_minutes(facts: MinutesFacts) -> bytes:
    _register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(facts.title)
    canvas.setCreator("Carebank")
    page = _Page(canvas, draft=facts.closed_at is None)
    page.start()
    _draw_heading(page, facts)
    _draw_facts(page, facts)
    _draw_motions(page, facts)
    _draw_signatures(page, facts)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class _Page:
    """A cursor down the page that starts a new page when the next lines do not fit."""

    def __init__(self, canvas: Canvas, *, draft: bool):
        self.canvas, self.draft, self.y = canvas, draft, 0.0

    def start(self) -> None:
        self.y = A4[1] - MARGIN
        if self.draft:
            self.canvas.saveState()
            self.canvas.setFillGray(DRAFT_GREY)
            self.canvas.setFont(BOLD, 14)
            self.canvas.drawRightString(A4[0] - MARGIN, A4[1] - MARGIN + 6 * mm,
                                        _printable("DRAFT · " + _("Draft, not the signed minutes"), BOLD))
            self.canvas.restoreState()

    def room(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.canvas.showPage()
            self.start()

    def text(self, text: str, *, font: str = REGULAR, size: float = 11, gap: float = 3) -> None:
        lines = simpleSplit(_printable(text, font), font, size, WIDTH) or [""]
        for line in lines:
            self.room(size + gap)
            self.y -= size + gap
            self.canvas.setFont(font, size)
            self.canvas.drawString(MARGIN, self.y, line)

    def space(self, height: float = 6) -> None:
        self.y -= height


def _printable(text: str, font: str) -> str:
    missing = set(unprintable(text, font))
    return "".join(_stand_in(c, font) if c in missing else c for c in text) if missing else text


def _stand_in(char: str, font: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and base != char and not unprintable(base, font) else "?"


def _when(value: datetime) -> str:
    pattern = TIME_PATTERNS.get(str(get_locale()), "short")
    return f"{format_date(value, 'medium')} {format_time(value, pattern)}"


def _draw_heading(page: _Page, facts: MinutesFacts) -> None:
    page.text(_("Minutes of the general assembly"), font=BOLD, size=12)
    page.text(facts.title, font=BOLD, size=18, gap=6)
    page.space()


def _draw_facts(page: _Page, facts: MinutesFacts) -> None:
    met = _("met") if facts.quorum_met else _("not met")
    counts = facts.by_method
    lines = [
        (_("Held at"), _when(facts.held_at)),
        (_("Place"), facts.place or "-"),
        (_("Record date"), format_date(facts.record_date, "medium")),
        (_("Members in the register on the record date"), facts.eligible),
        (_("Present in person"), facts.present),
        (_("Proxies"), facts.proxies),
        (_("Present with proxies"), facts.present + facts.proxies),
        (_("Quorum"), " — ".join([_("%(needed)s needed", needed=facts.needed), met])),
        (_("Present in person by how they checked in"), " · ".join([
            _("member card: %(num)s", num=counts[AttendanceMethod.CARD]),
            _("member number and PIN: %(num)s", num=counts[AttendanceMethod.PIN]),
            _("ticked on the list: %(num)s", num=counts[AttendanceMethod.LIST])])),
        (_("Chair"), facts.chair or "-"),
        (_("Tellers"), ", ".join(facts.tellers) or "-"),
    ]
    for label, value in lines:
        page.text(_labelled(label, value))
    page.space(10)


def _labelled(label: str, value) -> str:
    return f"{label}: {value}"


def _draw_motions(page: _Page, facts: MinutesFacts) -> None:
    page.text(_("Motions"), font=BOLD, size=14, gap=6)
    if not facts.motions:
        page.text(_("No motion was put to the vote."))
    for motion in facts.motions:
        page.room(60)
        kind = _("Special resolution") if motion.special else _("Ordinary resolution")
        page.text(f"{motion.position}. {motion.title} ({kind})", font=BOLD, size=12, gap=5)
        if motion.bylaw:
            page.text(_labelled(_("Bylaw change"), motion.bylaw))
        page.text(_motion_result(motion))
        page.space()
    page.space(6)


def _motion_result(motion: MotionLine) -> str:
    if motion.votes_for is None:
        return _("Not counted yet")
    outcome = _("Passed") if motion.passed else _("Not passed")
    counts = " · ".join([
        _labelled(_("Votes for needed"), motion.threshold), _labelled(_("Votes for"), motion.votes_for),
        _labelled(_("Votes against"), motion.votes_against), _labelled(_("Abstentions"), motion.abstain)])
    return f"{counts} — {outcome}"


def _draw_signatures(page: _Page, facts: MinutesFacts) -> None:
    page.room(40)
    page.text(_("Signatures"), font=BOLD, size=14, gap=6)
    if facts.closed_at is not None:
        page.text(_labelled(_("Closed at"), _when(facts.closed_at)))
    blocks = [(_("Chair"), facts.chair), *((_("Signer"), name) for name in facts.signers)]
    for role, name in blocks:
        page.room(34)
        page.space(20)
        page.canvas.setLineWidth(0.6)
        page.canvas.line(MARGIN + 95 * mm, page.y, MARGIN + WIDTH, page.y)
        page.canvas.setFont(REGULAR, 11)
        page.canvas.drawString(MARGIN, page.y + 2, _printable(_labelled(role, name or "-"), REGULAR))
        page.canvas.setFont(REGULAR, 8)
        page.canvas.drawString(MARGIN + 95 * mm, page.y - 10, _printable(_("Signature"), REGULAR))
        page.space(12)
