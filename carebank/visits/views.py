"""Visits in the member's own calendar: the private feed phone calendars subscribe to
(public, found by its secret address alone) and the page that gives the member its address;
"My visits", one visit's page, and checking in, checking out, confirming, cancelling,
reporting a problem with and moving a visit, and agreeing a one-off visit's time."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.careplans import services as careplans
from carebank.core.commit import committed
from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.core.policy import current_policy
from carebank.exchanges import services as exchanges
from carebank.visits import calendar, pages
from carebank.visits import services as visits
from carebank.visits.forms import CancelForm, ConfirmForm, ReportForm, VisitTimeForm
from carebank.web import base_url, format_when, safe_next_url, saving
from carebank.web.forms import EmptyForm, local_to_utc

bp = Blueprint("visits", __name__)

FEED_CACHE = "private, max-age=900"  # a phone polling every minute is served from its cache


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    """No login: calendar apps fetch it with no cookies. An unknown or old address is 404."""
    member = calendar.feed_member(db.session, token)
    body = calendar.feed_ics(db.session, member, utcnow(), base_url())
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = FEED_CACHE
    response.headers["X-Robots-Tag"] = "noindex"  # a secret address: never in a search engine
    return response


@bp.route("/calendar")
@login_required
@committed  # the address is made on the first visit to the page
def calendar_page():
    url = calendar.feed_url(db.session, current_user, base_url())
    return render_template("visits/calendar.html", feed_url=url, webcal_url=webcal(url),
                           google_url=google_calendar(url), form=EmptyForm())


@bp.route("/calendar/new", methods=["POST"])
@login_required
def new_calendar():
    if EmptyForm().validate_on_submit():
        with saving() as saved:
            calendar.new_feed_url(db.session, current_user, base_url())
        if saved.ok:
            flash(_("Here is your new calendar address. The old one no longer works: add this "
                    "one to your phone's calendar again."), "success")
    return redirect(url_for(".calendar_page"))


def webcal(url: str) -> str:
    """The address with the scheme calendar apps open as a subscription."""
    return "webcal://" + url.split("://", 1)[1] if urlsplit(url).scheme else url


def google_calendar(url: str) -> str:
    """Google Calendar's own "add by URL" link, for Android phones (they do not open webcal:)."""
    return "https://calendar.google.com/calendar/r?cid=" + quote(webcal(url), safe="")


# ---- the member's visits: My visits, one visit, and what they do with it ------------------------


@bp.app_template_global("visit_section")
def visit_section(exchange):
    """The visits part of an exchange page (templates/visits/_exchange_visits.html)."""
    return pages.exchange_section(db.session, exchange, current_user, utcnow(), current_policy())


@bp.route("/visits")
@login_required
def my_visits():
    days = pages.my_days(db.session, current_user, utcnow(), current_policy())
    return render_template("visits/index.html", days=days, back=url_for(".my_visits"))


@bp.route("/visits/<id:visit_id>")
@login_required
def visit_page(visit_id: int):
    return _render_visit(visits.visit_for(db.session, current_user, visit_id))


def _render_visit(visit, failed=None, status: int = 200):
    """One visit with its actions; a form that failed is shown again with its errors."""
    card = pages.visit_card(visit, current_user, utcnow(), current_policy(), failed)
    back = _back(url_for(".visit_page", visit_id=visit.id))
    return render_template("visits/visit.html", card=card, back=back), status


def _back(fallback: str) -> str:
    """The page a form was sent from (its `next` field, a path on this site), else `fallback`."""
    target = request.form.get("next")
    return safe_next_url(target) if target else fallback


@bp.route("/visits/<id:visit_id>/check-in", methods=["POST"])
@login_required
def check_in(visit_id: int):
    return _act(visit_id, None, EmptyForm(), lambda form: visits.check_in(db.session, current_user, visit_id),
                lambda visit: _("Checked in at %(time)s. Check out when you leave.",
                                time=pages.clock(visit.checked_in_at)))


