"""Forms for signing up, logging in and the profile, and the console's member forms.
Labels are lazily translated; services check the rules, forms only the shapes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from carebank.centres.fields import NeighbourhoodField
from carebank.core.converters import MAX_ID
from carebank.members.models import Role, VettingStatus
from carebank.members.on_behalf import NOTE_MAX_LENGTH
from carebank.members.services import NAME_MAX_LENGTH, PASSWORD_MIN_LENGTH
from carebank.web.forms import locale_choices, options, timezone_choices


class SignupForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN_LENGTH)],
        description=_l("At least %(min)s characters.", min=PASSWORD_MIN_LENGTH),
    )
    neighbourhood = NeighbourhoodField(_l("Neighbourhood"),
                                       description=_l("Your centre is the one that serves it."))
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=40)],
                        description=_l("Only your centre sees it, unless you choose to show it to your exchange partners."))


class PasskeySignupForm(SignupForm):
    """Signing up with this phone's screen lock instead of an e-mail and password."""

    email = None
    password = None


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in on this phone"))


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    neighbourhood = NeighbourhoodField(_l("Neighbourhood"))
    languages = StringField(
        _l("Languages you speak"), validators=[Optional(), Length(max=80)],
        description=_l("For example: Korean, English"),
    )
    offers_text = TextAreaField(_l("What I can offer"), validators=[Optional(), Length(max=2000)])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=40)])
    phone_shared_with_partners = BooleanField(_l("Show my phone number to the people I have an exchange with"),
                                              description=_l("Your centre always sees it."))
    locale = SelectField(_l("Language of this app"), choices=locale_choices, default="")
    timezone = SelectField(_l("Time zone"), choices=timezone_choices, default="Asia/Seoul")


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=PASSWORD_MIN_LENGTH)])


class FirstPasswordForm(FlaskForm):
    """A password for a member who signs in with a passkey or card, and an e-mail to log in by."""

    email = EmailField(_l("Email"), validators=[Optional(), Email(check_deliverability=False)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=PASSWORD_MIN_LENGTH)],
                                 description=_l("At least %(min)s characters.", min=PASSWORD_MIN_LENGTH))


# The console's member forms.

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
    neighbourhood = NeighbourhoodField(_l("Neighbourhood"))
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
