"""The admin's forms for centres and memberships."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from carebank.members.forms import ROLE_LABELS, member_number_field
from carebank.members.models import Role
from carebank.web.forms import options


class CentreForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    neighbourhoods = TextAreaField(_l("Neighbourhoods served"), validators=[Optional(), Length(max=4000)],
                                   description=_l("One per line. New members living there join this centre."))

    def fields_for_service(self) -> dict:
        return {name: self[name].data or "" for name in ("name", "address", "phone", "neighbourhoods")}


class MembershipForm(FlaskForm):
    """An admin moves a member to a centre and gives them a role."""

    member_number = member_number_field()
    centre_id = SelectField(_l("Centre"), coerce=int, validate_choice=False)
    role = SelectField(_l("Role"), choices=lambda: options(
        (role.value, label) for role, label in ROLE_LABELS.items()), default=Role.MEMBER.value)
