"""Forms for making a code and typing one in."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    StringField,
)
from wtforms.validators import DataRequired, Length

from carebank.web.forms import DurationMixin


class CodeForm(DurationMixin, FlaskForm):
    """How long the visit took; becomes a confirmation code."""


class RedeemForm(FlaskForm):
    code = StringField(_l("Confirmation code"), validators=[DataRequired(), Length(max=300)])
