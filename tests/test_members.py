"""Members: signing up, logging in, profiles and roles."""
import pytest
import sqlalchemy as sa
from conftest import PASSWORD

from carebank.core.errors import Conflict, NotFound, ValidationFailed
from carebank.ledger import services as ledger
from carebank.members import services as members
from carebank.members.models import Member, Role


def sign_up(session, **fields):
    values = {"name": "Kim Young-ja", "email": "youngja@example.org", "password": PASSWORD}
    return members.create_member(session, **{**values, **fields})


def refused_field(session, **fields) -> set[str]:
    with pytest.raises(ValidationFailed) as refused:
        sign_up(session, **fields)
    return set(refused.value.fields)


def member_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Member))


def test_new_member_can_log_in_with_any_case_of_email(session):
    member = sign_up(session, email="  YoungJa@Example.ORG ")
    session.commit()
    assert member.email == "youngja@example.org"
    assert members.authenticate(session, "YOUNGJA@example.org", PASSWORD) is member


def test_wrong_password_does_not_log_in(session):
    sign_up(session)
    assert members.authenticate(session, "youngja@example.org", "wrong password") is None
    assert members.authenticate(session, "youngja@example.org", None) is None


def test_unknown_email_does_not_log_in(session):
    sign_up(session)
    assert members.authenticate(session, "nobody@example.org", PASSWORD) is None
    assert members.authenticate(session, None, PASSWORD) is None


def test_password_is_stored_hashed(session):
    member = sign_up(session)
    assert PASSWORD not in member.password_hash
    assert member.password_hash != PASSWORD


def test_new_member_has_an_empty_account(session):
    member = sign_up(session)
    session.commit()
    assert member.balance_minutes == 0
    assert ledger.balance_of(session, member.id) == 0


def test_new_member_is_a_plain_member(session):
    member = sign_up(session)
    assert member.role is Role.MEMBER and not member.is_coordinator and not member.is_admin


@pytest.mark.parametrize("role, coordinator, admin", [
    (Role.MEMBER, False, False), (Role.COORDINATOR, True, False), (Role.ADMIN, True, True),
])
def test_roles_grant_coordination(session, role, coordinator, admin):
    member = sign_up(session, role=role)
    assert (member.is_coordinator, member.is_admin) == (coordinator, admin)


def test_password_of_seven_characters_is_too_short(session):
    assert refused_field(session, password="1234567") == {"password"}
    assert member_count(session) == 0


def test_password_of_eight_characters_is_enough(session):
    assert sign_up(session, password="12345678").id is not None


def test_duplicate_email_is_taken_whatever_its_case(session):
    sign_up(session)
    session.commit()
    with pytest.raises(Conflict) as refused:
        sign_up(session, email="YOUNGJA@example.org", name="Another")
    assert refused.value.code == "email_taken"
    assert "email" in refused.value.fields
    assert member_count(session) == 1


@pytest.mark.parametrize("email", ["", None, "youngja", "youngja@example", "a b@example.org",
                                   "@example.org", "x" * 250 + "@example.org", 42])
def test_invalid_email_is_refused(session, email):
    assert refused_field(session, email=email) == {"email"}


@pytest.mark.parametrize("name", ["", "   ", None, "x" * 81])
def test_name_must_be_given_and_short(session, name):
    assert refused_field(session, name=name) == {"name"}


def test_name_is_trimmed(session):
    assert sign_up(session, name="  Kim Young-ja  ").name == "Kim Young-ja"


def test_profile_fields_are_kept_at_sign_up(session):
    member = sign_up(session, neighbourhood=" Hyoja-dong ", languages="ko, en",
                     offers_text="Cooking", phone="010-1234-5678", locale="ko")
    assert (member.neighbourhood, member.languages, member.offers_text) == (
        "Hyoja-dong", "ko, en", "Cooking")
    assert (member.phone, member.locale) == ("010-1234-5678", "ko")


def test_unsupported_locale_falls_back_to_none(session):
    assert sign_up(session, locale="fr").locale is None


def test_update_profile_changes_only_given_fields(session, make_member):
    member = make_member("Alice", neighbourhood="Hyoja-dong")
    members.update_profile(session, member, name=" Alice Kim ", phone="+82 10 1234 5678")
    session.commit()
    assert (member.name, member.phone, member.neighbourhood) == (
        "Alice Kim", "+82 10 1234 5678", "Hyoja-dong")


@pytest.mark.parametrize("phone", ["call me", "12345", "010-1234-abcd"])
def test_update_profile_refuses_a_phone_that_is_not_a_number(session, make_member, phone):
    member = make_member()
    with pytest.raises(ValidationFailed) as refused:
        members.update_profile(session, member, phone=phone)
    assert set(refused.value.fields) == {"phone"}
    session.rollback()
    assert session.get(Member, member.id).phone is None


def test_update_profile_clears_the_phone_with_an_empty_value(session, make_member):
    member = make_member(phone="010-1234-5678")
    members.update_profile(session, member, phone="  ")
    assert member.phone is None


def test_update_profile_refuses_an_empty_name(session, make_member):
    member = make_member("Alice")
    with pytest.raises(ValidationFailed):
        members.update_profile(session, member, name=" ")
    session.rollback()
    assert session.get(Member, member.id).name == "Alice"


def test_change_password_needs_the_current_one(session, make_member):
    member = make_member()
    with pytest.raises(ValidationFailed) as refused:
        members.change_password(session, member, "not it", "a new password")
    assert set(refused.value.fields) == {"current_password"}
    members.change_password(session, member, PASSWORD, "a new password")
    assert members.authenticate(session, member.email, "a new password") is member
    assert members.authenticate(session, member.email, PASSWORD) is None


def test_change_password_refuses_a_short_new_one(session, make_member):
    member = make_member()
    with pytest.raises(ValidationFailed) as refused:
        members.change_password(session, member, PASSWORD, "short")
    assert set(refused.value.fields) == {"new_password"}
    assert members.authenticate(session, member.email, PASSWORD) is member


def test_set_role_finds_the_member_by_email_in_any_case(session, make_member):
    member = make_member(email="park@example.org")
    members.set_role(session, "PARK@example.org", Role.COORDINATOR)
    session.commit()
    assert session.get(Member, member.id).is_coordinator


def test_set_role_of_unknown_email_is_not_found(session):
    with pytest.raises(NotFound):
        members.set_role(session, "nobody@example.org", Role.ADMIN)


def test_get_member_of_unknown_id_is_not_found(session, make_member):
    member = make_member()
    assert members.get_member(session, member.id) is member
    with pytest.raises(NotFound):
        members.get_member(session, member.id + 1)
