"""The console's form for a visit a coordinator records for an exchange."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from carebank.dashboard.services import REASON_MAX_LENGTH
from carebank.web.forms import DurationMixin


class RecordVisitForm(DurationMixin, FlaskForm):
    SERVICE_FIELDS = {"minutes": "hours", "memo": "reason"}

    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=REASON_MAX_LENGTH)],
        description=_l("For example: confirmed by phone with both of them."),
    )
