"""The JSON shape of a care plan in API v1."""
from __future__ import annotations

from flask_babel import get_locale

from carebank.api.serialize import iso
from carebank.careplans import recurrence
from carebank.careplans.models import CarePlan


def care_plan_json(plan: CarePlan) -> dict:
    """The plan, with its summary in the request's language."""
    return {
        "id": plan.id, "exchange_id": plan.exchange_id, "rrule": plan.rrule,
        "starts_at": iso(plan.starts_at), "timezone": plan.timezone, "minutes": plan.minutes,
        "until": plan.until.isoformat(), "place": plan.place.value,
        "holiday_policy": plan.holiday_policy.value, "status": plan.status.value,
        "replaces_id": plan.replaces_id,
        "summary": recurrence.summary(plan, str(get_locale() or "ko")),
    }
