"""Console: a centre's reports (tables, charts and CSV downloads) and members' monthly
statements. A coordinator sees their own centre; an admin any centre, or all (?centre=ID)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import format_percent
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.centres.models import Centre
from carebank.centres.services import all_centres, managed_member
from carebank.core.database import utcnow
from carebank.core.errors import ValidationFailed
from carebank.core.extensions import db
from carebank.reports import services as reports
from carebank.reports.charts import bar_chart
from carebank.statements.views import member_locale, month_label, render_statement
from carebank.web.console import bp


# Named console.reports by contract; the function's name keeps the `reports` module visible.
@bp.route("/reports", endpoint="reports")
def reports_page():
    centre = _report_centre()
    try:
        report = _build_report(centre)
    except ValidationFailed as error:
        return _render_reports(centre, None, errors=error.fields), 400
    return _render_reports(centre, report)


@bp.route("/reports/<table>.csv")
def report_csv(table: str):
    if table not in reports.TABLES:
        abort(404)
    centre = _report_centre()
    report = _build_report(centre)  # a bad month is a 400 page (the error handler)
    header, rows = reports.csv_table(report, table)
    period = report.period
    filename = f"carebank-{table}-{period.first:%Y-%m}-{period.last:%Y-%m}.csv"
    return Response(reports.to_csv(header, rows), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/members/<id:member_id>/statement")
def member_statement(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    back = url_for(".member_detail", member_id=member_id) \
        if "console.member_detail" in current_app.view_functions else None
    # Printed for the member, so in the member's language whatever the coordinator reads.
    return render_statement(
        member, lambda month: url_for(".member_statement", member_id=member_id, month=month),
        locale=member_locale(member), back_url=back,
    )


def _report_centre() -> Centre | None:
    return reports.report_centre(db.session, current_user, request.args.get("centre", ""))


def _build_report(centre: Centre | None) -> reports.CentreReport:
    tz = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    now = utcnow()
    period = reports.parse_period(request.args.get("from"), request.args.get("to"), tz, now)
    return reports.centre_report(
        db.session, centre.id if centre else None, period, now=now,
        low_threshold=int(current_app.config["REPORT_LOW_BALANCE_MINUTES"]),
    )


def _render_reports(centre: Centre | None, report: reports.CentreReport | None, errors=None):
    return render_template(
        "console/reports/index.html", centre=centre, report=report, errors=errors or {},
        centres=all_centres(db.session) if current_user.is_admin else [],
        filters=_filters(centre, report), charts=_charts(report) if report else {},
        month_label=month_label, format_percent=format_percent,
    )


def _filters(centre: Centre | None, report: reports.CentreReport | None) -> dict:
    """The query values that reproduce this report, for the form and the CSV links."""
    if report is None:
        values = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    else:
        values = {"from": f"{report.period.first:%Y-%m}", "to": f"{report.period.last:%Y-%m}"}
    if current_user.is_admin and centre is not None:
        values["centre"] = centre.id
    return values


def _charts(report: reports.CentreReport) -> dict:
    months = [(month_label(row.month, long=False), row.minutes) for row in report.by_month]
    categories = [(row.name, row.minutes) for row in report.by_category]
    return {
        "months": bar_chart(str(_l("Hours exchanged per month")), months),
        "categories": bar_chart(str(_l("Hours exchanged per category")), categories) if categories else None,
    }
