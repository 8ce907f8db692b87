"""Forms of care plans: how often (a preset and its days), the first visit, the length, the last
day, the place and what happens on holidays. The RRULE is made here from the preset, once.
Labels are lazily translated."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, RadioField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from carebank.careplans import recurrence
from carebank.careplans.models import CarePlan
from carebank.web.forms import DurationMixin, local_to_utc, options, plausible_date

# A datetime-local box shows "2027-09-07T10:00" (what browsers send back); the others still read.
LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
# Every 5 minutes: a plan or visit made through the API, or a checked-in time, may hold any of them.
FIVE_MINUTES = [SelectChoice(m, str(m)) for m in range(0, 60, 5)]
PRESETS = [
    ("weekly", _l("Every week, on the days I choose")),
    ("every_other_week", _l("Every other week, on the days I choose")),
    ("weekdays", _l("Every weekday, Monday to Friday")),
    ("monthly", _l("Once a month, on one weekday")),
]
NTH = [(1, _l("First")), (2, _l("Second")), (3, _l("Third")), (4, _l("Fourth")), (-1, _l("Last"))]
PLACES = [("home", _l("At the home of the person helped")), ("centre", _l("At the centre"))]
HOLIDAYS = [("skip", _l("No visit that day")), ("move", _l("Move the visit to the next working day"))]


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (the days of the week)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def day_choices() -> list[tuple[str, str]]:
    """MO … SU with the day names of the request's language (Babel's, so nothing to translate)."""
    names = get_day_names("wide", locale=get_locale())
    return [(code, names[index]) for index, code in enumerate(recurrence.WEEKDAYS)]


class PlanForm(DurationMixin, FlaskForm):
    """A schedule of visits, from the presets; `plan_values()` is what propose_plan and
    edit_from take."""

    # The service names the rule "rrule": its complaints (no day chosen) go under the days.
    SERVICE_FIELDS = {**DurationMixin.SERVICE_FIELDS, "rrule": "days"}

    extra_minutes = SelectField(_l("Minutes"), choices=FIVE_MINUTES, coerce=int, default=0)
    preset = RadioField(_l("How often"), choices=options(PRESETS), default="weekly")
    days = CheckboxesField(_l("On which days"), description=_l("For every week or every other week."))
    nth = SelectField(_l("Which one in the month"), choices=options(NTH), coerce=int, default=1)
    month_day = SelectField(_l("Weekday"), default="MO")
    starts_at = DateTimeLocalField(_l("First visit: date and time"), format=LOCAL_TIME_FORMATS, validators=[
        DataRequired(_l("Choose the date and time of the first visit.")), plausible_date])
    until = DateField(_l("Last day of these visits"), validators=[
        DataRequired(_l("Choose the last day of these visits.")), plausible_date],
        description=_l("No visits after this day. You can agree new ones then."))
    place = RadioField(_l("Where"), choices=options(PLACES), default="home")
    holiday_policy = RadioField(_l("On public holidays and centre closure days"), choices=options(HOLIDAYS),
                                default="skip")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.days.choices = self.month_day.choices = day_choices()

    def rrule(self) -> str:
        """The RRULE of the chosen preset; ValidationFailed (on `days`) when no day is chosen."""
        preset = self.preset.data
        if preset == "monthly":
            return recurrence.monthly_nth(self.month_day.data, self.nth.data)
        if preset == "weekdays":
            return recurrence.weekdays()
        return recurrence.PRESETS[preset](self.days.data or [])

    def plan_values(self) -> dict:
        return dict(rrule=self.rrule(), starts_at=local_to_utc(self.starts_at.data), minutes=self.total_minutes,
                    until=self.until.data, place=self.place.data, holiday_policy=self.holiday_policy.data)


def hours_and_minutes(minutes: int) -> dict:
    """A duration form's values for `minutes` (to 5 minutes, as the minutes box offers)."""
    hours, rest = divmod(minutes, 60)
    return {"hours": hours, "extra_minutes": rest - rest % 5}


def new_plan_form(minutes: int, prefix: str) -> PlanForm:
    """An empty proposal, its length the post's."""
    return PlanForm(formdata=None, prefix=prefix, **hours_and_minutes(minutes))


def change_form(plan: CarePlan, start: datetime, prefix: str) -> PlanForm:
    """The plan as it is, from the visit starting at `start` ("change from this visit on")."""
    return PlanForm(formdata=None, prefix=prefix, **hours_and_minutes(plan.minutes), until=plan.until,
                    starts_at=local_wall_clock(start), place=plan.place.value,
                    holiday_policy=plan.holiday_policy.value, **preset_of(plan.rrule, start))


def preset_of(rrule: str, start: datetime) -> dict:
    """The preset fields that make `rrule`; a rule no preset makes (the API allows a few more)
    shows as every week on the visit's own day."""
    freq, interval, byday = recurrence.read_rule(rrule)
    if freq == "MONTHLY" and interval == 1 and len(byday) == 1:
        return {"preset": "monthly", "nth": int(byday[0][:-2]), "month_day": byday[0][-2:]}
    if freq == "WEEKLY" and interval == 1 and byday == list(recurrence.WORKING_WEEK):
        return {"preset": "weekdays"}
    if freq == "WEEKLY" and interval in (1, 2) and byday:
        return {"preset": "weekly" if interval == 1 else "every_other_week", "days": byday}
    return {"preset": "weekly", "days": [recurrence.WEEKDAYS[local_wall_clock(start).weekday()]]}


def local_wall_clock(moment: datetime) -> datetime:
    """An instant as the naive date-time the member reads and types (their zone)."""
    return moment.astimezone(ZoneInfo(str(get_timezone()))).replace(tzinfo=None)
