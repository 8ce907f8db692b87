"""Forms of governance. Labels are lazily translated.

--- proposals and ballots ---
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from carebank.careplans.forms import LOCAL_TIME_FORMATS
from carebank.core.converters import MAX_ID
from carebank.governance import proposals
from carebank.governance.models import ProposalKind, Tally
from carebank.messages.models import BODY_MAX_LENGTH
from carebank.web.forms import local_to_utc, plausible_date
from carebank.web.forms import options as choices

MEMBER_KINDS = [
    (ProposalKind.MEMBER.value, _l("A ballot of all members")),
    (ProposalKind.ADVISORY.value, _l("An advisory poll: it asks members' views and decides nothing")),
]
BOARD_KIND = (ProposalKind.BOARD.value, _l("A board ballot: only members of the board vote"))
TALLIES = [
    (Tally.ONE_MEMBER_ONE_VOTE.value, _l("One member, one vote")),
    (Tally.PER_CLASS.value, _l("Advisory only: also count each member class apart")),
    (Tally.CLASS_WEIGHTED.value, _l("Advisory only: each member class weighs the same")),
]


class ProposalForm(FlaskForm):
    title = StringField(_l("Question"), validators=[
        DataRequired(_l("Please give the proposal a title.")), Length(max=proposals.TITLE_MAX_LENGTH)])
    body = TextAreaField(_l("Explain it"), validators=[Length(max=proposals.BODY_TEXT_MAX_LENGTH)],
                         description=_l("What you propose and why. Members can discuss it below."))
    answers = TextAreaField(
        _l("Answers (optional)"),
        description=_l("One answer a line, 2 to 10. Leave empty for Yes / No / Abstain."))
    closes_at = DateTimeLocalField(_l("Voting closes"), format=LOCAL_TIME_FORMATS, validators=[
        DataRequired(_l("Give the day and time the vote closes.")), plausible_date],
        description=_l("At least an hour and at most 90 days from now. It cannot be closed early."))
    kind = RadioField(_l("Kind of proposal"), choices=choices(MEMBER_KINDS), default=ProposalKind.MEMBER.value)
    tally = RadioField(_l("How votes are counted"), choices=choices(TALLIES),
                       default=Tally.ONE_MEMBER_ONE_VOTE.value)
    secret = BooleanField(_l("Secret ballot: no one can see who chose what"))

    def __init__(self, *args, board: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if board:
            self.kind.choices = choices([*MEMBER_KINDS, BOARD_KIND])

    SERVICE_FIELDS = {"options": "answers"}

    def option_labels(self) -> list[str]:
        return [line.strip() for line in (self.answers.data or "").splitlines() if line.strip()]

    def closes_at_utc(self):
        return local_to_utc(self.closes_at.data)


class VoteForm(FlaskForm):
    """The ballot: the answers as large radio buttons (and the receipt, to change a secret vote)."""

    SERVICE_FIELDS = {"receipt": "receipt"}

    option = RadioField(_l("Your answer"), coerce=int, validators=[InputRequired(_l("Please choose one of the answers."))])
    receipt = StringField(_l("Your receipt (only to change a secret vote)"), validators=[Optional(), Length(max=40)])

    def __init__(self, proposal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.option.choices = [(o.id, proposals.option_label(o)) for o in proposal.options]


class RecordVoteForm(VoteForm):
    """A coordinator records the vote of a member without a phone."""

    member_id = IntegerField(_l("Member number"), validators=[
        InputRequired(_l("Give the member's number.")), NumberRange(min=1, max=MAX_ID)])


class ProposalMessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[
        DataRequired(_l("Write a message first.")),
        Length(max=BODY_MAX_LENGTH, message=_l("Messages can be at most %(max)s characters.", max=BODY_MAX_LENGTH))])


class ReceiptForm(FlaskForm):
    code = StringField(_l("Receipt"), validators=[DataRequired(_l("Type the receipt you were shown.")),
                                                  Length(max=40)],
                       description=_l("16 letters and digits, like ABCD-EFGH-JKLM-NPQR."))


class OutcomeForm(FlaskForm):
    outcome = TextAreaField(_l("What the co-op decided to do"), validators=[
        DataRequired(_l("Please write what was decided.")), Length(max=proposals.OUTCOME_MAX_LENGTH)],
        description=_l("Members see this on the proposal page."))
    review_on = DateField(_l("Look at it again on (optional)"), validators=[Optional(), plausible_date])
