"""A person's name as the bank keeps it: one Unicode form, no invisible characters, and at
least one letter anyone can read.

A name is shown to neighbours, printed on cards and read out by coordinators on the phone. A
name of zero-width spaces looks empty; a right-to-left override makes the text around it read
backwards (a trick for faking names); control characters break lines and logs.
"""
from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

from carebank.core.errors import ValidationFailed

# Joiners stay: they are part of how some scripts (and emoji) are written, and show nothing alone.
KEPT_FORMAT_CHARACTERS = {"\u200c", "\u200d"}
SPACES = re.compile(r"\s+")


def clean_name(value, field: str, max_length: int, label) -> str:
    """`value` in NFC, without control or invisible formatting characters (bidi overrides,
    zero-width spaces), spaces collapsed; or ValidationFailed on `field` if nothing readable
    is left or it is longer than `max_length`."""
    text = unicodedata.normalize("NFC", value) if isinstance(value, str) else ""
    text = "".join(" " if char.isspace() else char for char in text if _kept(char))
    text = SPACES.sub(" ", text).strip()
    if not text:
        _refuse(field, _l("Please fill in %(field)s.", field=label))
    if not any(unicodedata.category(char).startswith("L") for char in text):
        _refuse(field, _l("%(field)s needs at least one letter.", field=label))
    if len(text) > max_length:
        _refuse(field, _l("%(field)s can be at most %(max)s characters.", field=label, max=max_length))
    return text


def _kept(char: str) -> bool:
    if char.isspace():
        return True
    category = unicodedata.category(char)
    if category == "Cf":
        return char in KEPT_FORMAT_CHARACTERS
    # Unassigned (Cn) stays: an emoji newer than this Python is still a character.
    return category not in ("Cc", "Cs", "Co")


def _refuse(field: str, message) -> None:
    raise ValidationFailed(message, fields={field: message})
