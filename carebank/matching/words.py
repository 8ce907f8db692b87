"""A match's reasons in the reader's words: "same kind of help · your neighbourhood · free on
Tuesday morning · has given 12 h", in the page's language and time zone."""
from __future__ import annotations

from babel.dates import get_day_names
from flask_babel import get_locale, gettext, ngettext, to_user_timezone

from carebank.matching.services import Reason, part_of_day

SEPARATOR = " · "

# By part of the day, as a language says each one whole ("화요일 오전에").
FREE_AT = {
    "morning": lambda day: gettext("free on %(weekday)s morning", weekday=day),
    "afternoon": lambda day: gettext("free on %(weekday)s afternoon", weekday=day),
    "evening": lambda day: gettext("free on %(weekday)s evening", weekday=day),
    "night": lambda day: gettext("free on %(weekday)s night", weekday=day),
}
WANTED_AT = {
    "morning": lambda day: gettext("wanted on %(weekday)s morning", weekday=day),
    "afternoon": lambda day: gettext("wanted on %(weekday)s afternoon", weekday=day),
    "evening": lambda day: gettext("wanted on %(weekday)s evening", weekday=day),
    "night": lambda day: gettext("wanted on %(weekday)s night", weekday=day),
}


def reason_text(reason: Reason) -> str:
    """One reason, as a few words."""
    if reason.code == "same_care":
        return gettext("same kind of help")
    if reason.code == "same_words":
        return gettext("asks for much the same")
    if reason.code == "nearby":
        return gettext("your neighbourhood")
    if reason.code in ("free_at", "wanted_at"):
        return _when(reason)
    if reason.code == "has_given":
        return _given(reason.value)
    return reason.code  # a code added in matching before its words: shown, not a 500


def reasons_text(reasons) -> str:
    """All of a match's reasons on one line."""
    return SEPARATOR.join(reason_text(reason) for reason in reasons)


def reasons_data(reasons) -> list[dict]:
    """For the API: [{"code": ..., "text": ...}], the text in the request's language."""
    return [{"code": reason.code, "text": reason_text(reason)} for reason in reasons]


def _when(reason: Reason) -> str:
    local = to_user_timezone(reason.value)
    weekday = get_day_names("wide", locale=get_locale())[local.weekday()]
    words = FREE_AT if reason.code == "free_at" else WANTED_AT
    return words[part_of_day(local.hour)](weekday)


def _given(minutes: int) -> str:
    hours = minutes // 60
    if hours:
        return ngettext("has given %(num)s hour", "has given %(num)s hours", hours)
    return ngettext("has given %(num)s minute", "has given %(num)s minutes", minutes)
