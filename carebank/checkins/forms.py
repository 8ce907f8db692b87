"""Forms of card check-ins: the carer's check-in and the centre's decision. Labels are lazily
translated."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from carebank.checkins.services import NOTE_MAX_LENGTH
from carebank.web.forms import DurationMixin


class CheckinForm(DurationMixin, FlaskForm):
    exchange_id = RadioField(_l("Which exchange"), coerce=int, validators=[DataRequired()])
    pin = PasswordField(_l("PIN"), validators=[Optional(), Length(max=10)],
                        render_kw={"maxlength": 4, "size": 4})
    note = StringField(_l("Note for the centre (optional)"),
                       validators=[Optional(), Length(max=NOTE_MAX_LENGTH)])
    request_token = HiddenField(validators=[DataRequired(), Length(max=64)])


class DecideForm(FlaskForm):
    # Sent by the button pressed: approve or reject.
    action = StringField(validators=[DataRequired(), AnyOf(["approve", "reject"])])
    reason = StringField(_l("Reason for rejecting"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)])
