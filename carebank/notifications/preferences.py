"""What each member wants to hear on which channel, and when: the defaults, their choices,
and quiet hours (21:00–08:00 in the member's time zone unless they chose others), during
which nothing but an urgent notification is pushed or mailed."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.core.errors import ValidationFailed
from carebank.members.models import Member
from carebank.notifications.kinds import KINDS
from carebank.notifications.models import NotificationPreference

CHANNELS = ("push", "email")
# What is about the member's own exchanges and balance is on everywhere; community news (the
# weekly digest) comes by e-mail, not to the phone.
DEFAULT_ON = True
DEFAULT_OFF = {"push": {"new_matches"}}
QUIET_START, QUIET_END = "21:00", "08:00"
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _stored(session: Session, member: Member) -> NotificationPreference | None:
    return session.get(NotificationPreference, member.id)


def preferences_of(session: Session, member: Member) -> dict:
    """Every kind on each channel, and the quiet hours: the defaults with the member's choices."""
    stored = _stored(session, member)
    chosen = {channel: (getattr(stored, channel) if stored else {}) for channel in CHANNELS}
    return {
        **{channel: {kind: bool(chosen[channel].get(kind, _default(channel, kind))) for kind in KINDS}
           for channel in CHANNELS},
        "quiet_hours": {"start": stored.quiet_start if stored else QUIET_START,
                        "end": stored.quiet_end if stored else QUIET_END},
    }


def _default(channel: str, kind: str) -> bool:
    return kind not in DEFAULT_OFF.get(channel, ())


def update_preferences(session: Session, member: Member, wanted) -> dict:
    """Take the member's choices (the shape `preferences_of` gives; parts may be left out)."""
    if not isinstance(wanted, dict):
        raise _invalid("preferences", _l("Send the preferences as an object."))
    stored = _stored(session, member) or NotificationPreference(member_id=member.id, push={}, email={})
    for channel in CHANNELS:
        if channel in wanted:
            setattr(stored, channel, _switches(channel, wanted[channel]))
    if "quiet_hours" in wanted:
        stored.quiet_start, stored.quiet_end = _quiet_hours(wanted["quiet_hours"])
    session.add(stored)
    session.flush()
    return preferences_of(session, member)


def _switches(channel: str, value) -> dict:
    if not isinstance(value, dict) or any(k not in KINDS or not isinstance(v, bool) for k, v in value.items()):
        raise _invalid(channel, _l("Choose on or off for each kind of notification."))
    return dict(value)


def _quiet_hours(value) -> tuple[str, str]:
    start, end = (value.get("start"), value.get("end")) if isinstance(value, dict) else (None, None)
    if not all(isinstance(v, str) and CLOCK.match(v) for v in (start, end)):
        raise _invalid("quiet_hours", _l("Give quiet hours as two times, like 21:00 and 08:00."))
    return start, end


def _invalid(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, fields={field: message})


def wanted_channels(session: Session, member: Member, kind: str, chosen: dict | None = None) -> list[str]:
    """Where this notification goes besides the inbox. A member without e-mail (a resident the
    centre registered, who may have only a card) is on the centre's call list."""
    chosen = chosen or preferences_of(session, member)
    channels = [c for c in CHANNELS if chosen[c][kind] and (c != "email" or member.email)]
    if not member.email:
        channels.append("call")
    return channels


def member_zone(member: Member) -> ZoneInfo:
    default = current_app.config["DEFAULT_TIMEZONE"] if has_app_context() else "Asia/Seoul"
    try:
        return ZoneInfo(member.timezone or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def hold_until(session: Session, member: Member, now: datetime, *, urgent: bool = False,
               chosen: dict | None = None) -> datetime:
    """When a notification may go out: now, or the end of the member's quiet hours."""
    if urgent:
        return now
    hours = (chosen or preferences_of(session, member))["quiet_hours"]
    start, end = (time.fromisoformat(hours["start"]), time.fromisoformat(hours["end"]))
    local = now.astimezone(member_zone(member))
    if not _is_quiet(local.time(), start, end):
        return now
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(now.tzinfo)


def _is_quiet(moment: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # across midnight, as 21:00–08:00 is
