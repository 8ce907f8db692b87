"""Passwords are stored as argon2id hashes; members whose hash predates argon2 still log in,
and their hash is replaced by an argon2id one as they do."""
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, extract_parameters
from conftest import FAST_HASHER, PASSWORD
from werkzeug.security import generate_password_hash

from carebank.core import passwords
from carebank.members import services as members
from carebank.members.models import Member


def stored_hash(session, member) -> str:
    session.commit()
    return session.scalar(sa.select(Member.password_hash).where(Member.id == member.id))


def set_stored_hash(session, member, value: str) -> None:
    session.execute(sa.update(Member).where(Member.id == member.id).values(password_hash=value))
    session.commit()


def web_login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def api_login(client, email, password):
    return client.post("/api/v1/session", json={"email": email, "password": password})


@pytest.mark.real_password_hashing
def test_a_new_password_is_stored_as_argon2id_with_the_rfc_9106_parameters(client, session):
    response = client.post("/api/v1/members", json={"name": "Kim", "email": "kim@example.org",
                                                    "password": "long enough"})
    assert response.status_code == 201
    stored = session.scalar(sa.select(Member.password_hash).where(Member.email == "kim@example.org"))
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "long enough" not in stored and passwords.verify_password(stored, "long enough")


@pytest.mark.real_password_hashing
@pytest.mark.parametrize("login", [web_login, api_login])
@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256"])
def test_a_legacy_werkzeug_hash_logs_in_and_is_upgraded_to_argon2id(client, session, make_member, login, method):
    member = make_member()
    set_stored_hash(session, member, generate_password_hash(PASSWORD, method=method))

    assert login(client, member.email, PASSWORD).status_code in (200, 302)

    upgraded = stored_hash(session, member)
    assert upgraded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    client.delete("/api/v1/session")
    assert api_login(client, member.email, PASSWORD).status_code == 200  # the new hash works
    assert stored_hash(session, member) == upgraded  # and is not replaced again


@pytest.mark.parametrize("login", [web_login, api_login])
def test_a_wrong_password_leaves_a_legacy_hash_alone(client, session, make_member, login):
    member = make_member()
    legacy = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    set_stored_hash(session, member, legacy)

    assert login(client, member.email, "not the password").status_code in (400, 401)
    assert stored_hash(session, member) == legacy


def test_a_hash_with_older_argon2_parameters_is_renewed_at_login(client, session, make_member):
    member = make_member()
    weaker = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, salt_len=8).hash(PASSWORD)
    set_stored_hash(session, member, weaker)

    assert api_login(client, member.email, PASSWORD).status_code == 200

    renewed = stored_hash(session, member)
    assert renewed != weaker and not passwords.needs_rehash(renewed)


def test_a_fresh_argon2id_hash_needs_no_rehash():
    assert not passwords.needs_rehash(passwords.hash_password("long enough"))
    assert passwords.needs_rehash(generate_password_hash("long enough", method="pbkdf2:sha256:1000"))


@pytest.mark.parametrize("stored", [
    None, "", "$argon2id$v=19$m=8,t=1,p=1$broken", "md5$salt$0123456789abcdef", "plain text",
    "sha1$salt$abcdef",
])
def test_a_missing_damaged_or_unknown_hash_matches_nothing(stored):
    assert passwords.verify_password(stored, "anything at all") is False


@pytest.mark.parametrize("password", [None, 12345678, ["correct horse battery"]])
def test_a_password_that_is_not_text_matches_nothing(password):
    assert passwords.verify_password(passwords.hash_password(PASSWORD), password) is False


class CountingHasher(PasswordHasher):
    """The tests' fast hasher, noting the parameters of every hash it checks."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.checked = []

    def verify(self, hash, password):
        self.checked.append(extract_parameters(hash))
        return super().verify(hash, password)


@pytest.mark.parametrize("who", ["unknown email", "resident without a login", "wrong password"])
def test_a_refused_login_costs_one_full_argon2_check_whoever_it_names(session, make_member, monkeypatch, who):
    """Same work whether or not the email has an account, so timing tells an attacker nothing."""
    counting = CountingHasher()
    monkeypatch.setattr(passwords, "hasher", counting)
    member = make_member(email="known@example.org")
    if who == "resident without a login":
        set_stored_hash(session, member, None)
    email = "nobody@example.org" if who == "unknown email" else "known@example.org"

    assert members.authenticate(session, email, "wrong password") is None

    assert counting.checked == [extract_parameters(counting.hash("x"))]


def test_change_password_checks_the_old_one_and_stores_argon2id(session, make_member):
    member = make_member()
    with pytest.raises(members.ValidationFailed):
        members.change_password(session, member, "not the password", "new password")
    members.change_password(session, member, PASSWORD, "new password")
    assert stored_hash(session, member).startswith("$argon2id$")
    assert members.authenticate(session, member.email, "new password").id == member.id


def test_the_tests_hash_with_argon2id_too():
    """The suite's cheap hasher differs only in cost, so every other test runs the real code."""
    assert passwords.hasher is FAST_HASHER
    assert passwords.hash_password("x").startswith("$argon2id$v=19$m=8,t=1,p=1$")
