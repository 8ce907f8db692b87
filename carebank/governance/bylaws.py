"""The co-op's bylaws as settings, with defaults from Korea's Framework Act on Cooperatives as
co-ops apply it. A value changes only when the general assembly adopts a motion that changes
it, and then once (`apply_change`)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.core.database import utcnow
from carebank.core.errors import ValidationFailed
from carebank.governance.models import Bylaw

GRANT_DECIDERS = ("board", "members")
CHOICE_WORDS = {"board": _l("A ballot of the board"), "members": _l("A ballot of all members")}


@dataclass(frozen=True)
class BylawRule:
    """One bylaw: its default, what it means, and the values it may take."""

    default: str
    label: object  # a lazy string
    kind: str  # "count", "minutes", "fraction" or "choice"
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 1_000_000


RULES: dict[str, BylawRule] = {
    "votes_per_member": BylawRule("1", _l("Votes each member has, whatever their shares"), "count",
                                  minimum=1, maximum=1),
    "proxies_per_holder": BylawRule("1", _l("Absent members one present member may represent"),
                                    "count", minimum=0, maximum=1),
    "quorum": BylawRule("1/2", _l("Members present (with proxies) an assembly needs: more than"),
                        "fraction"),
    "ordinary_majority": BylawRule("1/2", _l("An ordinary resolution needs more than this share "
                                             "of the votes for and against"), "fraction"),
    "special_majority": BylawRule("2/3", _l("A special resolution needs at least this share of "
                                            "the members present"), "fraction"),
    "minutes_signers": BylawRule("3", _l("Members elected at the meeting who sign the minutes "
                                         "with the chair"), "count", minimum=3, maximum=10),
    "grant_coordinator_limit": BylawRule("600", _l("Pool minutes a coordinator may grant alone"),
                                         "minutes", minimum=0, maximum=100_000),
    "grant_decided_by": BylawRule("board", _l("Who decides a larger grant"), "choice",
                                  choices=GRANT_DECIDERS),
    "grant_ballot_days": BylawRule("7", _l("Days a grant ballot stays open"), "count",
                                   minimum=1, maximum=60),
}


def current(session: Session) -> dict[str, str]:
    """Every bylaw's value now: the adopted ones over the defaults."""
    values = {key: rule.default for key, rule in RULES.items()}
    values.update(dict(session.execute(sa.select(Bylaw.key, Bylaw.value)).all()))
    return values


def shown(key: str, stored: str) -> str:
    """A bylaw's value as the bylaws page says it (minutes are formatted by the page)."""
    return str(CHOICE_WORDS.get(stored, stored)) if RULES[key].kind == "choice" else stored


def value(session: Session, key: str) -> str:
    stored = session.get(Bylaw, key)
    return stored.value if stored is not None else RULES[key].default


def count(session: Session, key: str) -> int:
    return int(value(session, key))


def fraction(session: Session, key: str) -> Fraction:
    return Fraction(value(session, key))


def validate_change(key, new_value) -> tuple[str, str]:
    """A bylaw and a value it may take, as stored; else ValidationFailed."""
    rule = RULES.get(key) if isinstance(key, str) else None
    if rule is None:
        message = _l("There is no such bylaw.")
        raise ValidationFailed(message, code="unknown_bylaw", fields={"bylaw_key": message})
    text = str(new_value).strip() if isinstance(new_value, (str, int)) else ""
    if not _is_valid(rule, text):
        message = _l("That value is not allowed for this bylaw.")
        raise ValidationFailed(message, code="invalid_bylaw_value", fields={"bylaw_value": message})
    return key, text


def _is_valid(rule: BylawRule, text: str) -> bool:
    if rule.kind == "choice":
        return text in rule.choices
    if rule.kind == "fraction":
        try:
            share = Fraction(text)
        except (ValueError, ZeroDivisionError):
            return False
        return Fraction(1, 10) <= share < 1 and len(text) <= 10
    return text.isascii() and text.isdigit() and rule.minimum <= int(text) <= rule.maximum


def apply_change(session: Session, key: str, new_value: str, motion_id: int) -> None:
    """Set a bylaw the assembly adopted (the caller marks its motion applied, once)."""
    stored = session.get(Bylaw, key)
    if stored is None:
        stored = Bylaw(key=key)
        session.add(stored)
    stored.value, stored.changed_at = new_value, utcnow()
    stored.motion_id = motion_id
    session.flush()