@bp.route("/visits/<id:visit_id>/check-out", methods=["POST"])
@login_required
def check_out(visit_id: int):
    return _act(visit_id, None, EmptyForm(), lambda form: visits.check_out(db.session, current_user, visit_id),
                lambda visit: _("Checked out at %(time)s. %(name)s will confirm the time.",
                                time=pages.clock(visit.checked_out_at), name=visit.exchange.receiver.name))


@bp.route("/visits/<id:visit_id>/confirm", methods=["POST"])
@login_required
def confirm(visit_id: int):
    return _act(visit_id, "confirm", ConfirmForm(prefix=f"confirm-{visit_id}"), lambda form: visits.confirm(
        db.session, current_user, visit_id, form.chosen_minutes, policy=current_policy()), _confirmed)


def _confirmed(visit) -> str:
    exchange = visit.exchange
    return _("Confirmed: %(minutes)s of care from %(provider)s to %(receiver)s. Thank you!",
             minutes=format_minutes(visit.confirmed_minutes), provider=exchange.provider.name,
             receiver=exchange.receiver.name)


@bp.route("/visits/<id:visit_id>/cancel", methods=["POST"])
@login_required
def cancel(visit_id: int):
    return _act(visit_id, "cancel", CancelForm(prefix=f"cancel-{visit_id}"),
                lambda form: visits.cancel(db.session, current_user, visit_id, form.reason.data),
                lambda visit: _("The visit on %(when)s is cancelled. The other person is told.",
                                when=format_when(visit.starts_at)))


@bp.route("/visits/<id:visit_id>/dispute", methods=["POST"])
@login_required
def dispute(visit_id: int):
    return _act(visit_id, "report", ReportForm(prefix=f"report-{visit_id}"),
                lambda form: visits.dispute(db.session, current_user, visit_id, form.reason.data),
                lambda visit: _("Thank you. The centre will look at it and may call you."))


@bp.route("/visits/<id:visit_id>/move", methods=["POST"])
@login_required
def move(visit_id: int):
    return _act(visit_id, "move", VisitTimeForm(prefix=f"move-{visit_id}"), lambda form: careplans.override_visit(
        db.session, current_user, visit_id, local_to_utc(form.starts_at.data), form.total_minutes,
        policy=current_policy()),
        lambda visit: _("Only this visit is changed: it is now on %(when)s, for %(minutes)s.",
                        when=format_when(visit.starts_at), minutes=format_minutes(visit.minutes)))


def _act(visit_id: int, action: str | None, form, run, said):
    """Load and authorise the visit (a stranger gets the 404 or 403 page), check the form and
    run the service: then back to the page the form was on, with what happened (or why not);
    a form with errors under its fields is shown again on the visit's page."""
    visit = visits.visit_for(db.session, current_user, visit_id)
    if not form.validate_on_submit():
        return _render_visit(visit, (action, form) if action else None, 400)
    with saving(form) as saved:
        message = said(run(form))
    if saved.ok:
        flash(message, "success")
    elif action and any(f.errors for f in form):
        return _render_visit(visit, (action, form), saved.error.status)
    return redirect(_back(url_for(".visit_page", visit_id=visit_id)))


@bp.route("/exchanges/<id:exchange_id>/visits", methods=["POST"])
@login_required
def schedule_one_off(exchange_id: int):
    """A one-off exchange's visit, at the time the two agreed."""
    exchange = exchanges.get_exchange(db.session, current_user, exchange_id)
    form, status = VisitTimeForm(prefix="one-off"), 400
    if form.validate_on_submit():
        with saving(form) as saved:
            visit = visits.schedule_one_off(db.session, current_user, exchange.id, local_to_utc(form.starts_at.data),
                                            form.total_minutes, policy=current_policy())
            message = _("Agreed: the visit is on %(when)s.", when=format_when(visit.starts_at))
        if saved.ok:
            flash(message, "success")
        if saved.ok or not any(f.errors for f in form):
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id, _anchor="visits"))
        status = saved.error.status
    return render_template("visits/one_off.html", exchange=exchange, form=form), status
