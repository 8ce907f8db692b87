"""Member cards: issuing keeps only a hash, a new card stops the old one at once, blocking,
unlocking and PINs; the console pages for one member and for batches, and `flask cards pdf`."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pypdfium2
import pytest
import sqlalchemy as sa
from conftest import logged_in

from carebank.audit.models import AuditEntry
from carebank.cards import services as cards
from carebank.cards.models import CardStatus, MemberCard
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, ValidationFailed
from carebank.members.models import Member, Role

BASE_URL = "https://carebank.example.org"


@pytest.fixture
def resident(make_member):
    return make_member("김영자")


def issue(session, member, by=None) -> cards.IssuedCard:
    issued = cards.issue_card(session, member, by)
    session.commit()
    return issued


def card_rows(session, member) -> list[MemberCard]:
    session.commit()
    return list(session.scalars(sa.select(MemberCard).where(MemberCard.member_id == member.id)
                                .order_by(MemberCard.id)))


# --- the service ----------------------------------------------------------------------------


def test_issuing_stores_only_a_hash_of_the_card_secret(session, resident, coordinator):
    issued = issue(session, resident, coordinator)
    row = session.execute(sa.select(MemberCard.__table__)).one()._asdict()
    assert issued.token not in " ".join(str(value) for value in row.values())
    assert row["secret_hash"] == hashlib.sha256(issued.token.encode()).hexdigest()


def test_new_card_stops_the_old_one_at_once(session, resident, coordinator):
    old = issue(session, resident, coordinator)
    new = issue(session, resident, coordinator)
    with pytest.raises(Conflict) as refused:
        cards.require_usable(cards.find_card(session, cards.card_url(BASE_URL, old.token)))
    assert refused.value.code == "card_replaced"
    cards.require_usable(cards.find_card(session, cards.card_url(BASE_URL, new.token)))
    assert [c.status for c in card_rows(session, resident)] == [CardStatus.REPLACED, CardStatus.ACTIVE]


def test_blocked_card_is_refused_and_keeps_its_reason(session, resident, coordinator):
    issued = issue(session, resident, coordinator)
    cards.block_card(session, issued.card, coordinator, "lost on the bus")
    session.commit()
    with pytest.raises(Conflict) as refused:
        cards.require_usable(cards.find_card(session, issued.token))
    assert refused.value.code == "card_blocked"
    assert cards.latest_card(session, resident.id).block_reason == "lost on the bus"


def test_unlocking_resets_the_wrong_pin_count(session, resident, coordinator):
    card = issue(session, resident, coordinator).card
    card.pin_failures, card.locked_at = cards.MAX_PIN_FAILURES, utcnow()
    session.commit()
    with pytest.raises(Conflict):
        cards.require_usable(card)
    cards.unlock_card(session, card, coordinator)
    session.commit()
    assert (card.pin_failures, card.locked_at) == (0, None)
    cards.require_usable(card)


@pytest.mark.parametrize("pin", ["123", "12345", "abcd", "12 4", "١٢٣٤"])
def test_pin_must_be_four_digits(session, resident, coordinator, pin):
    with pytest.raises(ValidationFailed) as refused:
        cards.set_pin(session, resident, pin, coordinator)
    assert "pin" in refused.value.fields


def test_pin_can_be_set_and_cleared(session, resident, coordinator):
    cards.set_pin(session, resident, "0420", coordinator)
    assert cards.pin_matches(resident, "0420") and not cards.pin_matches(resident, "0421")
    cards.set_pin(session, resident, "", coordinator)
    assert resident.pin_hash is None and not cards.pin_matches(resident, "0420")


def test_member_who_left_cannot_get_a_card(session, resident, coordinator):
    resident.deactivated_at = utcnow()
    with pytest.raises(Conflict) as refused:
        cards.issue_card(session, resident, coordinator)
    assert refused.value.code == "member_inactive"


def test_members_for_cards_are_the_active_members_of_the_coordinators_centre(
        session, make_member, make_centre, coordinator):
    other_centre = make_centre("Other Centre")
    kim, ahn = make_member("Kim"), make_member("Ahn")
    make_member("Elsewhere", centre_id=other_centre.id)
    left = make_member("Left")
    left.deactivated_at = utcnow()
    issue(session, kim)
    session.commit()
    names = [m.name for m in cards.members_for_cards(session, coordinator)]
    assert names == ["Ahn", "Han Mi-gyeong", "Kim"]
    assert [m.name for m in cards.members_for_cards(session, coordinator, without_card=True)] == [
        "Ahn", "Han Mi-gyeong"]
    assert cards.members_for_cards(session, coordinator, since=utcnow() + timedelta(minutes=1)) == []
    assert ahn in cards.members_for_cards(session, coordinator, since=utcnow() - timedelta(hours=1))


def test_card_face_speaks_the_members_language(app, session, make_member):
    member = make_member("Alex Kim", locale="en")
    with app.app_context():
        face, = cards.card_faces([issue(session, member)], BASE_URL)
    assert face.found_text == "If found, please call the centre."
    assert (face.centre_name, face.centre_phone) == ("Hyoja Care Centre", "02-123-4567")
    assert face.member_number == member.number and face.url.startswith(f"{BASE_URL}/card/")


# --- the console: who may use it --------------------------------------------------------------

MEMBER_ROUTES = [
    ("get", "/console/members/{id}/card"),
    ("post", "/console/members/{id}/pin"),
    ("post", "/console/members/{id}/card/block"),
    ("post", "/console/members/{id}/card/unlock"),
    ("post", "/console/members/{id}/card.pdf"),
    ("post", "/console/members/{id}/card/print"),
]
BATCH_ROUTES = [("get", "/console/cards"), ("post", "/console/cards.pdf"), ("post", "/console/cards/print")]


@pytest.mark.parametrize(("method", "path"), MEMBER_ROUTES + BATCH_ROUTES)
def test_visitor_is_sent_to_log_in(client, resident, method, path):
    response = getattr(client, method)(path.format(id=resident.id))
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize(("method", "path"), MEMBER_ROUTES + BATCH_ROUTES)
def test_member_is_refused(app, make_member, resident, method, path):
    response = getattr(logged_in(app, make_member("Neighbour")), method)(path.format(id=resident.id))
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), MEMBER_ROUTES)
def test_coordinator_of_other_centre_cannot_see_member(app, session, make_member, make_centre,
                                                        resident, method, path):
    stranger = make_member("Other Coordinator", role=Role.COORDINATOR, centre_id=make_centre().id)
    response = getattr(logged_in(app, stranger), method)(path.format(id=resident.id))
    assert response.status_code == 404
    assert card_rows(session, resident) == []


def test_admin_of_no_centre_manages_every_member(app, session, make_member, make_centre, resident):
    admin = make_member("Admin", role=Role.ADMIN, centre_id=make_centre().id)
    client = logged_in(app, admin)
    assert client.get(f"/console/members/{resident.id}/card").status_code == 200
    assert client.post(f"/console/members/{resident.id}/card.pdf").status_code == 200


def test_coordinators_batch_holds_only_their_centres_members(app, session, make_member, make_centre):
    other = make_centre()
    stranger = make_member("Other Coordinator", role=Role.COORDINATOR, centre_id=other.id)
    ours = make_member("Ours")
    response = logged_in(app, stranger).post("/console/cards.pdf", data={"which": "all"})
    assert response.status_code == 200
    assert card_rows(session, ours) == [] and len(card_rows(session, stranger)) == 1


# --- the console: one member's card -----------------------------------------------------------


def test_card_page_shows_status_and_warns_that_printing_replaces(app, session, coordinator, resident):
    issue(session, resident, coordinator)
    page = logged_in(app, coordinator).get(f"/console/members/{resident.id}/card").get_data(as_text=True)
    assert "Working" in page and "No PIN" in page
    assert "Printing issues new cards: their old cards stop working." in page


def test_downloading_a_pdf_issues_a_new_card_and_stops_the_old(app, session, coordinator, resident):
    old = issue(session, resident, coordinator)
    response = logged_in(app, coordinator).post(f"/console/members/{resident.id}/card.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename=card-{resident.number}.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert len(pypdfium2.PdfDocument(response.data)) == 1
    assert [c.status for c in card_rows(session, resident)] == [CardStatus.REPLACED, CardStatus.ACTIVE]
    with pytest.raises(Conflict):
        cards.require_usable(cards.find_card(session, old.token))


def test_card_pdf_is_never_issued_by_a_get(app, session, coordinator, resident):
    response = logged_in(app, coordinator).get(f"/console/members/{resident.id}/card.pdf")
    assert response.status_code == 405 and card_rows(session, resident) == []


def test_print_page_shows_the_new_card_at_real_size(app, session, coordinator, resident):
    response = logged_in(app, coordinator).post(f"/console/members/{resident.id}/card/print")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert "김영자" in page and resident.number in page and "<svg" in page and "cards-print.css" in page
    assert [c.status for c in card_rows(session, resident)] == [CardStatus.ACTIVE]


def test_issuing_from_the_console_is_audited(app, session, coordinator, resident):
    logged_in(app, coordinator).post(f"/console/members/{resident.id}/card/print")
    session.commit()
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "card.issue")).one()
    assert (entry.actor_id, entry.member_id) == (coordinator.id, resident.id)


def test_blocking_needs_a_reason(app, session, coordinator, resident):
    issue(session, resident, coordinator)
    client = logged_in(app, coordinator)
    response = client.post(f"/console/members/{resident.id}/card/block", data={"reason": ""})
    assert response.status_code == 400
    assert card_rows(session, resident)[0].status is CardStatus.ACTIVE
    response = client.post(f"/console/members/{resident.id}/card/block", data={"reason": "stolen"})
    assert response.status_code == 302
    card, = card_rows(session, resident)
    assert (card.status, card.block_reason, card.blocked_by_id) == (CardStatus.BLOCKED, "stolen", coordinator.id)


def test_unlocking_from_the_console(app, session, coordinator, resident):
    card = issue(session, resident, coordinator).card
    card.pin_failures, card.locked_at = cards.MAX_PIN_FAILURES, utcnow()
    session.commit()
    client = logged_in(app, coordinator)
    assert "Unlock the card" in client.get(f"/console/members/{resident.id}/card").get_data(as_text=True)
    assert client.post(f"/console/members/{resident.id}/card/unlock").status_code == 302
    card, = card_rows(session, resident)
    assert (card.pin_failures, card.locked_at) == (0, None)


def test_unlocking_without_a_card_is_refused(app, session, coordinator, resident):
    response = logged_in(app, coordinator).post(f"/console/members/{resident.id}/card/unlock")
    assert response.status_code == 400


@pytest.mark.parametrize("pin", ["", "123", "12345", "abcd"])
def test_console_refuses_a_pin_that_is_not_four_digits(app, session, coordinator, resident, pin):
    response = logged_in(app, coordinator).post(f"/console/members/{resident.id}/pin", data={"pin": pin})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.get_data(as_text=True)
    session.commit()
    assert session.get(Member, resident.id).pin_hash is None


def test_console_sets_and_removes_a_pin(app, session, coordinator, resident):
    client = logged_in(app, coordinator)
    assert client.post(f"/console/members/{resident.id}/pin", data={"pin": "2580"}).status_code == 302
    session.commit()
    assert cards.pin_matches(session.get(Member, resident.id), "2580")
    response = client.post(f"/console/members/{resident.id}/pin", data={"pin": "", "action": "clear"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Member, resident.id).pin_hash is None


# --- the console: batches ---------------------------------------------------------------------


def test_batch_of_members_without_a_card(app, session, coordinator, resident, make_member):
    has_card = make_member("Has Card")
    issue(session, has_card)
    response = logged_in(app, coordinator).post("/console/cards.pdf", data={"which": "without_card"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(card_rows(session, resident)) == 1 and len(card_rows(session, coordinator)) == 1
    assert len(card_rows(session, has_card)) == 1  # untouched: its card still works


def test_batch_since_a_date_needs_the_date(app, session, coordinator, resident):
    response = logged_in(app, coordinator).post("/console/cards.pdf", data={"which": "since", "since": ""})
    assert response.status_code == 400 and card_rows(session, resident) == []


def test_batch_since_a_date(app, session, coordinator, resident):
    client = logged_in(app, coordinator)
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    response = client.post("/console/cards.pdf", data={"which": "since", "since": tomorrow})
    assert response.status_code == 302 and card_rows(session, resident) == []
    response = client.post("/console/cards/print", data={"which": "since", "since": "2020-01-01"})
    assert response.status_code == 200 and response.get_data(as_text=True).count('class="id-card"') == 2


# --- the command line -------------------------------------------------------------------------


def invoke(app, session, *args):
    session.commit()
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_prints_cards_for_exactly_the_centres_active_members(app, session, tmp_path, centre,
                                                                 make_member, make_centre):
    members = [make_member(f"Member {n}") for n in range(12)]
    left = make_member("Left")
    left.deactivated_at = utcnow()
    elsewhere = make_member("Elsewhere", centre_id=make_centre().id)
    out = tmp_path / "cards.pdf"
    result = invoke(app, session, "cards", "pdf", "--out", str(out), "--centre", str(centre.id),
                    "--base-url", BASE_URL)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"12 cards for 12 members written to {out}"
    assert len(pypdfium2.PdfDocument(out.read_bytes())) == 2
    assert all(len(card_rows(session, m)) == 1 for m in members)
    assert card_rows(session, left) == [] and card_rows(session, elsewhere) == []


def test_cli_issues_nothing_for_an_unknown_centre(app, session, tmp_path, resident):
    out = tmp_path / "cards.pdf"
    result = invoke(app, session, "cards", "pdf", "--out", str(out), "--centre", "999", "--base-url", BASE_URL)
    assert result.exit_code != 0 and "centre 999" in result.output
    assert not out.exists() and card_rows(session, resident) == []


def test_cli_writes_nothing_for_a_centre_without_members(app, session, tmp_path, make_centre):
    out = tmp_path / "cards.pdf"
    result = invoke(app, session, "cards", "pdf", "--out", str(out), "--centre", str(make_centre().id),
                    "--base-url", BASE_URL)
    assert result.exit_code == 0 and "no cards issued" in result.output and not out.exists()


def test_cli_needs_the_sites_address_for_the_qr_codes(app, session, tmp_path, resident):
    app.config["BASE_URL"] = None
    result = invoke(app, session, "cards", "pdf", "--out", str(tmp_path / "cards.pdf"))
    assert result.exit_code != 0 and "CAREBANK_BASE_URL" in result.output
    assert card_rows(session, resident) == []
