"""The centre's "today" board (/console/visits/today): every visit of the centre's members on
the day, grouped by state with the overdue check-outs on top until someone marks them
resolved; another centre's visits are not shown and cannot be resolved; it reads on a phone."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from conftest import logged_in, statements_sent

from carebank.core.errors import Conflict, NotFound
from carebank.core.extensions import db
from carebank.members.models import Role
from carebank.visits import safety
from carebank.visits.models import Visit, VisitStatus

SEOUL = timedelta(hours=9)
NOW = datetime(2027, 9, 7, 14, 0, tzinfo=UTC) - SEOUL  # Tuesday 14:00 in Seoul
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


def seoul(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2027, 9, day, hour, minute, tzinfo=UTC) - SEOUL


@pytest.fixture(autouse=True)
def frozen():
    """Every test at Tuesday 14:00, logins included (a login made at the real time would
    have expired by 2027)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def add_visit(session, make_exchange, make_member):
    """A visit of a new exchange between two members (of our centre unless told otherwise)."""
    numbers = itertools.count(1)

    def add(starts_at, status=VisitStatus.SCHEDULED, *, centre_id=None, minutes=60, **fields):
        where, n = ({"centre_id": centre_id} if centre_id else {}), next(numbers)
        exchange = make_exchange(make_member(f"Carer Kim {n}", **where), make_member(f"Resident Lee {n}", **where))
        visit = Visit(exchange_id=exchange.id, starts_at=starts_at, minutes=minutes, status=status,
                      created_at=starts_at - timedelta(days=7), **fields)
        session.add(visit)
        session.commit()
        return visit

    return add


@pytest.fixture
def day_of_visits(add_visit):
    """One visit in each state of the board, on Tuesday, as it stands at 14:00."""
    return {
        "overdue": add_visit(seoul(11), VisitStatus.CHECKED_IN, checked_in_at=seoul(11),
                             overdue_alerted_at=seoul(12, 30)),
        "late": add_visit(seoul(13, 50)),
        "no_show": add_visit(seoul(13), late_flagged_at=seoul(13, 30)),
        "due": add_visit(seoul(16)),
        "in_progress": add_visit(seoul(13, 30), VisitStatus.CHECKED_IN, checked_in_at=seoul(13, 31)),
        "to_confirm": add_visit(seoul(9), VisitStatus.CHECKED_OUT, checked_in_at=seoul(9),
                                checked_out_at=seoul(10)),
        "done": add_visit(seoul(8), VisitStatus.CREDITED, checked_in_at=seoul(8), checked_out_at=seoul(9)),
        "cancelled": add_visit(seoul(15), VisitStatus.CANCELLED, cancel_reason="In hospital"),
    }


class Board(HTMLParser):
    """The board page read as a phone's screen reader would: which visit rows are in which
    group section, which tags were used, and which widths were set inline."""

    def __init__(self, html: str):
        super().__init__()
        self.groups: dict[str, list[int]] = {}
        self.tags: set[str] = set()
        self.inline_styles: list[str] = []
        self._group = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if "style" in attrs:
            self.inline_styles.append(attrs["style"])
        element_id = attrs.get("id") or ""
        if tag == "section" and element_id.startswith("group-"):
            self._group = element_id.removeprefix("group-")
            self.groups[self._group] = []
        elif tag == "li" and element_id.startswith("visit-") and self._group:
            self.groups[self._group].append(int(element_id.removeprefix("visit-")))


def board(client, query: str = "") -> tuple[int, Board, str]:
    response = client.get(f"/console/visits/today{query}")
    html = response.get_data(as_text=True)
    return response.status_code, Board(html), html


def test_each_visit_shows_in_its_group_with_the_overdue_ones_on_top(console, day_of_visits):
    status, page, html = board(console)
    assert status == 200
    assert page.groups == {state: [visit.id] for state, visit in day_of_visits.items()}
    assert list(page.groups)[0] == "overdue"
    assert "Urgent" in html.split('id="group-late"')[0]


def test_a_row_has_the_time_the_carer_the_resident_linked_and_the_place(console, session, day_of_visits):
    visit = day_of_visits["due"]
    _, _, html = board(console)
    row = html.split(f'id="visit-{visit.id}"')[1].split("</li>")[0].replace("\u202f", " ")
    resident = visit.exchange.receiver
    assert "4:00 PM–5:00 PM" in row
    assert visit.exchange.provider.name in row
    assert f'href="/console/members/{resident.id}">{resident.name}</a>' in row
    assert "Hyoja-dong" in row  # the resident's home, in their neighbourhood


def test_an_overdue_visit_is_resolved_with_a_note_and_leaves_the_overdue_group(
        console, session, day_of_visits, coordinator):
    visit = day_of_visits["overdue"]
    answer = console.post(f"/console/visits/{visit.id}/resolve", data={"note": "Called the carer: all is well."})
    assert answer.status_code == 302 and answer.location.endswith("/console/visits/today")
    _, page, html = board(console)
    assert "overdue" not in page.groups and visit.id in page.groups["in_progress"]
    assert "Called the carer: all is well." in html
    session.refresh(visit)
    assert (visit.overdue_resolved_at, visit.overdue_resolved_by_id) == (NOW, coordinator.id)


def test_resolving_needs_a_note_and_changes_nothing_without_one(console, session, day_of_visits):
    visit = day_of_visits["overdue"]
    answer = console.post(f"/console/visits/{visit.id}/resolve", data={"note": "  "})
    assert answer.status_code == 400
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)
    session.refresh(visit)
    assert visit.overdue_resolved_at is None
    assert visit.id in board(console)[1].groups["overdue"]


