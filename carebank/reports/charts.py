"""Bar charts drawn on the server as inline SVG: no script, readable on a 360 px phone.

A chart is a picture of a table printed beside it, which stays the text alternative; the
chart also carries its numbers in its accessible name. Colours are SVG presentation
attributes (the CSP allows no style attributes), and a viewBox lets CSS scale it to any width.
"""
from __future__ import annotations

from markupsafe import Markup, escape

from carebank.core.i18n import format_minutes

WIDTH = 400
ROW_HEIGHT = 46  # a label line above a bar
BAR_HEIGHT = 18
VALUE_SPACE = 110  # room right of the longest bar for its value ("12 h 30 min")
BAR_COLOUR = "#0b5d3b"  # the brand green: 7:1 against white


def bar_chart(title: str, bars: list[tuple[str, int]]) -> Markup:
    """A horizontal bar chart of minutes, one labelled bar per (label, minutes)."""
    longest = max((minutes for _, minutes in bars), default=0)
    height = max(ROW_HEIGHT * len(bars), ROW_HEIGHT)
    numbers = "; ".join(f"{label}: {format_minutes(minutes)}" for label, minutes in bars)
    rows = "".join(_bar(i * ROW_HEIGHT, label, minutes, longest) for i, (label, minutes) in enumerate(bars))
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" aria-label="{escape(f"{title}. {numbers}")}">'
        f"<title>{escape(title)}</title>{rows}</svg>"
    )


def _bar(top: int, label: str, minutes: int, longest: int) -> str:
    """One row: the label, the bar scaled to the longest, and the value after the bar."""
    width = round((WIDTH - VALUE_SPACE) * minutes / longest) if longest > 0 and minutes > 0 else 0
    bar_top = top + 22
    return (
        f'<text x="0" y="{top + 16}" font-size="14" fill="currentColor">{escape(label)}</text>'
        f'<rect x="0" y="{bar_top}" width="{width}" height="{BAR_HEIGHT}" fill="{BAR_COLOUR}"/>'
        f'<text x="{width + 6}" y="{bar_top + 14}" font-size="13" font-weight="700" '
        f'fill="currentColor">{escape(format_minutes(minutes))}</text>'
    )
