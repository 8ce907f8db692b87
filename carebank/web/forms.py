"""What every feature's web forms share: durations as hours and minutes (made minutes here,
once), choices, the empty form of POST buttons and local times. Labels are lazily translated."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    SelectField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, ValidationError

from carebank.core.database import FIRST_YEAR, LAST_YEAR
from carebank.core.i18n import timezone_label

MINUTE_CHOICES = [SelectChoice(m, str(m)) for m in (0, 10, 15, 20, 30, 40, 45, 50)]
TIMEZONES = ["Asia/Seoul", "Asia/Tokyo", "Europe/London", "America/New_York", "America/Los_Angeles", "UTC"]


def options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def timezone_choices() -> list[SelectChoice]:
    """The zones a member may choose, named in the page's language (the value stays "Asia/Seoul")."""
    return options((zone, timezone_label(zone)) for zone in TIMEZONES)


def locale_choices():
    return options([("", _l("Same as my phone")), ("ko", "한국어"), ("en", "English")])


class EmptyForm(FlaskForm):
    """For buttons that POST (accept, close, log out): only the CSRF token."""


class DurationMixin:
    """Hours and minutes fields; `total_minutes` is what services receive."""

    # A service's complaint about `minutes` is shown under the hours box.
    SERVICE_FIELDS = {"minutes": "hours"}

    hours = IntegerField(_l("Hours"), default=1, validators=[NumberRange(min=0, max=24)])
    extra_minutes = SelectField(_l("Minutes"), choices=MINUTE_CHOICES, coerce=int, default=0)

    @property
    def total_minutes(self) -> int:
        return (self.hours.data or 0) * 60 + (self.extra_minutes.data or 0)


def plausible_date(form, field) -> None:
    """A date or date-time field's value lies between FIRST_YEAR and LAST_YEAR."""
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Please choose a date between %(first)s and %(last)s.",
                                 first=FIRST_YEAR, last=LAST_YEAR))


def local_to_utc(value: datetime | None) -> datetime | None:
    """A naive date-time typed in the member's time zone, as an aware UTC datetime."""
    if value is None:
        return None
    # Flask-Babel hands out pytz zones, which must not be used with replace(); go by name.
    return value.replace(tzinfo=ZoneInfo(str(get_timezone()))).astimezone(UTC)
