"""Forms of the message thread. Labels are lazily translated."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from carebank.messages.models import BODY_MAX_LENGTH
from carebank.web.forms import EmptyForm

__all__ = ["EmptyForm", "MessageForm"]


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(message=_l("Write a message first.")),
            Length(max=BODY_MAX_LENGTH,
                   message=_l("Messages can be at most %(max)s characters.", max=BODY_MAX_LENGTH)),
        ],
        description=_l("Up to %(max)s characters.", max=BODY_MAX_LENGTH),
    )
