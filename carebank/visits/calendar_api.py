"""API v1: the member's private calendar address (the iCalendar feed of their visits)."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from carebank.api import api
from carebank.api.handler import created, login_required, optional_body
from carebank.core.extensions import db
from carebank.visits import calendar
from carebank.web import base_url


@api.get("/me/calendar")
@login_required
def my_calendar():
    """The address, made on first use (the blueprint commits it)."""
    return jsonify({"url": calendar.feed_url(db.session, current_user, base_url())})


@api.post("/me/calendar")
@login_required
def new_calendar():
    """A new address; the old one stops working."""
    optional_body()
    return created({"url": calendar.new_feed_url(db.session, current_user, base_url())})
