"""Forms for naming a passkey and for signing in with a member card."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from carebank.passkeys.services import NAME_MAX_LENGTH


class PasskeyNameForm(FlaskForm):
    name = StringField(_l("Name of this passkey"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)],
                       default=_l("My phone"), description=_l("For example: My phone, My tablet"))


class CardForm(FlaskForm):
    card = StringField(_l("Your card's link"), validators=[DataRequired(), Length(max=200)],
                       description=_l("If the camera and the photo do not work: the link your card's QR code opens."))


class CardPinForm(FlaskForm):
    pin = PasswordField(_l("Your PIN"), validators=[DataRequired(), Length(max=10)],
                        description=_l("The 4 digits you chose for your card."))
