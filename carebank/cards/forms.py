"""The console's card forms: a member's PIN, blocking a card, and batch printing.
Labels are lazily translated; services check the rules, forms only the shapes."""
from __future__ import annotations

from datetime import datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from carebank.web.forms import local_to_utc, options, plausible_date


class PinForm(FlaskForm):
    pin = PasswordField(
        _l("New PIN"), validators=[Optional(), Length(max=20)],
        description=_l("4 digits the member chooses and remembers. They type it on the carer's phone."),
    )

    def validate_change(self, clearing: bool) -> bool:
        """Sent and valid, and either clearing the PIN or giving a new one."""
        if not self.validate_on_submit():
            return False
        if clearing or self.pin.data:
            return True
        self.pin.errors = [_("Type the 4 digits of the new PIN.")]
        return False


class BlockForm(FlaskForm):
    reason = StringField(
        _l("Why"), validators=[DataRequired(), Length(max=200)],
        description=_l("For example: lost on the bus, 3 March"),
    )


class BatchForm(FlaskForm):
    which = RadioField(
        _l("Print cards for"),
        choices=options([("without_card", _l("Members without a working card")),
                         ("since", _l("Members registered since a date")),
                         ("all", _l("All members"))]),
        default="without_card", validators=[InputRequired()],
    )
    since = DateField(_l("Registered since"), validators=[Optional(), plausible_date])
    centre_id = SelectField(_l("Centre"), coerce=lambda v: int(v) if v else None, default="")

    def validate(self, extra_validators=None) -> bool:
        # `Optional` on the date ends its own checks, so "since" without a date is caught here.
        if not super().validate(extra_validators):
            return False
        if self.which.data == "since" and self.since.data is None:
            self.since.errors = [_("Choose the date.")]
            return False
        return True

    def since_utc(self) -> datetime | None:
        """The start of the chosen day in the coordinator's zone, when printing "since"."""
        if self.which.data != "since":
            return None
        return local_to_utc(datetime.combine(self.since.data, time()))
