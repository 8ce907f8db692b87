"""A resident's visits of one month on A4, for the centre to print and hand to residents who
have no phone: the date with its weekday, the time, who comes, how long, where, and which
visits were cancelled or moved. In the resident's language, Korean by default, with the
NanumSquare font the member cards embed.

`month_schedule` gathers what the page says (already translated); `render_schedule` draws it.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from babel.dates import format_skeleton
from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from carebank.cards.pdf import BOLD, BRAND, REGULAR, _register_fonts
from carebank.core.i18n import format_minutes
from carebank.members.models import Member
from carebank.reports.services import add_months, month_start
from carebank.visits import calendar
from carebank.visits.models import Visit, VisitStatus

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
ROW_HEIGHT = 9 * mm  # large type for older eyes, with room to tick a visit off by hand
TEXT_SIZE = 12
MIN_SIZE = 7
# Date, time, who, how long, where, note: shares of the width between the margins.
COLUMN_SHARES = (0.16, 0.13, 0.19, 0.10, 0.23, 0.19)
CANCELLED_GREY = 0.45


@dataclass(frozen=True)
class ScheduleRow:
    day: str
    time: str
    person: str
    length: str
    place: str
    note: str
    cancelled: bool = False

    @property
    def cells(self) -> tuple[str, ...]:
        return self.day, self.time, self.person, self.length, self.place, self.note


@dataclass(frozen=True)
class Schedule:
    """What the printed month says, already in the resident's language."""

    title: str  # "2027년 9월 방문 일정표"
    member_name: str
    member_line: str  # "회원 번호 000012"
    centre_name: str
    centre_phone: str
    headings: tuple[str, ...]
    rows: tuple[ScheduleRow, ...]
    empty_text: str
    footer: str


def month_schedule(session: Session, member: Member, month: date) -> Schedule:
    """The member's visits of `month` (its first day), counted in the member's time zone."""
    tz = calendar.zone_of(member.timezone)
    visits = calendar.visits_of(session, member.id, since=month_start(month, tz),
                                until=month_start(add_months(month, 1), tz))
    locale = calendar.member_locale(member)
    with force_locale(locale):
        centre = member.centre
        return Schedule(
            title=_("Visit schedule for %(month)s", month=format_skeleton("yMMMM", month, locale=locale)),
            member_name=member.name, member_line=f"{_('Member number')} {member.number}",
            centre_name=centre.name if centre else _("Carebank"),
            centre_phone=f"{_('Phone')} {centre.phone}" if centre and centre.phone else "",
            headings=(_("Date"), _("Starts"), _("With"), _("Visit length"), _("Place"), _("Note")),
            rows=tuple(_row(visit, member) for visit in visits),
            empty_text=_("No visits are planned for this month."),
            footer=_("Questions or changes? Please call your centre."),
        )


def _row(visit: Visit, member: Member) -> ScheduleRow:
    tz = calendar.visit_zone(visit, member)
    cancelled = visit.status is VisitStatus.CANCELLED
    note = _("Cancelled") if cancelled else ""
    if not cancelled and calendar.is_moved(visit) and visit.original_start is not None:
        note = _("Moved from %(when)s", when=calendar.local_day(visit.original_start, tz, "MMMd"))
    return ScheduleRow(
        day=calendar.local_day(visit.starts_at, tz), time=calendar.local_time(visit.starts_at, tz),
        person=calendar.other_party(visit, member).name, length=format_minutes(visit.minutes),
        place=calendar.place_text(visit, member), note=note, cancelled=cancelled,
    )


# Drawing ---------------------------------------------------------------------------------------

