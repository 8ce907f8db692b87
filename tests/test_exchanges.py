"""Exchanges: responding to a post, the owner's decision, and cancelling."""
from datetime import timedelta

import pytest

from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import ExchangeStatus
from carebank.members.models import Role
from carebank.posts import services as posts
from carebank.posts.models import PostStatus


@pytest.fixture
def owner(make_member):
    return make_member("Owner")


@pytest.fixture
def helper(make_member):
    return make_member("Helper")


@pytest.fixture
def need(owner, make_post):
    return make_post(owner, kind="need")


def test_responding_to_a_need_makes_the_responder_the_provider(session, owner, helper, need):
    exchange = exchanges.respond(session, helper, need.id, "  I live next door  ")
    session.commit()
    assert (exchange.provider_id, exchange.receiver_id, exchange.responder_id) == (
        helper.id, owner.id, helper.id)
    assert exchange.status is ExchangeStatus.PROPOSED and exchange.message == "I live next door"


def test_responding_to_an_offer_makes_the_responder_the_receiver(session, owner, helper, make_post):
    offer = make_post(owner, kind="offer")
    exchange = exchanges.respond(session, helper, offer.id)
    assert (exchange.provider_id, exchange.receiver_id) == (owner.id, helper.id)


def test_cannot_respond_to_own_post(session, owner, need):
    with pytest.raises(NotAllowed) as refused:
        exchanges.respond(session, owner, need.id)
    assert refused.value.code == "own_post"
    assert exchanges.responses_to(session, need.id) == []


def test_cannot_respond_to_a_closed_post(session, owner, helper, need):
    posts.close_post(session, owner, need.id)
    with pytest.raises(Conflict) as refused:
        exchanges.respond(session, helper, need.id)
    assert refused.value.code == "post_not_open"


def test_cannot_respond_to_an_expired_post(session, policy, owner, helper):
    old = posts.create_post(session, owner, kind="need", category="meals", title="Lunch", minutes=60,
                            policy=policy, now=utcnow() - timedelta(days=policy.post_lifetime_days))
    with pytest.raises(Conflict) as refused:
        exchanges.respond(session, helper, old.id)
    assert refused.value.code == "post_not_open"


def test_cannot_respond_to_an_unknown_post(session, helper):
    with pytest.raises(NotFound):
        exchanges.respond(session, helper, 999_999)


def test_cannot_respond_twice_while_the_first_response_is_live(session, helper, need):
    exchanges.respond(session, helper, need.id)
    with pytest.raises(Conflict) as refused:
        exchanges.respond(session, helper, need.id)
    assert refused.value.code == "already_responded"
    assert len(exchanges.responses_to(session, need.id)) == 1


def test_may_respond_again_after_being_declined(session, owner, helper, need):
    first = exchanges.respond(session, helper, need.id)
    exchanges.decline(session, owner, first.id)
    second = exchanges.respond(session, helper, need.id)
    assert second.id != first.id and second.status is ExchangeStatus.PROPOSED


def test_response_message_longer_than_1000_characters_is_refused(session, helper, need):
    with pytest.raises(ValidationFailed) as refused:
        exchanges.respond(session, helper, need.id, "x" * 1001)
    assert "message" in refused.value.fields
    assert exchanges.responses_to(session, need.id) == []


def test_owner_accepts_and_the_post_is_matched(session, owner, helper, need):
    exchange = exchanges.respond(session, helper, need.id)
    exchanges.accept(session, owner, exchange.id)
    session.commit()
    assert exchange.status is ExchangeStatus.ACCEPTED and exchange.decided_at is not None
    assert need.status is PostStatus.MATCHED


def test_responder_cannot_accept_own_response(session, helper, need):
    exchange = exchanges.respond(session, helper, need.id)
    with pytest.raises(NotAllowed):
        exchanges.accept(session, helper, exchange.id)
    assert exchange.status is ExchangeStatus.PROPOSED and need.status is PostStatus.OPEN


def test_stranger_cannot_accept(session, helper, need, make_member):
    exchange = exchanges.respond(session, helper, need.id)
    for stranger in (make_member(), make_member(role=Role.COORDINATOR)):
        with pytest.raises(NotAllowed):
            exchanges.accept(session, stranger, exchange.id)
    assert exchange.status is ExchangeStatus.PROPOSED


