"""The JSON shape of a visit in API v1, shared by the care plan and visit routes."""
from __future__ import annotations

from carebank.api.serialize import iso
from carebank.visits.models import Visit


def visit_json(visit: Visit) -> dict:
    return {
        "id": visit.id, "care_plan_id": visit.care_plan_id, "exchange_id": visit.exchange_id,
        "starts_at": iso(visit.starts_at), "ends_at": iso(visit.ends_at),
        "minutes": visit.minutes, "status": visit.status.value,
    }


def visit_detail_json(visit: Visit) -> dict:
    """One visit: the list's fields, and how it went."""
    return {
        **visit_json(visit), "checked_in_at": iso(visit.checked_in_at), "checked_out_at": iso(visit.checked_out_at),
        "late_flagged_at": iso(visit.late_flagged_at), "confirmed_minutes": visit.confirmed_minutes,
        "transaction_id": visit.transaction_id,
    }
