"""The notification settings form: a switch per kind and channel, and the quiet hours."""
from __future__ import annotations

from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TimeField
from wtforms.validators import InputRequired

from carebank.notifications.kinds import KINDS
from carebank.notifications.preferences import CHANNELS

# What a member reads beside each switch.
KIND_LABELS = {
    "response_received": _l("A response to my post"),
    "response_accepted": _l("My response accepted"),
    "response_declined": _l("My response declined"),
    "exchange_cancelled": _l("An exchange cancelled"),
    "message_received": _l("A new message"),
    "visit_credited": _l("Time received for a visit"),
    "visit_debited": _l("Time taken for a visit"),
    "gift_received": _l("A gift of time"),
    "grant_received": _l("Time from the community pool"),
    "transaction_reversed": _l("A correction by the centre"),
    "dispute_opened": _l("A problem reported"),
    "dispute_settled": _l("A problem settled by the centre"),
    "post_expiring": _l("My post ending soon"),
    "new_matches": _l("Weekly digest of new posts for me"),
    "checkin_waiting": _l("A card check-in to approve (centre staff)"),
}


class PreferencesForm(FlaskForm):
    quiet_start = TimeField(_l("Quiet from"), format="%H:%M", validators=[InputRequired()])
    quiet_end = TimeField(_l("Quiet until"), format="%H:%M", validators=[InputRequired()],
                          description=_l("Nothing but urgent news reaches your phone or e-mail then; "
                                         "it waits until the end of the quiet hours."))

    def fill(self, chosen: dict) -> None:
        self.quiet_start.process_data(_clock(chosen["quiet_hours"]["start"]))
        self.quiet_end.process_data(_clock(chosen["quiet_hours"]["end"]))

    def wanted(self, sent) -> dict:
        """The choices in the shape preferences.update_preferences takes; a box not sent is off."""
        return {
            **{channel: {kind: f"{channel}-{kind}" in sent for kind in KINDS} for channel in CHANNELS},
            "quiet_hours": {"start": self.quiet_start.data.strftime("%H:%M"),
                            "end": self.quiet_end.data.strftime("%H:%M")},
        }


def _clock(text: str) -> time:
    return time.fromisoformat(text)
