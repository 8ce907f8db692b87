"""Web forms. Labels are lazily translated; durations become minutes here, once."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..categories import category_choices
from ..members import NAME_MAX_LENGTH, PASSWORD_MIN_LENGTH
from ..posts import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH

MINUTE_CHOICES = [SelectChoice(m, str(m)) for m in (0, 10, 15, 20, 30, 40, 45, 50)]
TIMEZONES = ["Asia/Seoul", "Asia/Tokyo", "Europe/London", "America/New_York", "America/Los_Angeles", "UTC"]


def options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


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


class SignupForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN_LENGTH)],
        description=_l("At least %(min)s characters.", min=PASSWORD_MIN_LENGTH),
    )
    neighbourhood = StringField(
        _l("Neighbourhood"), validators=[Optional(), Length(max=80)],
        description=_l("For example: Hyoja-dong"),
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in on this phone"))


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    neighbourhood = StringField(_l("Neighbourhood"), validators=[Optional(), Length(max=80)])
    languages = StringField(
        _l("Languages you speak"), validators=[Optional(), Length(max=80)],
        description=_l("For example: Korean, English"),
    )
    offers_text = TextAreaField(_l("What I can offer"), validators=[Optional(), Length(max=2000)])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=40)])
    locale = SelectField(_l("Language of this app"), choices=locale_choices, default="")
    timezone = SelectField(_l("Time zone"), choices=options((tz, tz) for tz in TIMEZONES), default="Asia/Seoul")


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=PASSWORD_MIN_LENGTH)])


class PostForm(DurationMixin, FlaskForm):
    kind = RadioField(
        _l("I…"),
        choices=options([("need", _l("need help")), ("offer", _l("can help"))]),
        validators=[DataRequired()],
    )
    category = SelectField(_l("Kind of care"), choices=lambda: options(category_choices()), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=DESCRIPTION_MAX_LENGTH)])
    neighbourhood = StringField(_l("Neighbourhood"), validators=[Optional(), Length(max=80)])
    starts_at = DateTimeLocalField(_l("From (optional)"), validators=[Optional()])
    ends_at = DateTimeLocalField(_l("Until (optional)"), validators=[Optional()])

    def window_utc(self) -> tuple[datetime | None, datetime | None]:
        return local_to_utc(self.starts_at.data), local_to_utc(self.ends_at.data)


class PostFilterForm(FlaskForm):
    """The browse filter; sent by GET so a filtered list can be bookmarked."""

    class Meta:
        csrf = False

    kind = SelectField(
        _l("Needs or offers"),
        choices=options([("", _l("All")), ("need", _l("Needs")), ("offer", _l("Offers"))]),
        default="",
    )
    category = SelectField(_l("Kind of care"), choices=lambda: options([("", _l("All kinds")), *category_choices()]), default="")
    neighbourhood = StringField(_l("Neighbourhood"))
    q = StringField(_l("Search"))


class RespondForm(FlaskForm):
    message = TextAreaField(_l("Message (optional)"), validators=[Optional(), Length(max=1000)])


class CodeForm(DurationMixin, FlaskForm):
    """How long the visit took; becomes a confirmation code."""


class RedeemForm(FlaskForm):
    code = StringField(_l("Confirmation code"), validators=[DataRequired(), Length(max=300)])


class GiftForm(DurationMixin, FlaskForm):
    to_member_id = IntegerField(_l("Member number"), validators=[DataRequired(), NumberRange(min=1)])
    memo = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])


class DonateForm(DurationMixin, FlaskForm):
    memo = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])


class GrantForm(GiftForm):
    """A coordinator grants time from the community pool, saying why (shown in the member's
    history and the audit log)."""

    memo = StringField(_l("Reason"), validators=[Length(max=200)])


def local_to_utc(value: datetime | None) -> datetime | None:
    """A naive date-time typed in the member's time zone, as an aware UTC datetime."""
    if value is None:
        return None
    # Flask-Babel hands out pytz zones, which must not be used with replace(); go by name.
    return value.replace(tzinfo=ZoneInfo(str(get_timezone()))).astimezone(UTC)
