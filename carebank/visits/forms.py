"""Forms of visits. Labels are lazily translated."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from carebank.careplans.forms import FIVE_MINUTES, LOCAL_TIME_FORMATS
from carebank.disputes.services import REASON_MAX_LENGTH as PROBLEM_MAX_LENGTH
from carebank.visits.safety import NOTE_MAX_LENGTH
from carebank.visits.services import REASON_MAX_LENGTH
from carebank.web.forms import DurationMixin, plausible_date


class ResolveForm(FlaskForm):
    """The centre has checked on a visit that was not checked out, and says what it found."""

    note = StringField(_l("What you found"), validators=[
        DataRequired(_l("Write what you found, for example “Called the carer: all is well.”")),
        Length(max=NOTE_MAX_LENGTH)])


class CancelForm(FlaskForm):
    reason = StringField(_l("Why is this visit cancelled?"), validators=[
        DataRequired(_l("Please say why the visit is cancelled.")), Length(max=REASON_MAX_LENGTH)],
        description=_l("The other person is told, with your reason."))


class ReportForm(FlaskForm):
    """A problem with a visit that was due, for the centre."""

    reason = TextAreaField(_l("What went wrong?"), validators=[
        DataRequired(_l("Please tell the centre what went wrong.")), Length(max=PROBLEM_MAX_LENGTH)],
        description=_l("For example: the visit did not happen, or the time counted is wrong."))


class ConfirmForm(DurationMixin, FlaskForm):
    """The receiver confirms the time: the checked-in time (rounded to 5 minutes) unless they
    give another."""

    extra_minutes = SelectField(_l("Minutes"), choices=FIVE_MINUTES, coerce=int, default=0)

    @property
    def chosen_minutes(self) -> int | None:
        """The time typed in, or None for the checked-in time (the one-tap button sends none)."""
        return self.total_minutes if self.hours.raw_data else None


class VisitTimeForm(DurationMixin, FlaskForm):
    """A visit's date, time and length: a one-off visit agreed, or one visit of a plan moved."""

    extra_minutes = SelectField(_l("Minutes"), choices=FIVE_MINUTES, coerce=int, default=0)

    starts_at = DateTimeLocalField(_l("Date and time"), format=LOCAL_TIME_FORMATS, validators=[
        DataRequired(_l("Choose the date and time of the visit.")), plausible_date])
