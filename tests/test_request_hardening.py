"""Requests a hostile client sends: bodies too large to read, too many form fields, a form
field sent as a file, dates outside any calendar the bank keeps, and a Host header no URL
can be built from. Each is a clear 4xx that changes nothing, never a 500 or a worker
swollen with a body it should never have read."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from carebank.cards.models import MemberCard
from carebank.ledger.models import Transaction
from carebank.posts.models import Post
from tests.conftest import PASSWORD, balance, logged_in

LIMIT = 256 * 1024


class CountingStream:
    """A request body of `size` bytes that counts how much of it the app reads."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b"x" * n

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit if limit and limit > 0 else 65536)


def count(session, model) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_huge_login_body_is_refused_by_its_length_without_being_read(app, client):
    body = CountingStream(200 * 1024 * 1024)
    response = client.post("/api/v1/session", content_type="application/json", with_csrf=False,
                           environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(body.size)})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert body.read_bytes == 0


def test_a_20_mb_transfer_is_refused_and_moves_nothing(app, session, make_member):
    giver, receiver = make_member(), make_member()
    client = logged_in(app, giver)
    padding = "x" * (20 * 1024 * 1024)
    response = client.post("/api/v1/transfers", json={
        "to_member_id": receiver.id, "minutes": 30, "memo": "thanks", "padding": padding})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert balance(session, receiver) == 0 and count(session, Transaction) == 0


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(app, client):
    body = CountingStream(5 * 1024 * 1024)
    response = client.post("/api/v1/session", content_type="application/json", with_csrf=False,
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert body.read_bytes <= LIMIT + 64 * 1024


def test_a_large_page_form_gets_the_error_page(app, make_member):
    client = logged_in(app, make_member())
    response = client.post("/posts/new", data={"title": "x", "description": "가" * LIMIT})
    assert response.status_code == 413
    assert "That is too much data." in response.get_data(as_text=True)


def test_too_many_multipart_fields_are_refused(app, session, make_member):
    # Multipart is where parts cost (each is parsed and buffered on its own); a URL-encoded
    # form is one string, bounded by the body limit.
    client = logged_in(app, make_member())
    fields = {f"field{i}": "x" for i in range(150)}
    response = client.post("/posts/new", content_type="multipart/form-data", data={
        **fields, "kind": "need", "category": "meals", "title": "Lunch", "hours": "1", "extra_minutes": "0"})
    assert response.status_code == 413
    assert count(session, Post) == 0


def test_the_longest_real_post_still_fits(app, session, make_member):
    client = logged_in(app, make_member())
    response = client.post("/api/v1/posts", json={
        "kind": "need", "category": "meals", "title": "점심" * 60, "description": "같이 " * 1333,
        "minutes": 60})
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/posts/new", "/profile", "/login"])
def test_a_form_field_sent_as_a_file_is_a_bad_request(app, session, make_member, path):
    member = make_member()
    client = logged_in(app, member) if path != "/login" else app.test_client()
    response = client.post(path, content_type="multipart/form-data", data={
        "title": (io.BytesIO(b"Lunch"), "title.txt"), "name": (io.BytesIO(b"Kim"), "name.txt"),
        "email": (io.BytesIO(member.email.encode()), "e.txt"), "password": PASSWORD,
        "kind": "need", "category": "meals", "hours": "1", "extra_minutes": "0"})
    assert response.status_code == 400
    assert "The request could not be understood." in response.get_data(as_text=True)
    assert count(session, Post) == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_batch_print_date_outside_the_calendar_is_a_form_error(console, session, make_member, day):
    make_member()
    response = console.post("/console/cards.pdf", data={"which": "since", "since": day, "centre_id": ""})
    assert response.status_code == 400
    assert "Please choose a date between 1900 and 2999." in response.get_data(as_text=True)
    assert count(session, MemberCard) == 0


@pytest.mark.parametrize("moment", ["9999-12-31T23:00:00+00:00", "0001-01-01T12:00:00+00:00"])
def test_a_post_cannot_start_in_year_9999_or_year_1(app, session, make_member, moment):
    client = logged_in(app, make_member())
    response = client.post("/api/v1/posts", json={
        "kind": "need", "category": "meals", "title": "Lunch", "minutes": 60, "starts_at": moment})
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"]["starts_at"] == "Please choose a date between 1900 and 2999."
    assert count(session, Post) == 0


def test_a_post_form_date_in_year_1_is_a_form_error(app, session, make_member):
    client = logged_in(app, make_member())
    response = client.post("/posts/new", data={
        "kind": "need", "category": "meals", "title": "Lunch", "hours": "1", "extra_minutes": "0",
        "starts_at": "0001-01-01T00:00"})
    assert response.status_code == 400
    assert "Please choose a date between 1900 and 2999." in response.get_data(as_text=True)
    assert count(session, Post) == 0


LONG_LABEL_HOST = "a" * 300 + ".example.org"


def test_a_host_header_with_a_300_character_label_gets_a_plain_400_page(client):
    response = client.get("/", headers={"Host": LONG_LABEL_HOST})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The request could not be understood." in response.get_data(as_text=True)


def test_a_host_header_with_a_300_character_label_gets_a_400_body_from_the_api(client):
    response = client.get("/api/v1/me", headers={"Host": LONG_LABEL_HOST})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
