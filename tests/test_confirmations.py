"""Confirmation codes: readable, typo-tolerant, single-use, and the only way a visit is paid."""
import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
import zxingcpp
from PIL import Image, ImageDraw

from carebank.confirmations import services as confirmations
from carebank.confirmations.models import ConfirmationCode
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, Expired, InsufficientBalance, NotAllowed, ValidationFailed
from carebank.exchanges import services as exchanges
from carebank.ledger import services as ledger
from carebank.ledger.models import Posting, TransactionKind


def posting_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Posting))


def balances(session, exchange) -> tuple[int, int]:
    """(provider, receiver) balances."""
    return (ledger.balance_of(session, exchange.provider_id),
            ledger.balance_of(session, exchange.receiver_id))


@pytest.fixture
def exchange(make_exchange):
    return make_exchange(minutes=60)


@pytest.fixture
def token(session, policy, exchange):
    """A 60-minute code shown by the provider, for the receiver to redeem."""
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    session.commit()
    return token


def invalid_code(text):
    with pytest.raises(ValidationFailed) as refused:
        confirmations.parse_code(text)
    return refused.value.code


# --- the code as text --------------------------------------------------------------------


def test_code_is_26_crockford_base32_characters():
    token = confirmations.new_token()
    assert len(token) == 26
    assert set(token) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_codes_are_not_repeated():
    assert len({confirmations.new_token() for _ in range(200)}) == 200


def test_display_code_groups_by_four():
    token = confirmations.new_token()
    shown = confirmations.display_code(token)
    groups = shown.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4, 4, 4, 2]
    assert "".join(groups) == token


def test_parse_accepts_the_code_and_its_grouped_form():
    token = confirmations.new_token()
    assert confirmations.parse_code(token) == token
    assert confirmations.parse_code(confirmations.display_code(token)) == token


def test_parse_accepts_lower_case_and_spaces():
    token = confirmations.new_token()
    spaced = " ".join(token[i:i + 4] for i in range(0, 26, 4)).lower()
    assert confirmations.parse_code(f"  {spaced}\n") == token


def test_parse_reads_o_i_l_as_the_digits_they_look_like():
    token = "0" + "1" * 12 + "0" * 13
    typed = "O" + "Il" * 6 + "o" * 13
    assert confirmations.parse_code(typed) == token


def test_parse_accepts_the_confirmation_url():
    token = confirmations.new_token()
    url = confirmations.confirm_url("https://carebank.example.org/", token)
    assert url == f"https://carebank.example.org/c/{token}"
    assert confirmations.parse_code(url) == token
    assert confirmations.parse_code(f"{url}?utm_source=qr") == token
    assert confirmations.parse_code(f"{url}#top") == token


@pytest.mark.parametrize("text", [
    None, 12345, "", "hello", "!" * 26, "U" * 26, "https://carebank.example.org/c/",
])
def test_parse_rejects_garbage(text):
    assert invalid_code(text) == "invalid_code"


def test_parse_rejects_truncated_and_too_long_codes():
    token = confirmations.new_token()
    assert invalid_code(token[:-1]) == "invalid_code"
    assert invalid_code(token + "0") == "invalid_code"


def test_parse_rejects_a_code_larger_than_128_bits():
    # 26 characters hold 130 bits; a first character above 7 cannot come from new_token.
    assert invalid_code("Z" + "0" * 25) == "invalid_code"


# --- storage and QR ----------------------------------------------------------------------


def test_only_the_hash_of_the_code_is_stored(session, token, exchange):
    [row] = session.execute(sa.text("SELECT * FROM confirmation_codes")).all()
    assert token not in " ".join(str(value) for value in row)
    code = session.scalar(sa.select(ConfirmationCode))
    assert code.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (code.made_by_id, code.redeemer_id, code.minutes) == (
        exchange.provider_id, exchange.receiver_id, 60)


def test_code_expires_after_the_configured_time(session, policy, exchange):
    now = utcnow()
    code, _ = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy, now=now)
    assert code.expires_at == now + timedelta(seconds=policy.code_ttl_seconds)


