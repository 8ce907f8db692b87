"""The admin's forms for centres and memberships."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from carebank.centres.fields import NeighbourhoodField
from carebank.members.forms import ROLE_LABELS, member_number_field
from carebank.members.models import Role
from carebank.web.forms import options


class CentreForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    neighbourhoods = TextAreaField(_l("Add neighbourhoods served"), validators=[Optional(), Length(max=4000)],
                                   description=_l("One per line, with the district if you like (종로구 효자동). "
                                                  "New members living there join this centre."))

    def fields_for_service(self) -> dict:
        return {name: self[name].data or "" for name in ("name", "address", "phone", "neighbourhoods")}


class MembershipForm(FlaskForm):
    """An admin moves a member to a centre and gives them a role."""

    member_number = member_number_field()
    centre_id = SelectField(_l("Centre"), coerce=int, validate_choice=False)
    role = SelectField(_l("Role"), choices=lambda: options(
        (role.value, label) for role, label in ROLE_LABELS.items()), default=Role.MEMBER.value)


class NeighbourhoodEntryForm(FlaskForm):
    """Add or rename one neighbourhood on a centre's list."""

    name = StringField(_l("Neighbourhood (행정동)"), validators=[DataRequired(), Length(max=80)])
    district = StringField(_l("District (구, optional)"), validators=[Optional(), Length(max=40)])


class AssignNeighbourhoodForm(FlaskForm):
    """Map a value typed before the list to one of the list's neighbourhoods."""

    value = HiddenField(validators=[DataRequired()])
    neighbourhood = NeighbourhoodField(_l("Neighbourhood on the list"), validators=[DataRequired()])
