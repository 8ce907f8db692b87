"""The waiting list names both parties of a shared exchange, but links only members the
coordinator can open: a neighbour of another centre is named, never a link to a 404."""
from __future__ import annotations

import re

from conftest import logged_in

from carebank.members.models import Role


def _member_links(html: str) -> set[str]:
    return set(re.findall(r'href="(/console/members/[^"/]+)"', html))


def test_waiting_list_does_not_link_a_member_of_another_centre(console, make_member, make_centre,
                                                                make_exchange):
    elsewhere = make_centre("Mapo Care Centre", neighbourhoods="Mangwon-dong")
    ours = make_member("Kim Bora")
    theirs = make_member("Lee Dami", neighbourhood="Mangwon-dong", centre_id=elsewhere.id)
    make_exchange(theirs, ours)  # their carer helps our resident: the exchange waits on our list

    page = console.get("/console/waiting")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Lee Dami" in html and "Kim Bora" in html
    links = _member_links(html)
    assert links, "our own resident is still a link"
    for link in links:
        assert console.get(link).status_code == 200, link


def test_unanswered_responses_do_not_link_a_member_of_another_centre(console, make_member, make_centre,
                                                                      make_exchange, session):
    elsewhere = make_centre("Mapo Care Centre", neighbourhoods="Mangwon-dong")
    ours = make_member("Kim Bora")
    theirs = make_member("Lee Dami", neighbourhood="Mangwon-dong", centre_id=elsewhere.id)
    exchange = make_exchange(theirs, ours, accepted=False)
    exchange.created_at = exchange.created_at.replace(year=exchange.created_at.year - 1)
    session.commit()

    html = console.get("/console/waiting").get_data(as_text=True)

    assert "Lee Dami" in html and "Responses unanswered" in html
    assert len(_member_links(html)) == 1  # our resident only
    for link in _member_links(html):
        assert console.get(link).status_code == 200, link


def test_admin_sees_links_to_members_of_every_centre(app, make_member, make_centre, make_exchange):
    elsewhere = make_centre("Mapo Care Centre", neighbourhoods="Mangwon-dong")
    theirs = make_member("Lee Dami", neighbourhood="Mangwon-dong", centre_id=elsewhere.id)
    make_exchange(theirs, make_member("Kim Bora"))
    admin = logged_in(app, make_member("Admin", role=Role.ADMIN))

    html = admin.get("/console/waiting").get_data(as_text=True)

    assert len(_member_links(html)) == 2
