"""Names as neighbours and coordinators read them: one Unicode form, no invisible or
direction-changing characters, at least one letter; and the card says which characters of a
name its font cannot print instead of leaving blanks."""
from __future__ import annotations

import unicodedata

import pypdfium2
import pytest
import sqlalchemy as sa

from carebank.cards.pdf import CardFace, render_cards, unprintable
from carebank.core.errors import ValidationFailed
from carebank.members.models import Member
from carebank.members.names import clean_name
from carebank.members.services import register_resident, update_profile
from tests.conftest import logged_in

RLO, PDF_MARK, ZWSP, ZWNJ = "\u202e", "\u202c", "\u200b", "\u200c"


def member_count(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Member))


@pytest.mark.parametrize("name", [ZWSP * 5, "\u2066\u2069\u200e", RLO + PDF_MARK, "\x00\x07\x1b", "\ufeff", "123 !?", "  "])
def test_a_name_with_no_visible_letter_is_refused_at_sign_up(client, session, name):
    before = member_count(session)
    response = client.post("/api/v1/members", json={"name": name, "email": "new@example.org",
                                                    "password": "long enough password"})
    assert response.status_code == 400
    assert "name" in response.get_json()["error"]["fields"]
    assert member_count(session) == before


def test_bidi_overrides_and_controls_are_stripped_and_the_name_is_nfc(client, session):
    decomposed = unicodedata.normalize("NFD", "김영자")
    response = client.post("/api/v1/members", json={
        "name": f"{RLO}{decomposed}{PDF_MARK}\u0007 {ZWSP}Kim\n\tLee", "email": "kim@example.org",
        "password": "long enough password"})
    assert response.status_code == 201, response.get_data(as_text=True)
    name = response.get_json()["member"]["name"]
    assert name == "김영자 Kim Lee"
    assert unicodedata.is_normalized("NFC", name)


def test_joiners_inside_a_name_stay(session, make_member):
    assert clean_name(f"Mehr{ZWNJ}dad", "name", 80, "the name") == f"Mehr{ZWNJ}dad"


def test_a_coordinator_cannot_register_a_resident_named_with_invisible_characters(session, coordinator):
    with pytest.raises(ValidationFailed) as refused:
        register_resident(session, coordinator, name=ZWSP * 3 + RLO, consent_note="paper form")
    assert "name" in refused.value.fields


def test_the_profile_page_refuses_an_invisible_name_and_keeps_the_old_one(app, session, make_member):
    member = make_member("Park Soon-ja")
    client = logged_in(app, member)
    response = client.post("/profile", data={"name": ZWSP * 4, "neighbourhood": "Hyoja-dong", "locale": "",
                                           "timezone": "Asia/Seoul"})
    assert response.status_code == 400
    session.commit()
    session.refresh(member)
    assert member.name == "Park Soon-ja"


def test_profile_update_cleans_the_name(session, make_member):
    member = make_member("Park")
    update_profile(session, member, name=f"{RLO}Park Soon-ja{ZWSP}")
    assert member.name == "Park Soon-ja"


def card(name: str) -> CardFace:
    return CardFace(centre_name="효자 돌봄 센터", centre_phone="02-123-4567", member_name=name,
                    member_number="000042", url="https://bank.example.org/card/ABCDEFGHJKMN0123456789",
                    found_text="이 카드를 주우시면 센터로 연락해 주세요.", number_label="회원 번호",
                    unprintable_label="인쇄할 수 없는 글자:")


def card_text(face: CardFace) -> str:
    page, = pypdfium2.PdfDocument(render_cards([face], sheet=False))
    return page.get_textpage().get_text_range()


def test_the_card_names_the_characters_its_font_cannot_print():
    assert unprintable("José 😀 김") == ["é", "😀"]
    text = card_text(card("José 😀 김"))
    assert "인쇄할 수 없는 글자: U+00E9 U+1F600" in text
    # Not a blank where a letter was: the base letter, else a question mark.
    assert "Jose ? 김" in text


def test_a_name_the_font_prints_whole_has_no_note():
    text = card_text(card("김영자 Kim"))
    assert "인쇄할 수 없는" not in text and "김영자 Kim" in text
