"""Exchanges: a response to a post, accepted or declined by the post's owner."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from carebank.centres.services import manages_exchange
from carebank.core.converters import by_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger.models import Account, Posting, Transaction, TransactionKind
from carebank.members.models import Member
from carebank.notifications import events
from carebank.notifications.services import notify
from carebank.posts.models import PostKind, PostStatus
from carebank.posts.services import get_post

MESSAGE_MAX_LENGTH = 1000
LIVE_STATUSES = (ExchangeStatus.PROPOSED, ExchangeStatus.ACCEPTED)


def respond(session: Session, member: Member, post_id, message: str = "") -> Exchange:
    """Answer a post: "I can help" to a need, "I would like this" to an offer."""
    post = get_post(session, post_id)
    if post.member_id == member.id:
        raise NotAllowed(_l("You cannot respond to your own post."), code="own_post")
    if not post.is_open():
        raise Conflict(_l("This post is no longer open."), code="post_not_open")
    message = (message if isinstance(message, str) else "").strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        text = _l("A message can be at most %(max)s characters.", max=MESSAGE_MAX_LENGTH)
        raise ValidationFailed(text, fields={"message": text})
    if _live_response_id(session, post.id, member.id) is not None:
        raise _already_responded()
    owner_gives = post.kind is PostKind.OFFER
    exchange = _add_response(session, Exchange(
        post=post,
        provider_id=post.member_id if owner_gives else member.id,
        receiver_id=member.id if owner_gives else post.member_id,
        responder_id=member.id,
        message=message,
        status=ExchangeStatus.PROPOSED,
    ))
    events.response_received(session, exchange, member)
    return exchange


def _live_response_id(session: Session, post_id: int, member_id: int) -> int | None:
    return session.scalar(sa.select(Exchange.id).where(
        Exchange.post_id == post_id, Exchange.responder_id == member_id,
        Exchange.status.in_(LIVE_STATUSES),
    ))


def _add_response(session: Session, exchange: Exchange) -> Exchange:
    try:
        with session.begin_nested():
            session.add(exchange)
            session.flush()
    except IntegrityError:
        # Two responses at the same instant: the index on live responses let one through.
        raise _already_responded() from None
    return exchange


def _already_responded() -> Conflict:
    return Conflict(_l("You have already responded to this post."), code="already_responded")


def get_exchange(session: Session, member: Member, exchange_id) -> Exchange:
    """An exchange the member takes part in (coordinators may see their centre's)."""
    exchange = by_id(session, Exchange, exchange_id)
    if exchange is None:
        raise NotFound(_l("That exchange does not exist."), code="exchange_not_found")
    if not exchange.is_party(member) and not manages_exchange(member, exchange):
        raise NotAllowed(_l("Only the two people in this exchange can see it."))
    return exchange


def get_response(session: Session, member: Member, post_id: int, exchange_id) -> Exchange:
    """A response to this post, for its owner to answer (an exchange of another post is not)."""
    exchange = get_exchange(session, member, exchange_id)
    if exchange.post_id != post_id:
        raise NotFound(_l("That response does not exist."), code="exchange_not_found")
    return exchange


def _decide(session: Session, member: Member, exchange_id, status: ExchangeStatus) -> Exchange:
    exchange = get_exchange(session, member, exchange_id)
    if exchange.post.member_id != member.id:
        raise NotAllowed(_l("Only the person who posted can accept or decline."))
    if exchange.status is not ExchangeStatus.PROPOSED or not _claim_decision(session, exchange, status):
        raise Conflict(_l("This response has already been answered."), code="already_decided")
    return exchange


def _claim_decision(session: Session, exchange: Exchange, status: ExchangeStatus) -> bool:
    """Decide unless someone already did: one conditional UPDATE, so of two owners' phones
    answering at once only one wins (on PostgreSQL the loser's UPDATE waits for the winner's
    row lock, then finds the status changed and touches nothing)."""
    decided = session.execute(
        sa.update(Exchange)
        .where(Exchange.id == exchange.id, Exchange.status == ExchangeStatus.PROPOSED)
        .values(status=status, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    session.expire(exchange, ["status", "decided_at"])
    return decided


def accept(session: Session, member: Member, exchange_id) -> Exchange:
    """The post's owner agrees; the post leaves the open list."""
    exchange = _decide(session, member, exchange_id, ExchangeStatus.ACCEPTED)
    if exchange.post.status is PostStatus.OPEN:
        exchange.post.status = PostStatus.MATCHED
    events.response_decided(session, exchange, member, accepted=True)
    session.flush()
    return exchange


def decline(session: Session, member: Member, exchange_id) -> Exchange:
    exchange = _decide(session, member, exchange_id, ExchangeStatus.DECLINED)
    events.response_decided(session, exchange, member, accepted=False)
    session.flush()
    return exchange


def cancel(session: Session, member: Member, exchange_id) -> Exchange:
    """Either party calls off an exchange before any visit is confirmed; a matched post with
    no other agreement opens again. After a visit, a problem goes to the centre instead."""
    exchange = get_exchange(session, member, exchange_id)
    if not exchange.is_party(member):
        raise NotAllowed(_l("Only the two people in this exchange can cancel it."))
    if exchange.status not in LIVE_STATUSES:
        raise Conflict(_l("This exchange has already ended."), code="exchange_ended")
    if standing(session, exchange).visits:
        raise Conflict(_l("A visit of this exchange is already confirmed, so it cannot be cancelled. "
                          "If something went wrong, report a problem to the centre."),
                       code="visit_confirmed")
    exchange.status = ExchangeStatus.CANCELLED
    exchange.decided_at = utcnow()
    session.flush()
    _reopen_post(session, exchange)
    events.exchange_cancelled(session, exchange, member)
    session.flush()
    return exchange


def _reopen_post(session: Session, exchange: Exchange) -> None:
    post = exchange.post
    others = session.scalar(
        sa.select(sa.func.count()).where(
            Exchange.post_id == post.id, Exchange.status == ExchangeStatus.ACCEPTED
        )
    )
    if post.status is PostStatus.MATCHED and not others:
        post.status = PostStatus.OPEN


def finish(session: Session, member: Member, exchange_id) -> Exchange:
    """Either party closes an agreed exchange: no more visits are counted (its care plans
    end), its history and messages stay, and the other party hears of it."""
    exchange = get_exchange(session, member, exchange_id)
    if not exchange.is_party(member):
        raise NotAllowed(_l("Only the two people in this exchange can finish it."))
    if exchange.is_finished:
        raise Conflict(_l("This exchange is already finished."), code="exchange_finished")
    if not exchange.is_accepted:
        raise Conflict(_l("Only an agreed exchange can be finished."), code="exchange_not_accepted")
    if not _claim_finish(session, exchange, member.id):
        raise Conflict(_l("This exchange is already finished."), code="exchange_finished")
    _end_plans(session, member, exchange)
    notify(session, exchange.other_party_id(member), "exchange_finished", url=events.exchange_page(exchange.id),
           name=member.name, title=exchange.post.title)
    session.flush()
    return exchange


def _claim_finish(session: Session, exchange: Exchange, by_id: int | None) -> bool:
    """Finish unless it already ended: one conditional UPDATE, as for a decision."""
    finished = session.execute(
        sa.update(Exchange)
        .where(Exchange.id == exchange.id, Exchange.status == ExchangeStatus.ACCEPTED)
        .values(status=ExchangeStatus.FINISHED, finished_at=utcnow(), finished_by_id=by_id)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    session.expire(exchange, ["status", "finished_at", "finished_by_id"])
    return finished


def _end_plans(session: Session, member: Member, exchange: Exchange) -> None:
    from carebank.careplans import services as careplans  # here: care plans build on exchanges

    for plan in careplans.exchange_plans(session, member, exchange.id):
        if plan.status in careplans.LIVE:
            careplans.end_plan(session, member, plan.id)


def refuse_if_finished(exchange: Exchange, field: str | None = None) -> None:
    """A finished exchange counts no more visits: say so plainly (codes, card check-ins)."""
    if exchange.is_finished:
        message = _l("This exchange is finished, so no more visits can be counted. "
                     "Its history and messages stay.")
        raise Conflict(message, code="exchange_finished", fields={field: message} if field else {})


def is_one_off(session: Session, exchange: Exchange) -> bool:
    """A one-off need: its poster asked for it just once (Post.once) and it has no care plan.
    Its first confirmed visit finishes it; other needs, offers and care plans go on."""
    from carebank.careplans.models import CarePlan  # here: care plans build on exchanges

    post = exchange.post
    if post.kind is not PostKind.NEED or not post.once:
        return False
    return session.scalar(sa.select(sa.func.count()).where(CarePlan.exchange_id == exchange.id)) == 0


def visit_credited(session: Session, exchange: Exchange) -> None:
    """Called in the same transaction as every visit credit (a code, a card check-in): a
    one-off need is finished by its first confirmed visit."""
    if exchange.is_accepted and is_one_off(session, exchange):
        _claim_finish(session, exchange, None)


def exchanges_of(session: Session, member: Member, limit: int | None = None) -> list[Exchange]:
    """The member's exchanges, live ones first, newest first (the first `limit` of them)."""
    query = (
        sa.select(Exchange)
        # Every list shows each exchange's post and both names: load them in three queries,
        # not three per exchange.
        .options(selectinload(Exchange.post), selectinload(Exchange.provider),
                 selectinload(Exchange.receiver))
        .where(sa.or_(Exchange.provider_id == member.id, Exchange.receiver_id == member.id))
        .order_by(
            sa.case((Exchange.status == ExchangeStatus.PROPOSED, 0),
                    (Exchange.status == ExchangeStatus.ACCEPTED, 1),
                    (Exchange.status == ExchangeStatus.FINISHED, 2), else_=3),
            Exchange.created_at.desc(),
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def live_response(responses: list[Exchange], member: Member) -> Exchange | None:
    """The member's response still waiting or agreed, among a post's responses."""
    return next((e for e in responses if e.responder_id == member.id and e.status in LIVE_STATUSES), None)


def responses_to(session: Session, post_id: int, *, with_parties: bool = False) -> list[Exchange]:
    """A post's responses, oldest first; `with_parties` loads both people of each (the owner's
    list names every responder) in two queries for the lot."""
    query = sa.select(Exchange).where(Exchange.post_id == post_id).order_by(Exchange.created_at)
    if with_parties:
        query = query.options(selectinload(Exchange.provider), selectinload(Exchange.receiver))
    return list(session.scalars(query))


def visit_lines(session: Session, exchange: Exchange) -> list[tuple[datetime, int]]:
    """(date, minutes) of each confirmed visit, as the provider's account saw it, so a
    coordinator's reversal shows as a negative line and the total stays true."""
    rows = session.execute(
        sa.select(Transaction.created_at, Posting.minutes)
        .join(Posting, Posting.transaction_id == Transaction.id)
        .join(Account, Posting.account_id == Account.id)
        .where(Transaction.exchange_id == exchange.id, Account.member_id == exchange.provider_id)
        .order_by(Transaction.created_at, Transaction.id)
    )
    return [tuple(row) for row in rows]


# ---- where an exchange stands -------------------------------------------------------------

STATES = ("waiting", "agreed", "visited", "finished", "declined", "cancelled")


@dataclass(frozen=True)
class Standing:
    """Where an exchange stands, in the words a person reads: waiting for an answer → agreed →
    visited (n visits, the last on a date) → finished; or declined, or cancelled."""

    state: str
    visits: int = 0
    last_visit_at: datetime | None = None


def _state(exchange: Exchange, visits: int) -> str:
    status = exchange.status
    if status is ExchangeStatus.PROPOSED:
        return "waiting"
    if status is ExchangeStatus.ACCEPTED:
        return "visited" if visits else "agreed"
    return status.value  # finished, declined, cancelled


def standings(session: Session, found: list[Exchange]) -> dict[int, Standing]:
    """The standing of each exchange, by id, in one query for the lot: the confirmed visits
    are its visit transactions that no reversal undid."""
    ids = [e.id for e in found]
    counted: dict[int, tuple[int, datetime]] = {}
    if ids:
        rows = session.execute(_visits_counted_query(), {"ids": ids})
        counted = {exchange_id: (count, last) for exchange_id, count, last in rows}
    return {e.id: Standing(_state(e, counted.get(e.id, (0, None))[0]), *counted.get(e.id, (0, None)))
            for e in found}


@functools.cache
def _visits_counted_query() -> sa.Select:
    # Built once (its alias is costly to make): each exchange's visits no reversal undid.
    reversal = sa.orm.aliased(Transaction)
    undone = sa.select(reversal.id).where(reversal.reverses_id == Transaction.id).exists()
    return (
        sa.select(Transaction.exchange_id, sa.func.count(), sa.func.max(Transaction.created_at))
        .where(Transaction.exchange_id.in_(sa.bindparam("ids", expanding=True)),
               Transaction.kind == TransactionKind.VISIT, ~undone)
        .group_by(Transaction.exchange_id)
    )


def standing(session: Session, exchange: Exchange) -> Standing:
    return standings(session, [exchange])[exchange.id]
