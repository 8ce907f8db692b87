"""Forms for gifts, donations and grants, and the console's grant and reversal."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from carebank.core.converters import MAX_ID
from carebank.members.forms import NOTE_MAX_LENGTH, member_number_field
from carebank.posts.categories import CATEGORIES
from carebank.web.forms import DurationMixin, options


class GiftForm(DurationMixin, FlaskForm):
    # Bounded like every member number, so a number past the id range is a form error.
    to_member_id = IntegerField(_l("Member number"),
                                validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    memo = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])
    # Set by the second step's button: the member saw who the gift is for and sends it.
    send = HiddenField()


class DonateForm(DurationMixin, FlaskForm):
    memo = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])


def need_field() -> SelectField:
    """The kind of care a grant pays for: members see it on the pool's page, never the name."""
    return SelectField(_l("Kind of need"), default="", validators=[Optional()],
                       choices=options([("", _l("Not said")), *CATEGORIES.items()]),
                       description=_l("Members see the kind of need and the time, never the name."))


class GrantForm(GiftForm):
    """A coordinator grants time from the community pool, saying why (shown in the member's
    history and the audit log)."""

    memo = StringField(_l("Reason"), validators=[Length(max=200)])
    need = need_field()
    send = None  # a grant has no look-up step


class ConsoleGrantForm(DurationMixin, FlaskForm):
    """A grant from the community pool, always with its reason."""

    SERVICE_FIELDS = {"minutes": "hours"}

    to_member_id = member_number_field()
    memo = StringField(_l("Reason"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
                       description=_l("Required. The member sees it in their history."))
    need = need_field()


class ReverseForm(FlaskForm):
    memo = StringField(_l("Reason for the correction"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)],
                       description=_l("Required. Both members see it in their history."))
    confirm = BooleanField(_l("I have checked: this transaction was wrong and its time must go back."),
                           validators=[DataRequired(_l("Please tick the box to confirm."))])