def test_owner_declines_and_the_post_stays_open(session, owner, helper, need):
    exchange = exchanges.respond(session, helper, need.id)
    exchanges.decline(session, owner, exchange.id)
    assert exchange.status is ExchangeStatus.DECLINED and need.status is PostStatus.OPEN


@pytest.mark.parametrize("first, second", [
    (exchanges.accept, exchanges.accept), (exchanges.accept, exchanges.decline),
    (exchanges.decline, exchanges.accept),
])
def test_a_response_is_answered_only_once(session, owner, helper, need, first, second):
    exchange = exchanges.respond(session, helper, need.id)
    first(session, owner, exchange.id)
    with pytest.raises(Conflict) as refused:
        second(session, owner, exchange.id)
    assert refused.value.code == "already_decided"


def test_either_party_can_cancel(session, owner, helper, need):
    by_helper = exchanges.respond(session, helper, need.id)
    exchanges.cancel(session, helper, by_helper.id)
    by_owner = exchanges.respond(session, helper, need.id)
    exchanges.cancel(session, owner, by_owner.id)
    assert by_helper.status is by_owner.status is ExchangeStatus.CANCELLED


def test_stranger_cannot_cancel(session, helper, need, make_member):
    exchange = exchanges.respond(session, helper, need.id)
    for stranger in (make_member(), make_member(role=Role.COORDINATOR)):
        with pytest.raises(NotAllowed):
            exchanges.cancel(session, stranger, exchange.id)
    assert exchange.status is ExchangeStatus.PROPOSED


def test_cannot_cancel_an_ended_exchange(session, owner, helper, need):
    exchange = exchanges.respond(session, helper, need.id)
    exchanges.decline(session, owner, exchange.id)
    with pytest.raises(Conflict) as refused:
        exchanges.cancel(session, helper, exchange.id)
    assert refused.value.code == "exchange_ended"
    assert exchange.status is ExchangeStatus.DECLINED


def test_cancelling_the_only_agreement_reopens_the_post(session, owner, helper, need):
    exchange = exchanges.respond(session, helper, need.id)
    exchanges.accept(session, owner, exchange.id)
    exchanges.cancel(session, helper, exchange.id)
    session.commit()
    assert need.status is PostStatus.OPEN


def test_cancelling_one_of_two_agreements_keeps_the_post_matched(
    session, owner, helper, need, make_member
):
    first = exchanges.respond(session, helper, need.id)
    second = exchanges.respond(session, make_member(), need.id)
    exchanges.accept(session, owner, first.id)
    exchanges.accept(session, owner, second.id)
    exchanges.cancel(session, owner, first.id)
    assert need.status is PostStatus.MATCHED


def test_cancelling_an_agreement_does_not_reopen_a_closed_post(session, owner, helper, need):
    exchange = exchanges.respond(session, helper, need.id)
    exchanges.accept(session, owner, exchange.id)
    posts.close_post(session, owner, need.id)
    exchanges.cancel(session, helper, exchange.id)
    assert need.status is PostStatus.CLOSED


def test_get_exchange_is_for_parties_and_coordinators(session, helper, need, make_member):
    exchange = exchanges.respond(session, helper, need.id)
    assert exchanges.get_exchange(session, make_member(role=Role.COORDINATOR), exchange.id) is exchange
    with pytest.raises(NotAllowed):
        exchanges.get_exchange(session, make_member(), exchange.id)
    with pytest.raises(NotFound):
        exchanges.get_exchange(session, helper, str(exchange.id))


def test_exchanges_of_lists_live_ones_first(session, owner, helper, make_post):
    declined = exchanges.respond(session, helper, make_post(owner).id)
    exchanges.decline(session, owner, declined.id)
    accepted = exchanges.respond(session, helper, make_post(owner).id)
    exchanges.accept(session, owner, accepted.id)
    proposed = exchanges.respond(session, helper, make_post(owner).id)
    session.commit()
    assert [e.id for e in exchanges.exchanges_of(session, helper)] == [
        proposed.id, accepted.id, declined.id]
