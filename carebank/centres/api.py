"""API v1: the list of neighbourhoods, for the app's sign-up, profile and post pickers."""
from __future__ import annotations

from flask import jsonify

from carebank.api import api
from carebank.centres import services as centre_rules
from carebank.core.extensions import db


@api.get("/neighbourhoods")
def neighbourhoods():
    """Public, like /categories: a newcomer picks their neighbourhood before having an account."""
    by_centre: dict[int, dict] = {}
    for entry in centre_rules.neighbourhood_list(db.session):
        centre = by_centre.setdefault(entry.centre_id, {
            "id": entry.centre_id, "name": entry.centre.name, "neighbourhoods": []})
        centre["neighbourhoods"].append({"id": entry.id, "name": entry.name, "district": entry.district,
                                         "label": entry.label})
    return jsonify({"centres": sorted(by_centre.values(), key=lambda c: c["name"])})
