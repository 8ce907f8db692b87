"""Console: the centre's "today" board of visits, by state, with the overdue ones (checked in,
never checked out) on top until someone marks them resolved."""
from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.careplans.models import VisitPlace
from carebank.centres.services import manages
from carebank.core.database import utcnow
from carebank.core.errors import Conflict
from carebank.core.extensions import db
from carebank.core.i18n import TIME_PATTERNS
from carebank.notifications.preferences import member_zone
from carebank.visits import safety
from carebank.visits.forms import ResolveForm
from carebank.visits.models import Visit
from carebank.web import saving
from carebank.web.console import bp

# Each group's heading and what it means, in the board's order (safety.STATES).
GROUPS = {
    "overdue": (_l("Not checked out"),
                _l("Checked in, and still no check-out 30 minutes after the planned end. "
                   "Call the carer and the resident, then mark it resolved.")),
    "late": (_l("Late"), _l("Past the start time, no check-in yet.")),
    "no_show": (_l("No-show"), _l("No check-in 30 minutes after the start time.")),
    "due": (_l("Due"), _l("Not started yet.")),
    "in_progress": (_l("In progress"), _l("The carer has checked in.")),
    "to_confirm": (_l("Waiting for confirmation"), _l("Checked out; the time is not confirmed yet.")),
    "disputed": (_l("Problem reported"), _l("A party reported a problem; see Disputes.")),
    "done": (_l("Done"), _l("Confirmed and counted.")),
    "cancelled": (_l("Cancelled"), _l("Called off.")),
}


@bp.route("/visits/today", endpoint="visits_today")
def visits_today():
    return _render_board()


def _render_board(status: int = 200, failed_id: int | None = None, failed_form: ResolveForm | None = None):
    """The board for ?day= (today by default); a resolve that failed shows its messages under
    its own form."""
    tz, now = member_zone(current_user), utcnow()
    day = safety.parse_day(request.args.get("day", ""), tz, now)  # a bad day: the 400 page
    groups = safety.today_board(db.session, current_user, day, tz, now)
    today = now.astimezone(tz).date()
    return render_template(
        "console/visits/today.html", groups=groups, labels=GROUPS, day=day, today=today,
        day_label=format_date(day, "full"), other_days=_other_days(day),
        times=lambda visit: _times(visit, day, tz), clock=lambda moment: _clock(moment, tz),
        place=_place, manages=lambda member: manages(current_user, member),
        failed_id=failed_id, failed_form=failed_form,
    ), status


def _other_days(day: date) -> dict[str, str]:
    return {"previous": (day - timedelta(days=1)).isoformat(), "next": (day + timedelta(days=1)).isoformat()}


def _clock(moment: datetime, tz: tzinfo) -> str:
    pattern = TIME_PATTERNS.get(str(get_locale()), "short")
    return format_time(moment.astimezone(tz).replace(tzinfo=None), pattern, rebase=False)


def _times(visit: Visit, day: date, tz: tzinfo) -> str:
    """"10:00–12:00", with the date for a visit from another day (still open from yesterday)."""
    span = f"{_clock(visit.starts_at, tz)}–{_clock(visit.ends_at, tz)}"
    start_day = visit.starts_at.astimezone(tz).date()
    return span if start_day == day else f"{format_date(start_day, 'medium')} {span}"


def _place(visit: Visit) -> str:
    if visit.care_plan is not None and visit.care_plan.place is VisitPlace.CENTRE:
        return _("At the centre")
    receiver = visit.exchange.receiver
    if receiver.neighbourhood:
        return _("At %(name)s's home, %(neighbourhood)s", name=receiver.name, neighbourhood=receiver.neighbourhood)
    return _("At %(name)s's home", name=receiver.name)


@bp.route("/visits/<id:visit_id>/resolve", methods=["POST"])
def visit_resolve(visit_id: int):
    safety.managed_visit(db.session, current_user, visit_id)  # another centre's: the 404 page
    form = ResolveForm()
    if not form.validate_on_submit():
        return _render_board(400, visit_id, form)
    with saving(form) as saved:
        visit = safety.resolve_overdue(db.session, current_user, visit_id, form.note.data)
        message = _("Marked resolved: the visit of %(carer)s to %(name)s.",
                    carer=visit.exchange.provider.name, name=visit.exchange.receiver.name)
    if saved.ok:
        flash(message, "success")
    elif not isinstance(saved.error, Conflict):
        return _render_board(saved.error.status, visit_id, form)
    # Resolved, or resolved by a colleague meanwhile: the board says what now.
    return redirect(url_for(".visits_today"))


# The printed monthly schedule of a resident is a console route in a module of its own.
from carebank.visits import schedule_console  # noqa: E402, F401
