"""Forms of the register, board seats, grant requests and budget ballots. Labels are lazily
translated; the services check the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from carebank.governance.models import MemberClass
from carebank.governance.register import CLASS_LABELS, MAX_SHARES, NOT_SET
from carebank.web.forms import local_to_utc, options, plausible_date

LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
BODY_MAX_LENGTH = 80


def class_choices(empty_label=NOT_SET):
    return options([("", empty_label), *((c.value, CLASS_LABELS[c]) for c in MemberClass)])


class RegisterEntryForm(FlaskForm):
    member_class = SelectField(_l("Member class"), default="", validators=[Optional()])
    joined_on = DateField(_l("Joined on"), validators=[Optional(), plausible_date],
                          description=_l("Empty: the day they signed up."))
    left_on = DateField(_l("Left on (optional)"), validators=[Optional(), plausible_date])
    shares = IntegerField(_l("Shares"), default=1, validators=[InputRequired(), NumberRange(min=0, max=MAX_SHARES)],
                          description=_l("Shares never weigh a vote: one member, one vote."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.member_class.choices = class_choices()


class RegisterFilterForm(FlaskForm):
    """The register's filter; sent by GET."""

    class Meta:
        csrf = False

    member_class = SelectField(_l("Class"), default="", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.member_class.choices = options([("", _l("Every class")), ("unset", NOT_SET),
                                             *((c.value, CLASS_LABELS[c]) for c in MemberClass)])


class RecordDateForm(FlaskForm):
    class Meta:
        csrf = False

    day = DateField(_l("Record date"), validators=[Optional(), plausible_date])


class SeatForm(FlaskForm):
    body = StringField(_l("Committee (optional)"), default="",
                       validators=[Optional(), Length(max=BODY_MAX_LENGTH)],
                       description=_l("Leave it empty for a seat on the board, or write the committee's name."))
    starts_on = DateField(_l("From"), validators=[DataRequired(), plausible_date])


class EndSeatForm(FlaskForm):
    ends_on = DateField(_l("Until (the first day without the seat)"), validators=[DataRequired(), plausible_date])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BudgetForm(FlaskForm):
    budget_hours = IntegerField(_l("Budget (hours of pool time)"),
                                validators=[InputRequired(), NumberRange(min=1, max=100_000)])
    closes_at = DateTimeLocalField(_l("Ballot closes"), format=LOCAL_TIME_FORMATS,
                                   validators=[DataRequired(), plausible_date])
    request_ids = MultiCheckboxField(_l("Grant requests on the ballot"), coerce=int,
                                     validators=[DataRequired(_l("Choose one or more open grant requests."))])

    def closes_at_utc(self):
        return local_to_utc(self.closes_at.data)


class AllocateForm(FlaskForm):
    option_ids = MultiCheckboxField(_l("The requests you choose"), coerce=int, validators=[Optional()])