def test_a_visit_that_is_not_overdue_cannot_be_resolved(session, coordinator, day_of_visits):
    with pytest.raises(Conflict):
        safety.resolve_overdue(session, coordinator, day_of_visits["in_progress"].id, "Fine", now=NOW)
    safety.resolve_overdue(session, coordinator, day_of_visits["overdue"].id, "Fine", now=NOW)
    with pytest.raises(Conflict):  # a colleague was first
        safety.resolve_overdue(session, coordinator, day_of_visits["overdue"].id, "Fine too", now=NOW)


def test_another_centres_visits_are_not_shown_and_its_coordinator_cannot_resolve(
        app, session, make_centre, make_member, add_visit, day_of_visits):
    elsewhere = make_centre("Sinchon Centre")
    theirs = add_visit(seoul(11), VisitStatus.CHECKED_IN, centre_id=elsewhere.id, checked_in_at=seoul(11),
                       overdue_alerted_at=seoul(12, 30))
    their_coordinator = logged_in(app, make_member("Quentin", role=Role.COORDINATOR, centre_id=elsewhere.id))
    ours = day_of_visits["overdue"]

    _, page, _ = board(their_coordinator)
    assert page.groups == {"overdue": [theirs.id]}
    answer = their_coordinator.post(f"/console/visits/{ours.id}/resolve", data={"note": "Not mine"})
    assert answer.status_code == 404
    session.refresh(ours)
    assert ours.overdue_resolved_at is None
    with pytest.raises(NotFound):
        safety.resolve_overdue(session, make_member("Q2", role=Role.COORDINATOR, centre_id=elsewhere.id),
                               ours.id, "Not mine", now=NOW)


def test_a_member_cannot_see_the_board_or_resolve(app, make_member, day_of_visits):
    member = logged_in(app, make_member("Plain Member"))
    assert member.get("/console/visits/today").status_code == 403
    assert member.post(f"/console/visits/{day_of_visits['overdue'].id}/resolve",
                       data={"note": "x"}).status_code == 403


def test_an_admin_sees_every_centre(app, make_centre, make_member, add_visit, day_of_visits):
    theirs = add_visit(seoul(16), centre_id=make_centre("Sinchon Centre").id)
    admin = logged_in(app, make_member("Admin Kang", role=Role.ADMIN, centre_id=None))
    _, page, _ = board(admin)
    assert theirs.id in page.groups["due"] and day_of_visits["due"].id in page.groups["due"]


def test_an_overdue_visit_from_yesterday_stays_on_todays_board_until_resolved(console, add_visit):
    yesterday = add_visit(seoul(22, day=6), VisitStatus.CHECKED_OUT, checked_in_at=seoul(22, day=6),
                          checked_out_at=seoul(1), overdue_alerted_at=seoul(23, 30, day=6))
    add_visit(seoul(9, day=6), VisitStatus.CREDITED)  # yesterday's and done: not today's business
    _, page, html = board(console)
    assert page.groups == {"overdue": [yesterday.id]}
    assert "Sep 6, 2027" in html.split(f'id="visit-{yesterday.id}"')[1].split("</li>")[0]


def test_a_visit_still_checked_in_past_its_time_counts_as_overdue_before_the_alert(console, add_visit):
    """The worker may be down: the board goes by the clock, not only by the alert sent."""
    visit = add_visit(seoul(12), VisitStatus.CHECKED_IN, checked_in_at=seoul(12))  # due out 13:00
    _, page, _ = board(console)
    assert page.groups == {"overdue": [visit.id]}


def test_another_day_shows_that_days_visits(console, add_visit, day_of_visits):
    tomorrow = add_visit(seoul(10, day=8))
    status, page, html = board(console, "?day=2027-09-08")
    assert status == 200 and page.groups == {"due": [tomorrow.id]}
    assert "Wednesday, September 8, 2027" in html


@pytest.mark.parametrize("day", ["tomorrow", "2027-13-01", "2027-9-7", "9999-12-31", "2027-09-07x"])
def test_a_bad_day_is_a_400_page(console, day):
    response = console.get("/console/visits/today", query_string={"day": day})
    assert response.status_code == 400
    assert "2027-09-07" in response.get_data(as_text=True)  # says how to write one


def test_the_board_reads_on_a_360_px_phone(console, day_of_visits):
    """Stacked rows: no table (which would be wider than the screen) and no fixed widths."""
    _, page, html = board(console)
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "table" not in page.tags
    assert not [style for style in page.inline_styles if "width" in style]
    assert page.groups  # the board did render rows


def test_the_console_navigation_links_to_the_board(console):
    html = console.get("/console/").get_data(as_text=True)
    assert 'href="/console/visits/today"' in html


def test_the_board_reads_in_korean(console, session, coordinator, day_of_visits):
    coordinator.locale = "ko"
    session.commit()
    html = console.get("/console/visits/today", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "오후 4:00" in html


def test_queries_do_not_grow_with_the_visits(console, add_visit, app):
    for hour in (9, 10):
        add_visit(seoul(hour + 6))
    with app.app_context():
        engine = db.engine
    with statements_sent(engine) as few:
        board(console)
    for hour in (11, 12, 13, 14):
        add_visit(seoul(hour + 6, 30))
    with statements_sent(engine) as more:
        board(console)
    selects = [s for s in more if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == len([s for s in few if s.lstrip().upper().startswith("SELECT")])
