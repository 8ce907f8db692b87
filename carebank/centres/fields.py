"""The neighbourhood pick, kept apart from the centre forms so any feature's form can use it."""
from __future__ import annotations

from wtforms import SelectField, ValidationError
from wtforms.validators import Optional

from carebank.centres import services as centre_rules
from carebank.core.errors import DomainError
from carebank.core.extensions import db


class NeighbourhoodField(SelectField):
    """A pick from the bank's list of neighbourhoods, grouped by district; empty allowed.

    In a form: `neighbourhood = NeighbourhoodField(_l("Neighbourhood"))`; in its template:
    `{% from "centres/_neighbourhood_field.html" import neighbourhood_field %}` and
    `{{ neighbourhood_field(form.neighbourhood) }}`. The value sent is the entry's label
    ("종로구 효자동"), which the services resolve to the entry (and store its name). A bank without a
    list yet gets a plain text box (`has_list` False)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators or [Optional()], choices=self._grouped_choices,
                         validate_choice=False, **kwargs)

    @staticmethod
    def _grouped_choices() -> dict:
        groups: dict = {}
        for entry in centre_rules.neighbourhood_list(db.session):
            groups.setdefault(entry.district or entry.centre.name, []).append((entry.label, entry.name))
        return groups

    @property
    def has_list(self) -> bool:
        return bool(self.choices)

    def process_data(self, value):
        """A stored name ("효자동") selects its entry's option ("종로구 효자동")."""
        entry = next(iter(centre_rules.find_neighbourhoods(db.session, value)), None) if value else None
        self.data = entry.label if entry else (value or "")

    def pre_validate(self, form):
        if not self.has_list or not (self.data or "").strip():
            return
        try:
            centre_rules.listed_neighbourhood(db.session, self.data)
        except DomainError as error:
            raise ValidationError(str(error.message)) from None
