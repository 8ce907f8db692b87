"""API v1: the member's visits, and checking in, checking out, confirming and cancelling one.

Check-in and confirm take an Idempotency-Key (a phone's offline queue sending again): a replay
answers the first success again instead of a 409."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from carebank.api import api
from carebank.api.handler import body, login_required, optional_body, query_text, text
from carebank.cards.services import parse_card
from carebank.core import idempotency
from carebank.core.errors import Conflict, ValidationFailed
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.notifications.preferences import member_zone
from carebank.visits import services as visits
from carebank.visits.serialize import visit_detail_json, visit_json

DEFAULT_WINDOW = timedelta(weeks=8)
LONGEST_WINDOW = timedelta(days=366)
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Far enough either way for any schedule, and no date arithmetic past year 9999.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


@api.get("/visits")
@login_required
def my_visits():
    """?from=&to= as dates (in the member's zone; `to` included) or date-times with an offset;
    from today for eight weeks when not given."""
    start, end = _window()
    return jsonify({"visits": [visit_json(v) for v in visits.my_visits(db.session, current_user, start, end)]})


@api.get("/visits/<id:visit_id>")
@login_required
def get_visit(visit_id: int):
    return jsonify({"visit": visit_detail_json(visits.visit_for(db.session, current_user, visit_id))})


@api.post("/visits/<id:visit_id>/cancel")
@login_required
def cancel_visit(visit_id: int):
    reason = text(body(), "reason")
    return jsonify({"visit": visit_detail_json(visits.cancel(db.session, current_user, visit_id, reason))})


@api.post("/visits/<id:visit_id>/check-in")
@login_required
def check_in_visit(visit_id: int):
    data = optional_body()
    card, pin = _card(data), text(data, "pin")
    return _once(f"check-in {visit_id}", [card or ""], lambda: visits.check_in(
        db.session, current_user, visit_id, card=card, pin=pin))


@api.post("/visits/<id:visit_id>/check-out")
@login_required
def check_out_visit(visit_id: int):
    optional_body()
    return jsonify({"visit": visit_detail_json(visits.check_out(db.session, current_user, visit_id))})


@api.post("/visits/<id:visit_id>/confirm")
@login_required
def confirm_visit(visit_id: int):
    data = optional_body()
    minutes, card, pin = data.get("minutes"), _card(data), text(data, "pin")
    return _once(f"confirm {visit_id}", [json.dumps(minutes), card or ""], lambda: visits.confirm(
        db.session, current_user, visit_id, minutes, card=card, pin=pin, policy=current_policy()))


def _card(data: dict) -> str | None:
    """The scanned card as its canonical secret (so a URL and a typed code are one request)."""
    card = text(data, "card")
    return parse_card(card) if card else None


def _once(action: str, parts: list[str], run: Callable):
    """Run the action, or with an Idempotency-Key answer what its first success answered."""
    key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    if not key:
        return jsonify({"visit": visit_detail_json(run())})
    fingerprint = idempotency.request_hash(f"POST /api/v1/visits {action}", *parts)
    answer = idempotency.stored_answer(db.session, current_user.id, key, fingerprint)
    if answer is None:
        try:
            answer = idempotency.remember(db.session, current_user.id, key, fingerprint, 200,
                                          {"visit": visit_detail_json(run())})
        except Conflict:
            # The same request sent at once from the queue and the page: the first one moved the
            # visit and stored its answer before our UPDATE could (it waited for it).
            answer = idempotency.stored_answer(db.session, current_user.id, key, fingerprint)
            if answer is None:
                raise
    status, payload = answer
    return jsonify(payload), status


def _window() -> tuple[datetime, datetime]:
    zone = member_zone(current_user)
    today = datetime.now(zone).date()
    start = _moment("from", zone) or datetime.combine(today, time(), zone).astimezone(UTC)
    end = _moment("to", zone, end=True) or start + DEFAULT_WINDOW
    if not start < end <= start + LONGEST_WINDOW:
        message = _l("Choose a period of at most a year, ending after it starts.")
        raise ValidationFailed(message, code="invalid_period", fields={"to": message})
    return start, end


def _moment(name: str, zone, *, end: bool = False) -> datetime | None:
    """A query's date (its first instant; the next day's for an end) or date-time, in UTC."""
    value = query_text(name)
    if value is None:
        return None
    try:
        if DAY.match(value):
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            moment = datetime.combine(day, time(), zone)
        else:
            moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None and EARLIEST <= moment <= LATEST:
            return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    message = _l("Use a date like 2027-09-07, or a date and time with a time zone.")
    raise ValidationFailed(message, code="invalid_date", fields={name: message})


# The member's calendar address is an API route in a module of its own.
from carebank.visits import calendar_api  # noqa: E402, F401
