"""Neighbourhoods from a list: members and posts pick one, and the centre follows."""
from __future__ import annotations

import unicodedata

import pytest
import sqlalchemy as sa

from carebank.centres.models import Neighbourhood
from carebank.centres.services import add_neighbourhood, assign_unmatched, unmatched_neighbourhoods
from carebank.core.errors import ValidationFailed
from carebank.members.models import Member, Role
from carebank.members.services import create_member, update_profile
from tests.conftest import PASSWORD, logged_in

API = "/api/v1"


@pytest.fixture
def jongno(make_centre, session):
    centre = make_centre("Jongno Centre")
    add_neighbourhood(session, centre, "종로구 삼청동")
    add_neighbourhood(session, centre, "종로구 청운효자동")
    session.commit()
    return centre


def sign_up(session, neighbourhood, email="new@example.org"):
    member = create_member(session, name="김영자", email=email, password=PASSWORD, neighbourhood=neighbourhood)
    session.commit()
    return member


@pytest.mark.parametrize("typed", ["종로구 삼청동", "삼청동", "  종로구   삼청동 ", unicodedata.normalize("NFD", "삼청동")])
def test_resident_typing_district_and_dong_joins_the_centre(session, centre, jongno, typed):
    member = sign_up(session, typed)
    assert (member.neighbourhood, member.centre_id) == ("삼청동", jongno.id)


def test_a_neighbourhood_off_the_list_is_refused_naming_the_field(session, centre, jongno):
    with pytest.raises(ValidationFailed) as refused:
        sign_up(session, "Atlantis-dong")
    assert "neighbourhood" in refused.value.fields
    assert session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.email == "new@example.org")) == 0


def test_moving_to_another_centres_neighbourhood_moves_the_member(session, make_member, jongno):
    member = make_member()
    update_profile(session, member, neighbourhood="삼청동")
    assert member.centre_id == jongno.id


def test_a_coordinator_keeps_their_centre_when_their_home_moves(session, make_member, centre, jongno):
    coordinator = make_member(role=Role.COORDINATOR)
    update_profile(session, coordinator, neighbourhood="삼청동")
    assert (coordinator.neighbourhood, coordinator.centre_id) == ("삼청동", centre.id)


def test_one_dong_belongs_to_one_centre(session, make_centre, jongno):
    with pytest.raises(ValidationFailed) as refused:
        add_neighbourhood(session, make_centre("Other"), "종로구 삼청동")
    assert "Jongno Centre" in str(refused.value.message)


def test_post_form_offers_the_list_grouped_by_district(app, make_member, jongno):
    client = logged_in(app, make_member())
    page = client.get("/posts/new").get_data(as_text=True)
    assert '<optgroup label="종로구">' in page and 'value="종로구 삼청동"' in page
    assert "neighbourhood-picker.js" in page and "data-neighbourhood-picker" in page


def test_posting_in_a_listed_neighbourhood_stores_its_name(app, make_member, session, jongno):
    client = logged_in(app, make_member())
    response = client.post(f"{API}/posts", json={"kind": "need", "category": "meals", "title": "Soup",
                                                  "minutes": 60, "neighbourhood": "종로구 삼청동"})
    assert response.status_code == 201 and response.get_json()["post"]["neighbourhood"] == "삼청동"


def test_api_refuses_a_post_off_the_list_naming_the_field(app, make_member, jongno):
    client = logged_in(app, make_member())
    response = client.post(f"{API}/posts", json={"kind": "need", "category": "meals", "title": "Soup",
                                                  "minutes": 60, "neighbourhood": "Atlantis"})
    assert response.status_code == 400
    assert "neighbourhood" in response.get_json()["error"]["fields"]


def test_app_reads_the_list_grouped_by_centre_without_logging_in(client, jongno):
    centres = client.get(f"{API}/neighbourhoods").get_json()["centres"]
    jongno_list = next(c for c in centres if c["name"] == "Jongno Centre")
    assert [n["label"] for n in jongno_list["neighbourhoods"]] == ["종로구 삼청동", "종로구 청운효자동"]


def test_admin_assigns_a_value_typed_before_the_list(app, session, make_member, jongno):
    admin = make_member("Admin", role=Role.ADMIN)
    stray = make_member()
    session.execute(sa.update(Member).where(Member.id == stray.id).values(neighbourhood="삼청 동네", centre_id=None))
    session.commit()
    client = logged_in(app, admin)
    page = client.get("/console/neighbourhoods").get_data(as_text=True)
    assert "삼청 동네" in page
    response = client.post("/console/neighbourhoods", data={"value": "삼청 동네", "neighbourhood": "종로구 삼청동"})
    assert response.status_code == 302
    session.expire_all()
    stray = session.get(Member, stray.id)
    assert (stray.neighbourhood, stray.centre_id) == ("삼청동", jongno.id)
    assert unmatched_neighbourhoods(session) == []


def test_a_coordinator_cannot_assign_values(app, session, coordinator, jongno):
    client = logged_in(app, coordinator)
    assert client.get("/console/neighbourhoods").status_code == 200
    client.post("/console/neighbourhoods", data={"value": "x", "neighbourhood": "종로구 삼청동"})
    assert session.scalar(sa.select(Neighbourhood).where(Neighbourhood.name == "x")) is None


def test_a_neighbourhood_in_use_is_not_removed_and_says_why(app, session, make_member, centre):
    admin = make_member("Admin", role=Role.ADMIN)
    entry = session.scalar(sa.select(Neighbourhood).where(Neighbourhood.name == "Hyoja-dong"))
    client = logged_in(app, admin)
    client.post(f"/console/neighbourhoods/{entry.id}/remove")
    page = client.get(f"/console/centres/{centre.id}/edit").get_data(as_text=True)
    assert "cannot be removed" in page
    assert session.get(Neighbourhood, entry.id) is not None


def test_renaming_a_neighbourhood_carries_its_members(app, session, make_member, centre):
    admin = make_member("Admin", role=Role.ADMIN)
    member = make_member()
    entry = session.scalar(sa.select(Neighbourhood).where(Neighbourhood.name == "Hyoja-dong"))
    client = logged_in(app, admin)
    client.post(f"/console/neighbourhoods/{entry.id}/rename", data={"name": "삼청동", "district": "종로구"})
    session.expire_all()
    assert session.get(Member, member.id).neighbourhood == "삼청동"


def test_assigning_refuses_a_value_already_on_the_list(session, centre):
    entry = session.scalar(sa.select(Neighbourhood).where(Neighbourhood.name == "Mapo"))
    with pytest.raises(ValidationFailed):
        assign_unmatched(session, "Hyoja-dong", entry)
