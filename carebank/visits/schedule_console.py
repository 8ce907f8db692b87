"""Console: a resident's printable monthly visit schedule (PDF), for the centre to print for
residents who have no phone. Routes on the console blueprint (coordinators only); a member of
another centre is "not found"."""
from __future__ import annotations

import io

from flask import request, send_file
from flask_login import current_user

from carebank.centres.services import managed_member
from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.reports.services import month_of, parse_month
from carebank.visits import calendar
from carebank.visits.schedule_pdf import month_schedule, render_schedule
from carebank.web.console import bp


@bp.route("/members/<id:member_id>/schedule.pdf")
def member_schedule_pdf(member_id: int):
    """?month=YYYY-MM, this month by default; a bad month is the 400 page saying how to write one."""
    member = managed_member(db.session, current_user, member_id)
    month_text = request.args.get("month", "")
    month = parse_month(month_text) if month_text else month_of(utcnow(), calendar.zone_of(member.timezone))
    pdf = render_schedule(month_schedule(db.session, member, month))
    # Inline: the browser opens it, ready for its print button.
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf",
                         download_name=f"schedule-{member.number}-{month:%Y-%m}.pdf")
    response.headers["Cache-Control"] = "no-store"  # names and times of a resident's visits
    return response
