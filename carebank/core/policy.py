"""The bank's adjustable rules, read once from the app config and passed to services."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class Policy:
    min_balance_minutes: int = -1200
    max_minutes: int = 1440
    code_ttl_seconds: int = 24 * 60 * 60
    post_lifetime_days: int = 30

    @classmethod
    def from_config(cls, config) -> Policy:
        return cls(
            min_balance_minutes=int(config["MIN_BALANCE_MINUTES"]),
            max_minutes=int(config["MAX_MINUTES_PER_TRANSFER"]),
            code_ttl_seconds=int(config["CONFIRMATION_CODE_TTL"]),
            post_lifetime_days=int(config["POST_LIFETIME_DAYS"]),
        )


def current_policy() -> Policy:
    return Policy.from_config(current_app.config)