@pytest.mark.parametrize("base_url", [
    "https://carebank.example.org",
    "https://timebank.community-care.seongbuk-gu.example.kr",  # ~50 characters
])
def test_qr_code_of_a_confirmation_url_stays_small(base_url):
    url = confirmations.confirm_url(base_url, confirmations.new_token())
    svg, version = confirmations.qr_svg(url)
    assert "<svg" in svg
    assert version <= 5


def raster_of(svg: str, scale: int = 4) -> Image.Image:
    """The SVG's dark runs ("M x y h n v1 h-n z") painted as a bitmap, as a screen shows it."""
    size = int(re.search(r'viewBox="0 0 (\d+)', svg).group(1))
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1", svg):
        x, y, n = int(x), int(y), int(n)
        draw.rectangle([x * scale, y * scale, (x + n) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


def test_every_qr_code_scans_back_to_its_confirmation_url():
    # The mask is fixed rather than chosen per code (for speed): each must still decode.
    for _ in range(60):
        url = confirmations.confirm_url("https://carebank.example.org", confirmations.new_token())
        svg, _version = confirmations.qr_svg(url)
        assert [found.text for found in zxingcpp.read_barcodes(raster_of(svg))] == [url]


# --- redeeming ---------------------------------------------------------------------------


def test_receiver_redeems_provider_code_and_minutes_move(session, policy, exchange, token):
    transaction, is_new = confirmations.redeem(session, exchange.receiver, token, policy)
    session.commit()

    assert is_new is True
    assert balances(session, exchange) == (60, -60)
    assert transaction.kind is TransactionKind.VISIT and transaction.exchange_id == exchange.id
    assert transaction.created_by_id == exchange.receiver_id
    code = session.scalar(sa.select(ConfirmationCode))
    assert code.is_redeemed and code.transaction_id == transaction.id


def test_provider_redeems_receiver_code_and_minutes_still_go_to_provider(session, policy, exchange):
    _, token = confirmations.make_code(session, exchange.receiver, exchange.id, 45, policy)
    transaction, is_new = confirmations.redeem(session, exchange.provider, token, policy)
    session.commit()

    assert is_new is True
    assert balances(session, exchange) == (45, -45)
    assert sorted(p.minutes for p in transaction.postings) == [-45, 45]


def test_redeeming_a_typed_grouped_code_works(session, policy, exchange, token):
    typed = confirmations.display_code(token).lower()
    confirmations.redeem(session, exchange.receiver, typed, policy)
    assert balances(session, exchange) == (60, -60)


def test_maker_cannot_redeem_own_code(session, policy, exchange, token):
    with pytest.raises(NotAllowed) as refused:
        confirmations.redeem(session, exchange.provider, token, policy)
    assert refused.value.code == "own_code"
    assert posting_count(session) == 0


def test_stranger_cannot_redeem_code(session, policy, exchange, token, make_member):
    with pytest.raises(NotAllowed) as refused:
        confirmations.redeem(session, make_member("Stranger"), token, policy)
    assert refused.value.code == "not_redeemer"
    assert posting_count(session) == 0


def test_same_redeemer_again_gets_the_same_transaction(session, policy, exchange, token):
    first, _ = confirmations.redeem(session, exchange.receiver, token, policy)
    session.commit()
    again, is_new = confirmations.redeem(session, exchange.receiver, token, policy)
    session.commit()

    assert (again.id, is_new) == (first.id, False)
    assert posting_count(session) == 2
    assert balances(session, exchange) == (60, -60)


def test_stranger_cannot_learn_about_a_redeemed_code(session, policy, exchange, token, make_member):
    confirmations.redeem(session, exchange.receiver, token, policy)
    with pytest.raises(NotAllowed):
        confirmations.redeem(session, make_member(), token, policy)


def test_expired_code_moves_nothing(session, policy, exchange, token):
    code = session.scalar(sa.select(ConfirmationCode))
    with pytest.raises(Expired):
        confirmations.redeem(session, exchange.receiver, token, policy, now=code.expires_at)
    session.commit()
    assert balances(session, exchange) == (0, 0)
    assert not session.scalar(sa.select(ConfirmationCode)).is_redeemed


def test_code_works_until_just_before_it_expires(session, policy, exchange, token):
    code = session.scalar(sa.select(ConfirmationCode))
    almost = code.expires_at - timedelta(seconds=1)
    confirmations.redeem(session, exchange.receiver, token, policy, now=almost)
    assert balances(session, exchange) == (60, -60)


def test_code_made_long_ago_has_expired(session, policy, exchange):
    long_ago = utcnow() - timedelta(seconds=policy.code_ttl_seconds + 1)
    _, token = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy, now=long_ago)
    with pytest.raises(Expired):
        confirmations.redeem(session, exchange.receiver, token, policy)
    assert posting_count(session) == 0


def test_tampered_code_is_invalid(session, policy, exchange, token):
    last = "1" if token[-1] != "1" else "2"
    with pytest.raises(ValidationFailed) as refused:
        confirmations.redeem(session, exchange.receiver, token[:-1] + last, policy)
    assert refused.value.code == "invalid_code"
    assert posting_count(session) == 0


@pytest.mark.parametrize("end", ["proposed", "declined", "cancelled"])
def test_no_code_for_an_exchange_that_is_not_accepted(session, policy, make_exchange, end):
    exchange = make_exchange(accepted=False)
    if end == "declined":
        exchanges.decline(session, exchange.receiver, exchange.id)
    elif end == "cancelled":
        exchanges.cancel(session, exchange.provider, exchange.id)
    with pytest.raises(Conflict) as refused:
        confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    assert refused.value.code == "exchange_not_accepted"


def test_code_of_an_exchange_cancelled_before_redemption_is_refused(session, policy, exchange, token):
    exchanges.cancel(session, exchange.receiver, exchange.id)
    session.commit()
    with pytest.raises(Conflict) as refused:
        confirmations.redeem(session, exchange.receiver, token, policy)
    assert refused.value.code == "exchange_not_accepted"
    assert balances(session, exchange) == (0, 0)


def test_stranger_cannot_make_a_code(session, policy, exchange, make_member):
    with pytest.raises(NotAllowed):
        confirmations.make_code(session, make_member(), exchange.id, 60, policy)


@pytest.mark.parametrize("minutes", [0, 1441, "60", 1.5, True])
def test_code_needs_valid_minutes(session, policy, exchange, minutes):
    with pytest.raises(ValidationFailed):
        confirmations.make_code(session, exchange.provider, exchange.id, minutes, policy)
    assert session.scalar(sa.select(sa.func.count()).select_from(ConfirmationCode)) == 0


def test_weekly_exchange_is_confirmed_with_a_new_code_each_visit(session, policy, exchange):
    paid = []
    first_visit = utcnow()
    for week in range(3):
        with time_machine.travel(first_visit + timedelta(weeks=week), tick=False):
            _, token = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
            transaction, is_new = confirmations.redeem(session, exchange.receiver, token, policy)
            session.commit()
        paid.append((transaction.id, is_new))

    assert len({tid for tid, _ in paid}) == 3 and all(new for _, new in paid)
    assert balances(session, exchange) == (180, -180)


def test_receiver_at_the_floor_cannot_redeem_until_they_have_time(
    session, policy, exchange, token, make_member, make_exchange
):
    friend = make_member("Friend")
    care = make_exchange(friend, exchange.receiver)
    ledger.credit_visit(session, friend.id, exchange.receiver_id, 1170, exchange_id=care.id,
                        created_by_id=exchange.receiver_id, policy=policy)
    session.commit()

    with pytest.raises(InsufficientBalance):
        confirmations.redeem(session, exchange.receiver, token, policy)
    session.commit()
    assert balances(session, exchange) == (0, -1170)
    assert not session.scalar(sa.select(ConfirmationCode)).is_redeemed

    # Once the receiver has time again, the same code still works.
    ledger.gift(session, friend, exchange.receiver_id, 30, "", policy)
    transaction, is_new = confirmations.redeem(session, exchange.receiver, token, policy)
    session.commit()
    assert is_new and balances(session, exchange) == (60, -1200)
    assert session.scalar(sa.select(ConfirmationCode)).transaction_id == transaction.id
    assert ledger.verify(session) == []


def test_code_status_is_only_for_its_maker(session, policy, exchange):
    code, _ = confirmations.make_code(session, exchange.provider, exchange.id, 60, policy)
    assert confirmations.code_status(session, exchange.provider, code.id) is code
    with pytest.raises(NotAllowed):
        confirmations.code_status(session, exchange.receiver, code.id)
