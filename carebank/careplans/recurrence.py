"""When a care plan's visits fall: RRULE text from the presets, its validation, the dated
occurrences in a window (holidays skipped or moved), and the plan in plain words.

Pure functions: no database. A "plan" here is anything with the CarePlan fields `rrule`,
`starts_at`, `timezone`, `minutes`, `until`, `place` and `holiday_policy`.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays
from babel import Locale
from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list
from dateutil.rrule import rrulestr
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from carebank.core.errors import ValidationFailed
from carebank.core.i18n import format_minutes

DEFAULT_ZONE = "Asia/Seoul"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # in Python's weekday() order
WORKING_WEEK = WEEKDAYS[:5]
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY")
MAX_INTERVAL = 4
NTH = (1, 2, 3, 4, -1)  # which weekday of the month; -1 is the last
RRULE_MAX_LENGTH = 200  # the column's size
# A holiday visit moves at most this far; past it (a plan that visits every working day has
# no free one) it is skipped, so one holiday never pushes a visit weeks away.
MOVE_SEARCH_DAYS = 14
NTH_DAY = re.compile(r"^(-1|[1-4])?(MO|TU|WE|TH|FR|SA|SU)$")


# --- presets -------------------------------------------------------------------------------

def weekly(days: Iterable[str], interval: int = 1) -> str:
    """Every week (or every `interval` weeks) on the chosen days: "FREQ=WEEKLY;BYDAY=TU,TH"."""
    chosen = _week_days(days)
    return _rule("WEEKLY", interval, ",".join(chosen))


def every_other_week(days: Iterable[str]) -> str:
    return weekly(days, interval=2)


def weekdays() -> str:
    """Monday to Friday: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"."""
    return weekly(WORKING_WEEK)


def monthly_nth(day: str, nth: int) -> str:
    """The nth weekday of every month ("FREQ=MONTHLY;BYDAY=2TU"); nth -1 is the last one."""
    if nth not in NTH:
        raise _invalid(_l("Choose the first to fourth, or the last, weekday of the month."))
    return _rule("MONTHLY", 1, f"{nth}{_week_days([day])[0]}")


PRESETS = {"weekly": weekly, "every_other_week": every_other_week, "weekdays": weekdays,
           "monthly": monthly_nth}


def _week_days(days: Iterable[str]) -> list[str]:
    chosen = {d.strip().upper() for d in days if isinstance(d, str)}
    if not chosen or not chosen <= set(WEEKDAYS):
        raise _invalid(_l("Choose one or more days of the week."))
    return [d for d in WEEKDAYS if d in chosen]


def _rule(freq: str, interval: int, byday: str = "") -> str:
    parts = [f"FREQ={freq}"]
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if byday:
        parts.append(f"BYDAY={byday}")
    return ";".join(parts)


# --- validation ----------------------------------------------------------------------------

def _invalid(message) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_rrule", fields={"rrule": message})


def validate_rrule(text) -> str:
    """The RRULE text in its normal form ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"), or
    ValidationFailed (field "rrule"). Only FREQ (daily, weekly, monthly), INTERVAL (1–4) and
    BYDAY; the plan's end date ends it, so COUNT and UNTIL are refused."""
    parts = _parts(text)
    if "COUNT" in parts or "UNTIL" in parts:
        raise _invalid(_l("The plan's end date ends the schedule: leave out COUNT and UNTIL."))
    if set(parts) - {"FREQ", "INTERVAL", "BYDAY"}:
        raise _invalid(_l("A schedule may only use FREQ, INTERVAL and BYDAY."))
    freq = parts.get("FREQ")
    if freq not in FREQUENCIES:
        raise _invalid(_l("A schedule repeats daily, weekly or monthly."))
    interval = _interval(parts.get("INTERVAL", "1"))
    normal = _rule(freq, interval, _byday(freq, parts.get("BYDAY")))
    try:
        rrulestr(normal, dtstart=datetime(2000, 1, 1))  # dateutil must read it as we do
    except (ValueError, TypeError):
        raise _unreadable() from None
    return normal


