"""Forms of disputes: a member reporting a problem, the centre settling it. Labels are lazily
translated."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from carebank.core.i18n import format_minutes
from carebank.disputes.services import REASON_MAX_LENGTH, RESOLUTION_MAX_LENGTH, visit_minutes
from carebank.web import format_when
from carebank.web.forms import DurationMixin, options


def visit_choices(visits, empty_label) -> list[tuple[str, str]]:
    """Select options for visits: "date · duration"."""
    return [("", empty_label)] + [
        (str(v.id), f"{format_when(v.created_at)} · {format_minutes(visit_minutes(v))}")
        for v in visits
    ]


class VisitChoice:
    """A form whose `transaction_id` select names a visit, or none ("")."""

    def chosen_transaction(self) -> int | None:
        return int(self.transaction_id.data) if self.transaction_id.data else None


class ProblemForm(VisitChoice, FlaskForm):
    reason = TextAreaField(
        _l("What went wrong?"),
        validators=[DataRequired(), Length(max=REASON_MAX_LENGTH)],
        description=_l("For example: the visit did not happen, or the time counted is wrong."),
    )
    transaction_id = SelectField(_l("Which visit? (optional)"), default="")


class SettleForm(VisitChoice, DurationMixin, FlaskForm):
    """How the centre settles a dispute; minutes count only for "credit", the visit only
    for "reverse"."""

    SERVICE_FIELDS = {"minutes": "hours", "memo": "resolution"}

    outcome = RadioField(_l("What the centre decided"), validators=[DataRequired()], choices=options([
        ("reverse", _l("Reverse a visit that was wrong")),
        ("credit", _l("Record a visit the two could not confirm")),
        ("dismiss", _l("No change to anyone's time")),
    ]))
    transaction_id = SelectField(_l("Visit to reverse"), default="")
    resolution = TextAreaField(
        _l("Decision, for the member"), validators=[DataRequired(), Length(max=RESOLUTION_MAX_LENGTH)],
        description=_l("The member sees this on the exchange page, and it is kept with the change."),
    )
