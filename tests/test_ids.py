"""Ids beyond the database's 32-bit integer range, in a URL, a form or a query, are simply
unknown (404) or refused (400): never a 500 from the driver (PostgreSQL's integer overflows)."""
from __future__ import annotations

import pytest
from conftest import logged_in
from flask import url_for

from carebank import create_app
from carebank.members.models import Role
from config import TestConfig

TOO_BIG = 2**31  # one past the largest id


def _routes_with_ids() -> list[tuple[str, str]]:
    app = create_app(TestConfig, DATABASE_URL="sqlite://")
    found = []
    for rule in app.url_map.iter_rules():
        if any(name.endswith("_id") for name in rule.arguments):
            found += [(rule.endpoint, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


ROUTES = _routes_with_ids()


def test_every_route_taking_an_id_uses_the_bounded_converter():
    app = create_app(TestConfig, DATABASE_URL="sqlite://")
    loose = [rule.rule for rule in app.url_map.iter_rules()
             if any(name.endswith("_id") and type(rule._converters[name]).__name__ != "IdConverter"
                    for name in rule.arguments)]
    assert not loose


@pytest.mark.parametrize("endpoint, method", ROUTES)
def test_an_id_past_the_range_is_not_found(app, session, make_member, endpoint, method):
    admin = make_member("Admin", role=Role.ADMIN)
    client = logged_in(app, admin)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        url = url_for(endpoint, **{name: TOO_BIG if name.endswith("_id") else "x" for name in rule.arguments})
    assert client.open(url, method=method).status_code == 404


def test_a_gift_to_a_member_number_past_the_range_is_a_form_error(app, make_member):
    giver = logged_in(app, make_member("Giver"))
    refused = giver.post("/ledger/gift", data={"to_member_id": str(TOO_BIG), "hours": "0", "extra_minutes": "10"})
    assert refused.status_code == 400
    assert giver.get(f"/ledger/gift?to={TOO_BIG}").status_code == 200


def test_an_admins_report_on_a_centre_past_the_range_is_not_found(app, make_member):
    admin = logged_in(app, make_member("Admin", role=Role.ADMIN))
    assert admin.get(f"/console/reports?centre={TOO_BIG}").status_code == 404
