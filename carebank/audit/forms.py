"""The audit log's filter: a member number, and where the page starts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from carebank.core.converters import MAX_ID


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    member = IntegerField(_l("Member number"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    before = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
