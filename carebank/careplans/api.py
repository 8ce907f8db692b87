"""API v1: an exchange's care plan — proposing, agreeing, reading it and its visits."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from carebank.api import api
from carebank.api.handler import body, created, login_required, parse_datetime, text
from carebank.careplans import services as careplans
from carebank.careplans.models import HolidayPolicy, VisitPlace
from carebank.careplans.serialize import care_plan_json
from carebank.core.extensions import db
from carebank.core.policy import current_policy
from carebank.visits.serialize import visit_json


@api.post("/exchanges/<id:exchange_id>/care-plans")
@login_required
def propose_plan(exchange_id: int):
    """{rrule, starts_at, minutes, until, place?, holiday_policy?, timezone?} → 201 {"care_plan"}."""
    data = body()
    plan = careplans.propose_plan(
        db.session, current_user, exchange_id, rrule=data.get("rrule"),
        starts_at=parse_datetime(data, "starts_at"), minutes=data.get("minutes"), until=data.get("until"),
        place=data.get("place", VisitPlace.HOME.value),
        holiday_policy=data.get("holiday_policy", HolidayPolicy.SKIP.value),
        timezone=text(data, "timezone"), policy=current_policy())
    return created({"care_plan": care_plan_json(plan)})


@api.post("/care-plans/<id:plan_id>/accept")
@login_required
def accept_plan(plan_id: int):
    return jsonify({"care_plan": care_plan_json(careplans.accept_plan(db.session, current_user, plan_id))})


@api.get("/care-plans/<id:plan_id>")
@login_required
def get_plan(plan_id: int):
    return jsonify({"care_plan": care_plan_json(careplans.get_plan(db.session, current_user, plan_id))})


@api.get("/care-plans/<id:plan_id>/visits")
@login_required
def plan_visits(plan_id: int):
    return jsonify({"visits": [visit_json(v) for v in careplans.plan_visits(db.session, current_user, plan_id)]})
