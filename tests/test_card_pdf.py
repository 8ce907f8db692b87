"""Printed member cards read back as a person and a phone would: the PDF is opened with
pdfium, its text extracted (Korean names included) and its QR codes decoded with ZXing."""
from __future__ import annotations

import math

import pypdfium2
import pytest
import zxingcpp
from conftest import logged_in

from carebank.cards import services as cards
from carebank.cards.models import CardStatus
from carebank.cards.pdf import CardFace, render_cards
from carebank.members.models import Role

CARD_SIZE = (242.65, 153.07)
A4_SIZE = (595.28, 841.89)
BASE_URL = "https://carebank.example.org"


def face(n: int, name: str = "김영자") -> CardFace:
    return CardFace(
        centre_name="효자 돌봄 센터", centre_phone="02-123-4567", member_name=name,
        member_number=f"{n:06d}", url=f"{BASE_URL}/card/0123456789ABCDEFGHJKMN{n:04d}",
        found_text="이 카드를 주우시면 센터로 연락해 주세요.", number_label="회원 번호",
    )


def page_text(page) -> str:
    return page.get_textpage().get_text_range()


def qr_texts(page) -> list[str]:
    image = page.render(scale=4).to_pil()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def assert_size(page, expected):
    width, height = page.get_size()
    assert width == pytest.approx(expected[0], abs=0.1) and height == pytest.approx(expected[1], abs=0.1)


def test_single_card_is_id1_sized_with_the_korean_name_number_and_qr():
    document = pypdfium2.PdfDocument(render_cards([face(7)], sheet=False))
    page, = document
    assert_size(page, CARD_SIZE)
    text = page_text(page)
    assert "김영자" in text and "000007" in text and "효자 돌봄 센터" in text and "02-123-4567" in text
    assert qr_texts(page) == [face(7).url]


def test_long_names_still_print_whole():
    name = "Alexandra Montgomery-Smithson of Hyoja-dong"
    page, = pypdfium2.PdfDocument(render_cards([face(1, name)], sheet=False))
    assert name in page_text(page).replace("\r\n", " ")


@pytest.mark.parametrize("count", [1, 10, 23])
def test_a4_sheets_hold_ten_cards_each_and_every_qr_decodes_to_its_own_card(count):
    faces = [face(n) for n in range(count)]
    document = pypdfium2.PdfDocument(render_cards(faces, sheet=True))
    assert len(document) == math.ceil(count / 10)
    for number, page in enumerate(document):
        assert_size(page, A4_SIZE)
        on_page = faces[number * 10 : number * 10 + 10]
        assert sorted(qr_texts(page)) == sorted(f.url for f in on_page)
        assert all(f.member_number in page_text(page) for f in on_page)


def test_the_korean_font_is_embedded_not_left_to_the_printer():
    pdf = render_cards([face(1)], sheet=False)
    assert b"/FontFile2" in pdf  # an embedded TrueType program (a subset of NanumSquare)


def test_downloaded_card_names_the_member_and_its_qr_finds_their_new_card(app, session, make_member):
    coordinator = make_member("Coordinator Han", role=Role.COORDINATOR)
    resident = make_member("김영자")
    response = logged_in(app, coordinator).post(f"/console/members/{resident.id}/card.pdf")
    page, = pypdfium2.PdfDocument(response.data)
    assert_size(page, CARD_SIZE)
    assert "김영자" in page_text(page) and resident.number in page_text(page)
    url, = qr_texts(page)
    assert url.startswith("http://localhost/card/")
    session.commit()
    card = cards.find_card(session, url)
    assert (card.member_id, card.status) == (resident.id, CardStatus.ACTIVE)
