"""Forms of the general assembly's console pages: calling it, the door register, the officers,
motions and the tellers' count. Labels are lazily translated; the services check the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from carebank.core.converters import MAX_ID
from carebank.governance import assemblies, bylaws
from carebank.web.forms import local_to_utc, options, plausible_date

LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class CallAssemblyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=assemblies.TITLE_MAX_LENGTH)],
                        description=_l("For example: 2027 regular general assembly"))
    held_at = DateTimeLocalField(_l("Date and time"), format=LOCAL_TIME_FORMATS,
                                 validators=[DataRequired(), plausible_date])
    place = StringField(_l("Place"), validators=[Length(max=assemblies.PLACE_MAX_LENGTH)],
                        description=_l("The hall's name and address, as members will read it."))
    agenda = TextAreaField(_l("Agenda"), validators=[Length(max=assemblies.AGENDA_MAX_LENGTH)],
                           description=_l("One item a line. It goes out with the notice."))
    record_date = DateField(_l("Record date (optional)"), validators=[Optional(), plausible_date],
                            description=_l("Members in the register on this day may attend and vote. "
                                           "Empty: today, the day of the notice."))

    def service_args(self) -> dict:
        return dict(title=self.title.data, held_at=local_to_utc(self.held_at.data), place=self.place.data,
                    agenda=self.agenda.data, record_date=self.record_date.data)


class AttendanceForm(FlaskForm):
    """A member ticked on the list, or a proxy with its written proof."""

    member_id = IntegerField(_l("Member number"), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    proxy_for_member_id = IntegerField(_l("Holds a proxy for member number (optional)"),
                                       validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    proof = StringField(_l("Written proof of the proxy"), validators=[Length(max=assemblies.PROOF_MAX_LENGTH)],
                        description=_l("For example: signed proxy form no. 12"))


class CardCheckInForm(FlaskForm):
    """For members who come with their card: its scanned code or the member number, and the PIN."""

    SERVICE_FIELDS = {"code": "code", "pin": "pin"}

    code = StringField(_l("Card code or member number"), validators=[DataRequired(), Length(max=200)],
                       description=_l("Scan the card's QR code into this box, or type the number printed on the card."))
    pin = PasswordField(_l("PIN"), validators=[Optional(), Length(max=10)],
                        description=_l("The member types their 4-digit PIN. Needed with a member number."))


class OfficersForm(FlaskForm):
    chair_id = SelectField(_l("Chair"), validators=[DataRequired()])
    teller_ids = SelectMultipleField(_l("Two tellers"), validators=[DataRequired()])
    signer_ids = SelectMultipleField(_l("Members elected to sign the minutes"), validators=[DataRequired()])

    def fill(self, present) -> None:
        """Choices: the members present in person."""
        choices = options((str(m.id), f"{m.name} ({m.number})") for m in present)
        self.chair_id.choices = options([("", _l("Choose the chair"))]) + choices
        self.teller_ids.choices = self.signer_ids.choices = choices

    def service_args(self) -> dict:
        return dict(chair_id=int(self.chair_id.data), teller_ids=[int(i) for i in self.teller_ids.data],
                    signer_ids=[int(i) for i in self.signer_ids.data])


class MotionForm(FlaskForm):
    SERVICE_FIELDS = {"proposal_id": "proposal_id"}

    title = StringField(_l("Motion"), validators=[DataRequired(), Length(max=assemblies.TITLE_MAX_LENGTH)])
    special = BooleanField(_l("Special resolution (articles, dissolution, merger, expulsion): two-thirds "
                              "of those present"))
    proposal_id = IntegerField(_l("Proposal it carries (optional)"),
                               validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    bylaw_key = SelectField(_l("Bylaw it changes (optional)"), default="")
    bylaw_value = StringField(_l("New value of the bylaw"), validators=[Length(max=200)])

    def fill(self) -> None:
        self.bylaw_key.choices = options([("", _l("No bylaw change"))] +
                                         [(key, rule.label) for key, rule in bylaws.RULES.items()])

    def service_args(self) -> dict:
        return dict(title=self.title.data, special=bool(self.special.data), proposal_id=self.proposal_id.data,
                    bylaw_key=self.bylaw_key.data or None, bylaw_value=self.bylaw_value.data or None)


class TallyForm(FlaskForm):
    SERVICE_FIELDS = {"for": "votes_for", "against": "votes_against", "abstain": "abstain"}

    votes_for = IntegerField(_l("Votes for"), validators=[InputRequired(), NumberRange(min=0, max=assemblies.MAX_VOTES)])
    votes_against = IntegerField(_l("Votes against"),
                                 validators=[InputRequired(), NumberRange(min=0, max=assemblies.MAX_VOTES)])
    abstain = IntegerField(_l("Abstentions"), default=0,
                           validators=[InputRequired(), NumberRange(min=0, max=assemblies.MAX_VOTES)])