def render_schedule(schedule: Schedule) -> bytes:
    """The schedule as an A4 PDF, as many pages as its rows need, headings on each."""
    _register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{schedule.title} · {schedule.member_name}")
    canvas.setCreator("Carebank")
    pages = _paged(schedule.rows)
    for number, rows in enumerate(pages, start=1):
        top = _draw_head(canvas, schedule)
        _draw_table(canvas, schedule.headings, rows, top)
        if not schedule.rows:
            _fitted(canvas, schedule.empty_text, REGULAR, TEXT_SIZE, MARGIN, top - 2 * ROW_HEIGHT,
                    PAGE_WIDTH - 2 * MARGIN)
        _draw_foot(canvas, schedule, f"{number} / {len(pages)}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _rows_per_page() -> int:
    head, foot = 52 * mm, 18 * mm
    return int((PAGE_HEIGHT - head - foot) // ROW_HEIGHT) - 1  # less the headings' row


def _paged(rows: tuple[ScheduleRow, ...]) -> list[tuple[ScheduleRow, ...]]:
    size = _rows_per_page()
    return [rows[start:start + size] for start in range(0, len(rows), size)] or [()]


def _draw_head(canvas: Canvas, schedule: Schedule) -> float:
    """The centre, the month and the resident at the top; the y where the table starts."""
    width = PAGE_WIDTH - 2 * MARGIN
    y = PAGE_HEIGHT - MARGIN - 12
    canvas.setFillColorRGB(*BRAND)
    _fitted(canvas, schedule.centre_name, BOLD, 14, MARGIN, y, width * 0.62)
    if schedule.centre_phone:
        _fitted(canvas, schedule.centre_phone, BOLD, 14, MARGIN + width * 0.64, y, width * 0.36, right=True)
    canvas.setStrokeColorRGB(*BRAND)
    canvas.setLineWidth(1)
    canvas.line(MARGIN, y - 6, PAGE_WIDTH - MARGIN, y - 6)
    canvas.setFillGray(0)
    y -= 34
    _fitted(canvas, schedule.title, BOLD, 22, MARGIN, y, width)
    y -= 28
    _fitted(canvas, schedule.member_name, BOLD, 16, MARGIN, y, width * 0.6)
    _fitted(canvas, schedule.member_line, REGULAR, 13, MARGIN + width * 0.62, y, width * 0.38, right=True)
    return y - 18


def _columns() -> list[tuple[float, float]]:
    """Each column's left edge and width."""
    width, left, found = PAGE_WIDTH - 2 * MARGIN, MARGIN, []
    for share in COLUMN_SHARES:
        found.append((left, width * share))
        left += width * share
    return found


def _draw_table(canvas: Canvas, headings: tuple[str, ...], rows, top: float) -> None:
    columns = _columns()
    canvas.setFillColorRGB(0.92, 0.95, 0.93)
    canvas.rect(MARGIN, top - ROW_HEIGHT, PAGE_WIDTH - 2 * MARGIN, ROW_HEIGHT, stroke=0, fill=1)
    canvas.setFillGray(0)
    _draw_cells(canvas, headings, columns, top, BOLD)
    for index, row in enumerate(rows, start=1):
        y = top - index * ROW_HEIGHT
        canvas.setFillGray(CANCELLED_GREY if row.cancelled else 0)
        _draw_cells(canvas, row.cells, columns, y, REGULAR)
        if row.cancelled:  # struck through, so it reads as "not happening" at a glance
            canvas.setStrokeGray(CANCELLED_GREY)
            canvas.setLineWidth(0.8)
            strike = y - ROW_HEIGHT / 2 + 1
            canvas.line(MARGIN, strike, columns[-1][0] - 2, strike)
        canvas.setStrokeGray(0.75)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, y - ROW_HEIGHT, PAGE_WIDTH - MARGIN, y - ROW_HEIGHT)
    canvas.setFillGray(0)


def _draw_cells(canvas: Canvas, cells, columns, y: float, font: str) -> None:
    """One row whose top edge is at `y`, each text shrunk to fit its column."""
    baseline = y - ROW_HEIGHT / 2 - TEXT_SIZE * 0.35
    for text, (left, width) in zip(cells, columns, strict=True):
        _fitted(canvas, text, font, TEXT_SIZE, left + 3, baseline, width - 6)


def _draw_foot(canvas: Canvas, schedule: Schedule, page_label: str) -> None:
    width = PAGE_WIDTH - 2 * MARGIN
    text = " ".join(part for part in (schedule.footer, schedule.centre_phone) if part)
    _fitted(canvas, text, REGULAR, 11, MARGIN, MARGIN, width * 0.85)
    _fitted(canvas, page_label, REGULAR, 11, MARGIN + width * 0.85, MARGIN, width * 0.15, right=True)


def _fitted(canvas: Canvas, text: str, font: str, size: float, x: float, y: float, width: float,
            right: bool = False) -> None:
    """`text` at `size`, or smaller so that it fits `width` (a long name still prints whole)."""
    natural = pdfmetrics.stringWidth(text, font, size)
    if natural > width:
        size = max(MIN_SIZE, size * width / natural)
    canvas.setFont(font, size)
    if right:
        canvas.drawRightString(x + width, y, text)
    else:
        canvas.drawString(x, y, text)
