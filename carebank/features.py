"""The feature packages, in the order they build on each other: the app, the migrations and the
tests load every table from here, so a new feature is added in one place."""
from __future__ import annotations

import importlib
import importlib.util

FEATURES = (
    "audit", "centres", "members", "posts", "matching", "exchanges", "ledger", "confirmations",
    "cards", "checkins", "passkeys", "disputes", "messages", "notifications", "push", "careplans", "visits",
    "dashboard", "reports", "statements", "governance",
)


def feature_modules(name: str) -> list:
    """Each feature's module called `name` (models, api, …), for the features that have one."""
    found = []
    for feature in FEATURES:
        dotted = f"carebank.{feature}.{name}"
        if importlib.util.find_spec(f"carebank.{feature}") and importlib.util.find_spec(dotted):
            found.append(importlib.import_module(dotted))
    return found


def import_models() -> None:
    """Register every table on the metadata (SQLAlchemy resolves relationships by class name)."""
    feature_modules("models")
