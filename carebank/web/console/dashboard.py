"""Console: the dashboard, the console's front page. What needs the centre's attention,
as big tiles that lead to each area, and the everyday actions."""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import waiting
from ...extensions import db
from . import bp


@dataclass(frozen=True)
class Tile:
    count: int
    label: str
    endpoint: str
    urgent: bool = False  # someone is waiting on the centre


def tiles(counts: waiting.DashboardCounts) -> list[Tile]:
    return [
        Tile(counts.checkins_pending, _l("Check-ins waiting for approval"), "console.checkins", True),
        Tile(counts.disputes_open, _l("Problems reported"), "console.disputes", True),
        Tile(counts.cards_locked, _l("Locked cards"), "console.cards", True),
        Tile(counts.exchanges_waiting, _l("Exchanges waiting for confirmation"), "console.waiting"),
        Tile(counts.needs_unmatched, _l("Needs without a match for %(days)s days",
                                        days=waiting.UNMATCHED_DAYS), "console.reports"),
        Tile(counts.new_members, _l("New members this week"), "console.members"),
    ]


QUICK_ACTIONS = (
    ("console.member_new", _l("Register a resident")),
    ("console.cards", _l("Print cards")),
    ("console.grant", _l("Grant hours")),
    ("console.reports", _l("Reports")),
)


@bp.route("/", endpoint="dashboard")
def dashboard():
    counts = waiting.dashboard_counts(db.session, current_user)
    return render_template("console/dashboard.html", centre=current_user.centre,
                           tiles=tiles(counts), actions=QUICK_ACTIONS)
