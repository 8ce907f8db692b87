"""Forms for posting, browsing and responding."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from carebank.centres.fields import NeighbourhoodField
from carebank.posts.categories import category_choices
from carebank.posts.services import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from carebank.web.forms import DurationMixin, local_to_utc, options, plausible_date


class PostForm(DurationMixin, FlaskForm):
    kind = RadioField(
        _l("I…"),
        choices=options([("need", _l("need help")), ("offer", _l("can help"))]),
        validators=[DataRequired()],
    )
    category = SelectField(_l("Kind of care"), choices=lambda: options(category_choices()), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX_LENGTH)])
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=DESCRIPTION_MAX_LENGTH)])
    neighbourhood = NeighbourhoodField(_l("Neighbourhood"))
    starts_at = DateTimeLocalField(_l("From (optional)"), validators=[Optional(), plausible_date])
    ends_at = DateTimeLocalField(_l("Until (optional)"), validators=[Optional(), plausible_date])
    once = BooleanField(_l("Just once (a need): the exchange is finished after the first confirmed visit"))

    def window_utc(self) -> tuple[datetime | None, datetime | None]:
        return local_to_utc(self.starts_at.data), local_to_utc(self.ends_at.data)


class PostFilterForm(FlaskForm):
    """The browse filter; sent by GET so a filtered list can be bookmarked."""

    class Meta:
        csrf = False

    kind = SelectField(
        _l("Needs or offers"),
        choices=options([("", _l("All")), ("need", _l("Needs")), ("offer", _l("Offers"))]),
        default="",
    )
    category = SelectField(_l("Kind of care"), choices=lambda: options([("", _l("All kinds")), *category_choices()]), default="")
    neighbourhood = StringField(_l("Neighbourhood"))
    q = StringField(_l("Search"))


class RespondForm(FlaskForm):
    message = TextAreaField(_l("Message (optional)"), validators=[Optional(), Length(max=1000)])
