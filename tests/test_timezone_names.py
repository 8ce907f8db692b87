"""Time zones are named in the member's language ("서울", not "Asia/Seoul"); the stored value
stays the zone's name."""
from __future__ import annotations

import re

import pytest

from carebank.core.i18n import timezone_label


@pytest.mark.parametrize("locale, zone, words", [
    ("ko", "Asia/Seoul", "서울"),
    ("ko", "America/New_York", "뉴욕"),
    ("en", "Asia/Seoul", "Seoul"),
    ("en", "America/Los_Angeles", "Los Angeles"),
])
def test_time_zone_is_named_in_the_page_language(app, locale, zone, words):
    with app.test_request_context(headers={"Accept-Language": locale}):
        label = timezone_label(zone)
    assert words in label and "/" not in label


def test_unknown_time_zone_is_shown_as_it_is(app):
    with app.test_request_context():
        assert timezone_label("Mars/Olympus") == "Mars/Olympus"


def _options(html: str) -> dict[str, str]:
    select = re.search(r'<select[^>]*name="timezone".*?</select>', html, re.S).group(0)
    return dict(re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]+)</option>', select))


@pytest.mark.parametrize("locale, seoul", [("ko", "서울"), ("en", "Seoul")])
def test_profile_lists_time_zones_by_place_name(client, session, make_member, locale, seoul):
    member = make_member()
    member.locale = locale
    session.commit()
    client.login(member)

    options = _options(client.get("/profile").get_data(as_text=True))

    assert seoul in options["Asia/Seoul"]
    assert not any("/" in label for label in options.values())  # no "Asia/Seoul" to read


def test_profile_keeps_the_chosen_zone_by_its_name(client, session, make_member):
    member = make_member()
    client.login(member)

    client.post("/profile", data={
        "name": member.name, "neighbourhood": "Hyoja-dong", "locale": "ko", "timezone": "America/New_York",
    })

    session.refresh(member)
    assert member.timezone == "America/New_York"