def _unreadable() -> ValidationFailed:
    return _invalid(_l("This schedule could not be read. Use a rule like FREQ=WEEKLY;BYDAY=TU,TH."))


def _parts(text) -> dict[str, str]:
    if not isinstance(text, str) or not text.strip() or len(text) > RRULE_MAX_LENGTH:
        raise _unreadable()
    body = text.strip().upper().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for part in filter(None, body.split(";")):  # a trailing ";" is harmless
        key, sign, value = part.partition("=")
        if not sign or not key.strip() or key.strip() in parts:
            raise _unreadable()
        parts[key.strip()] = value.strip()
    return parts


def _interval(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_INTERVAL:
        raise _invalid(_l("A schedule repeats every 1 to 4 days, weeks or months."))
    return int(value)


def _byday(freq: str, value: str | None) -> str:
    """BYDAY in week order: plain days for a weekly rule, the nth weekday for a monthly one."""
    if value is None:
        if freq == "MONTHLY":
            raise _invalid(_l("A monthly schedule names the weekday, like 2TU for the second Tuesday."))
        return ""
    if freq == "DAILY":
        raise _invalid(_l("A daily schedule has no days: use a weekly one for chosen days."))
    found = [NTH_DAY.match(day.strip()) for day in value.split(",")]
    if not all(found):
        raise _invalid(_l("Name the days as MO, TU, WE, TH, FR, SA or SU."))
    numbered = [m for m in found if m.group(1)]
    if freq == "WEEKLY" and numbered:
        raise _invalid(_l("A weekly schedule names days without a number, like TU,TH."))
    if freq == "MONTHLY" and len(numbered) != len(found):
        raise _invalid(_l("A monthly schedule names the weekday, like 2TU for the second Tuesday."))
    days = sorted({m.group(0) for m in found}, key=lambda d: (WEEKDAYS.index(d[-2:]), _nth_of(d)))
    return ",".join(days)


def _nth_of(byday: str) -> int:
    """The number before a BYDAY day, 0 for none; the last (-1) sorts after the fourth."""
    number = int(byday[:-2] or 0)
    return 5 if number == -1 else number


def read_rule(text: str) -> tuple[str, int, list[str]]:
    """FREQ, INTERVAL and the BYDAY entries of a rule validate_rrule accepted."""
    parts = dict(part.split("=", 1) for part in text.split(";"))
    byday = parts.get("BYDAY", "")
    return parts["FREQ"], int(parts.get("INTERVAL", 1)), byday.split(",") if byday else []


# --- occurrences ---------------------------------------------------------------------------

class Occurrence(NamedTuple):
    original_start: datetime  # the rule's own start (UTC): the visit's identity
    starts_at: datetime  # where the visit is (UTC): later than original_start when moved
    moved: bool


@lru_cache(maxsize=64)
def korean_holidays(year: int) -> frozenset[date]:
    """Korea's public holidays of a year, with the lunar ones and the substitute days."""
    return frozenset(holidays.KR(years=year))


def is_closed(day: date, closures: Collection[date] = ()) -> bool:
    """A public holiday or one of the centre's closure days."""
    return day in korean_holidays(day.year) or day in closures


def is_working_day(day: date, closures: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and not is_closed(day, closures)


def _local_rule(plan, from_day: date | None = None):
    """The rule in wall-clock time: naive datetimes in the plan's zone, so 10:00 stays 10:00
    across a DST change; the last one on `until`. With `from_day`, the rule starts at the
    latest whole period (day, week or month, by its interval) on or before that day instead of
    the plan's start, so a plan in its second year is not walked from its first day."""
    zone = ZoneInfo(plan.timezone or DEFAULT_ZONE)
    first = plan.starts_at.astimezone(zone).replace(tzinfo=None)
    if from_day is not None and from_day > first.date():
        first = _period_start(first, *read_rule(plan.rrule), from_day)
    last = datetime.combine(plan.until, time.max)
    return zone, rrulestr(plan.rrule, dtstart=first).replace(until=last)


def _period_start(first: datetime, freq: str, interval: int, byday: list[str], day: date) -> datetime:
    """The start of the rule's last period that begins on or before `day`: the same
    occurrences from there on as walking from `first`, since the periods stay aligned."""
    if freq == "MONTHLY":
        months = ((day.year - first.year) * 12 + day.month - first.month) // interval * interval
        year, month = divmod(first.month - 1 + months, 12)
        return first.replace(year=first.year + year, month=month + 1, day=1) if months else first
    length = interval * (7 if freq == "WEEKLY" else 1)
    periods = (day - first.date()).days // length
    if not periods:
        return first
    shifted = first + timedelta(days=periods * length)
    # A weekly rule's period is the week (from Monday): its days before the shifted weekday
    # count too. Without BYDAY the start's own weekday is the day, so it stays.
    return shifted - timedelta(days=shifted.weekday()) if freq == "WEEKLY" and byday else shifted


def first_start(plan) -> datetime | None:
    """The rule's first start on or after the plan's start (UTC), holidays aside; None if none
    falls before `until`."""
    zone, rule = _local_rule(plan)
    wall = next(iter(rule), None)
    return None if wall is None else _utc(wall, zone)


def _utc(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone).astimezone(UTC)


def occurrences(plan, start: datetime, end: datetime, closures: Collection[date] = (), *,
                existing: Collection[datetime] = (), taken_days: Collection[date] = ()) -> list[Occurrence]:
    """The plan's visits whose original start lies in [start, end), in start order.

    A visit on a public holiday or a closure day is dropped ("skip") or moved ("move") to the
    next working day at the same time: never a weekend, a holiday, a closure day, a day that
    already holds a visit of the plan, or past the plan's end. `existing` are original starts
    whose visits were made already (left out here), `taken_days` the days those visits are on.
    Where a visit moves never depends on the window (see `_settled_day`).
    """
    zone = ZoneInfo(plan.timezone or DEFAULT_ZONE)
    walk_from = _settled_day(start.astimezone(zone).date(), closures)
    zone, rule = _local_rule(plan, walk_from)
    horizon = end.astimezone(zone).date() + timedelta(days=MOVE_SEARCH_DAYS)
    existing = set(existing)
    fresh = [(w, _utc(w, zone)) for w in _until_day(rule, horizon) if w.date() >= walk_from]
    fresh = [(w, instant) for w, instant in fresh if instant not in existing]
    taken = set(taken_days) | {w.date() for w, _ in fresh if not is_closed(w.date(), closures)}
    found = []
    for wall, original in fresh:
        placed = _place(wall, original, plan, closures, taken)
        if placed is not None and start <= original < end:
            found.append(Occurrence(original, placed, placed != original))
    return sorted(found, key=lambda o: (o.starts_at, o.original_start))


def _settled_day(day: date, closures) -> date:
    """A day on or before `day` with no holiday or closure in the MOVE_SEARCH_DAYS before it.
    A move only claims a day within that reach after its own, so no visit before this day can
    change where one from it on goes: walking the rule from here is the same as from its start."""
    while True:
        reach = [day - timedelta(days=back) for back in range(1, MOVE_SEARCH_DAYS + 1)]
        closed = [d for d in reach if is_closed(d, closures)]
        if not closed:
            return day
        day = min(closed)


def _until_day(rule, last_day: date) -> Iterable[datetime]:
    for wall in rule:
        if wall.date() > last_day:
            return
        yield wall


def _place(wall: datetime, original: datetime, plan, closures, taken: set[date]) -> datetime | None:
    """Where one occurrence goes (UTC), or None when it is skipped. A move claims its day."""
    if not is_closed(wall.date(), closures):
        return original
    if str(plan.holiday_policy) != "move":
        return None
    day = next_free_day(wall.date(), closures, taken, plan.until)
    if day is None:
        return None
    taken.add(day)
    return _utc(datetime.combine(day, wall.time()), ZoneInfo(plan.timezone or DEFAULT_ZONE))


def next_free_day(after: date, closures, taken: Collection[date], until: date) -> date | None:
    """The first working day after `after`, holding no visit yet, no later than `until`."""
    for step in range(1, MOVE_SEARCH_DAYS + 1):
        day = after + timedelta(days=step)
        if day > until:
            return None
        if is_working_day(day, closures) and day not in taken:
            return day
    return None


# --- plain words ---------------------------------------------------------------------------

ORDINALS = {1: _l("first %(day)s"), 2: _l("second %(day)s"), 3: _l("third %(day)s"),
            4: _l("fourth %(day)s"), -1: _l("last %(day)s")}
PLACES = {"home": _l("at home"), "centre": _l("at the centre")}
# Korean says "오전 10시" for a time on the hour; other languages keep the minutes ("10:00 AM").
ON_THE_HOUR = {"ko": "h"}
# Korean lists days as "화·목"; other languages take Babel's list ("Tue and Thu").
DAY_SEPARATOR = {"ko": "·"}


def summary(plan, locale: str, *, short: bool = False) -> str:
    """The plan in plain words, in `locale`: "Every Tue and Thu at 10:00 AM, 2 h, at home,
    until Oct 14, 2027" / "매주 화·목 오전 10시, 2시간, 댁에서, 2027. 10. 14.까지".
    `short` leaves out the place and the end date."""
    language = Locale.parse(locale)
    zone = ZoneInfo(plan.timezone or DEFAULT_ZONE)
    first = plan.starts_at.astimezone(zone)
    with force_locale(locale):
        text = gettext("%(rule)s at %(time)s, %(duration)s", rule=_rule_words(plan.rrule, first, language),
                       time=_time_words(first.time(), language), duration=format_minutes(plan.minutes))
        if short:
            return text
        place = PLACES.get(str(plan.place), PLACES["home"])
        until = gettext("until %(date)s", date=format_date(plan.until, "medium", locale=language))
        return gettext("%(summary)s, %(place)s, %(until)s", summary=text, place=str(place), until=until)


def _rule_words(rrule: str, first: datetime, language: Locale) -> str:
    freq, interval, byday = read_rule(rrule)
    if freq == "DAILY":
        return gettext("Every day") if interval == 1 else gettext("Every %(n)s days", n=interval)
    if freq == "MONTHLY":
        return _monthly_words(interval, byday, language)
    byday = byday or [WEEKDAYS[first.weekday()]]
    if interval == 1 and byday == list(WORKING_WEEK):
        return gettext("Weekdays")
    days = _join([_day_name(d, "abbreviated", language) for d in byday], language)
    if interval == 1:
        return gettext("Every %(days)s", days=days)
    if interval == 2:
        return gettext("Every other week on %(days)s", days=days)
    return gettext("Every %(n)s weeks on %(days)s", n=interval, days=days)


def _monthly_words(interval: int, byday: list[str], language: Locale) -> str:
    days = _join([str(ORDINALS[int(d[:-2])] % {"day": _day_name(d[-2:], "wide", language)})
                  for d in byday], language)
    if interval == 1:
        return gettext("The %(days)s of every month", days=days)
    if interval == 2:
        return gettext("The %(days)s of every other month", days=days)
    return gettext("The %(days)s of every %(n)s months", days=days, n=interval)


def _day_name(code: str, width: str, language: Locale) -> str:
    return get_day_names(width, locale=language)[WEEKDAYS.index(code)]


def _join(items: list[str], language: Locale) -> str:
    separator = DAY_SEPARATOR.get(language.language)
    return separator.join(items) if separator else format_list(items, locale=language)


def _time_words(moment: time, language: Locale) -> str:
    """The wall-clock time with the day period spelled out ("오전", "AM")."""
    skeleton = ON_THE_HOUR.get(language.language, "hm") if moment.minute == 0 else "hm"
    pattern = str(language.datetime_skeletons[skeleton]).replace("a", "aaaa")
    return format_time(moment, pattern, locale=language)
