"""Forms of the coordinator console: members, vetting, grants, reversals, the audit log and
centres. Labels are lazily translated; services check the rules, forms only the shapes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...members import NAME_MAX_LENGTH
from ...models import Role, VettingStatus
from ..forms import DurationMixin, options

MAX_ID = 2**31 - 1
NOTE_MAX_LENGTH = 200

MEMBER_FILTERS = {
    "all": _l("All members"),
    "no_login": _l("Residents without a login"),
    "verified": _l("Verified carers"),
    "deactivated": _l("Deactivated"),
}
VETTING_LABELS = {
    VettingStatus.UNVERIFIED: _l("Not checked"),
    VettingStatus.VERIFIED: _l("Verified by the centre"),
    VettingStatus.SUSPENDED: _l("Suspended"),
}
ROLE_LABELS = {
    Role.MEMBER: _l("Member"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.ADMIN: _l("Administrator"),
}


def _member_locale_choices():
    return options([("ko", "한국어"), ("en", "English")])


def member_number_field(label=None):
    """The 6-digit number on cards and statements; leading zeros are fine ("000012")."""
    return IntegerField(label or _l("Member number"),
                        validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class MemberSearchForm(FlaskForm):
    """The member list's search; sent by GET so a search can be bookmarked."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, member number or phone"), validators=[Optional(), Length(max=80)])
    show = SelectField(_l("Show"), choices=lambda: options(MEMBER_FILTERS.items()), default="all")


class _ProfileFields(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    neighbourhood = StringField(_l("Neighbourhood"), validators=[Optional(), Length(max=80)])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=40)])
    locale = SelectField(_l("Language for their card and statements"), choices=_member_locale_choices,
                         default="ko")
    languages = StringField(_l("Languages they speak"), validators=[Optional(), Length(max=80)],
                            description=_l("For example: Korean, English"))
    offers_text = TextAreaField(_l("What they can offer"), validators=[Optional(), Length(max=2000)])

    def profile(self) -> dict:
        return {name: self[name].data or "" for name in
                ("name", "neighbourhood", "phone", "locale", "languages", "offers_text")}


class ResidentForm(_ProfileFields):
    """Registering a resident who has no email or phone: consent is recorded."""

    consent_note = StringField(
        _l("How they gave consent"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
        description=_l("Required. For example: signed the paper form at the centre on 3 May."),
    )
    centre_id = SelectField(_l("Centre"), coerce=int, validate_choice=False, default=0)


class MemberEditForm(_ProfileFields):
    pass


class VettingForm(FlaskForm):
    status = SelectField(_l("Carer check"), choices=lambda: options(
        (status.value, label) for status, label in VETTING_LABELS.items()))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
                       description=_l("For example: references checked, training done. Required when suspending."))


class DeactivateForm(FlaskForm):
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)])


class RespondForForm(FlaskForm):
    message = HiddenField(validators=[Optional(), Length(max=1000)])


class ConsoleGrantForm(DurationMixin, FlaskForm):
    """A grant from the community pool, always with its reason."""

    SERVICE_FIELDS = {"minutes": "hours"}

    to_member_id = member_number_field()
    memo = StringField(_l("Reason"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
                       description=_l("Required. The member sees it in their history."))


class ReverseForm(FlaskForm):
    memo = StringField(_l("Reason for the correction"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
                       description=_l("Required. Both members see it in their history."))
    confirm = BooleanField(_l("I have checked: this transaction was wrong and its time must go back."),
                           validators=[DataRequired(_l("Please tick the box to confirm."))])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    member = IntegerField(_l("Member number"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    before = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


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
