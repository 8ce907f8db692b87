"""Every kind of notification and its words. A title names no health detail, as it may show
on a lock screen ("새 응답이 있어요"); the body, shown after login, says the rest."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import format_date, format_time, get_locale
from flask_babel import lazy_gettext as _l

from carebank.core.i18n import TIME_PATTERNS, format_minutes


@dataclass(frozen=True)
class Kind:
    title: object  # a lazy string
    body: object  # a lazy string with %(name)s-style fields from the notification's params


KINDS = {
    "response_received": Kind(_l("New response to your post"),
                              _l("%(name)s responded to “%(title)s”.")),
    "response_accepted": Kind(_l("Your response was accepted"),
                              _l("%(name)s accepted your response to “%(title)s”. Agree a date together.")),
    "response_declined": Kind(_l("Your response was declined"),
                              _l("%(name)s declined your response to “%(title)s”.")),
    "exchange_cancelled": Kind(_l("An exchange was cancelled"),
                               _l("%(name)s cancelled the exchange “%(title)s”.")),
    "exchange_finished": Kind(_l("An exchange was finished"),
                              _l("%(name)s finished the exchange “%(title)s”. Its history and messages stay.")),
    "message_received": Kind(_l("New message"),
                             _l("%(name)s wrote to you about “%(title)s”.")),
    "visit_credited": Kind(_l("Time received for a visit"),
                           _l("%(minutes)s for your visit to %(name)s are in your account.")),
    "visit_debited": Kind(_l("A visit was confirmed"),
                          _l("%(minutes)s for the visit of %(name)s were taken from your account.")),
    "gift_received": Kind(_l("You received a gift of time"),
                          _l("%(name)s gave you %(minutes)s.")),
    "grant_received": Kind(_l("You received time from the community pool"),
                           _l("%(minutes)s from the community pool: %(memo)s")),
    "transaction_reversed": Kind(_l("A transaction was corrected"),
                                 _l("The centre reversed %(minutes)s: %(memo)s")),
    "dispute_opened": Kind(_l("A problem was reported"),
                           _l("%(name)s reported a problem with “%(title)s”. The centre will call.")),
    "dispute_settled": Kind(_l("The centre settled a problem"),
                            _l("“%(title)s”: %(resolution)s")),
    "new_matches": Kind(_l("New posts that may suit you"),
                        _l("New this week, for your posts or near you: %(titles)s")),
    "post_expiring": Kind(_l("Your post ends soon"),
                          _l("“%(title)s” leaves the list in 3 days. Post it again if you still need it.")),
    "checkin_waiting": Kind(_l("A card check-in is waiting for approval"),
                            _l("%(carer)s checked in with the card of %(name)s.")),
    # Care plans and their visits (carebank/visits/events.py). %(when)s is spelled out in the
    # reader's language and zone (see `words`).
    "care_plan_proposed": Kind(_l("A visit schedule was proposed"),
                               _l("%(name)s proposed visits for “%(title)s”: %(summary)s. Agree it on the exchange page.")),
    "care_plan_accepted": Kind(_l("The visit schedule is agreed"),
                               _l("%(name)s agreed the visits for “%(title)s”: %(summary)s.")),
    "visit_tomorrow": Kind(_l("A visit tomorrow"),
                           _l("%(when)s: “%(title)s” with %(name)s.")),
    "visit_soon": Kind(_l("A visit in two hours"),
                       _l("%(when)s: “%(title)s” with %(name)s.")),
    "visit_cancelled": Kind(_l("A visit was cancelled"),
                            _l("%(name)s cancelled the visit of %(when)s (“%(title)s”): %(reason)s")),
    "visit_to_confirm": Kind(_l("Please confirm a visit"),
                             _l("The visit of %(when)s (“%(title)s”) with %(name)s ended. Please confirm its time.")),
    "visit_not_started": Kind(_l("A visit has not started"),
                              _l("No check-in yet for the visit of %(when)s: %(carer)s to %(name)s (“%(title)s”).")),
    "visit_not_ended": Kind(_l("A visit has not ended"),
                            _l("%(carer)s checked in at %(name)s's for the visit of %(when)s and has not checked out. Please call to check all is well.")),
    # Governance: the general assembly's notice (carebank/governance/assemblies.py).
    "assembly_called": Kind(_l("A general assembly is called"),
                            _l("“%(title)s”: %(when)s, %(place)s. Please come in person and bring your member card.")),
    # Governance: the quarter's voice report is out (carebank/governance/voice.py).
    "voice_report_published": Kind(_l("Who had a say this quarter"),
                                   _l("The voice report for %(quarter)s is out: who took part in the co-op's decisions, by member class.")),
    # Governance: proposals and ballots between meetings (carebank/governance/proposals.py).
    "proposal_opened": Kind(_l("A new question for the members"),
                            _l("“%(title)s”: have your say and vote by %(when)s.")),
    "proposal_closing": Kind(_l("A vote closes soon"),
                             _l("“%(title)s” closes at %(when)s and you have not voted yet.")),
}


def words(kind: str, params: dict) -> tuple[str, str]:
    """The title and body in the current language; minutes are spelled out here, so each
    reader sees them in theirs."""
    found = KINDS[kind]
    values = defaultdict(str, params)  # a fact missing from an old row reads as blank, not a 500
    if "minutes" in values:
        values["minutes"] = format_minutes(int(values["minutes"]))
    if values.get("when"):
        values["when"] = _moment(values["when"], values.get("tz"))
    return str(found.title), str(found.body) % values


def _moment(iso_text: str, zone: str | None) -> str:
    """An instant stored as ISO text, as a short date and time in the reader's language, in
    the zone it was told in (the member's, at the time)."""
    try:
        moment = datetime.fromisoformat(iso_text).astimezone(ZoneInfo(zone or "Asia/Seoul"))
    except (ValueError, TypeError, ZoneInfoNotFoundError):
        return ""
    local = moment.replace(tzinfo=None)
    pattern = TIME_PATTERNS.get(str(get_locale()), "short")
    return f"{format_date(local, 'medium')} {format_time(local, pattern, rebase=False)}"
