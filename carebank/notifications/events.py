"""The events members hear about: each service that makes the change calls one of these in the
same transaction, so the notification stands or falls with the change."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from carebank.core.database import utcnow
from carebank.exchanges.models import Exchange
from carebank.ledger.models import Account, Transaction
from carebank.members.models import Member
from carebank.notifications.models import Notification
from carebank.notifications.services import notify, notify_centre
from carebank.posts.models import Post, PostStatus

LEDGER_PAGE = "/ledger/"
# A cancellation this close to the start is urgent, quiet hours or not.
URGENT_WITHIN = timedelta(hours=24)


def exchange_page(exchange_id: int) -> str:
    return f"/exchanges/{exchange_id}"


def response_received(session: Session, exchange: Exchange, responder: Member) -> None:
    notify(session, exchange.post.member_id, "response_received", url=exchange_page(exchange.id),
           name=responder.name, title=exchange.post.title)


def response_decided(session: Session, exchange: Exchange, owner: Member, accepted: bool) -> None:
    kind = "response_accepted" if accepted else "response_declined"
    notify(session, exchange.responder_id, kind, url=exchange_page(exchange.id),
           name=owner.name, title=exchange.post.title)


def _other_party(exchange: Exchange, member: Member) -> int:
    return exchange.receiver_id if exchange.provider_id == member.id else exchange.provider_id


def exchange_cancelled(session: Session, exchange: Exchange, by: Member) -> None:
    """Urgent (past quiet hours) when the care was to start within a day: someone is waiting."""
    starts = exchange.post.starts_at
    soon = starts is not None and utcnow() <= starts <= utcnow() + URGENT_WITHIN
    notify(session, _other_party(exchange, by), "exchange_cancelled", url=exchange_page(exchange.id),
           urgent=soon, name=by.name, title=exchange.post.title)


def message_received(session: Session, exchange: Exchange, author: Member) -> None:
    """The other party hears that there is a message; the words stay in the thread."""
    notify(session, _other_party(exchange, author), "message_received", url=f"/exchanges/{exchange.id}/messages",
           name=author.name, title=exchange.post.title)


def visit_confirmed(session: Session, provider_id: int, receiver_id: int, minutes: int,
                    exchange_id: int) -> None:
    provider, receiver = session.get(Member, provider_id), session.get(Member, receiver_id)
    url = exchange_page(exchange_id)
    notify(session, provider_id, "visit_credited", url=url, name=receiver.name, minutes=minutes)
    notify(session, receiver_id, "visit_debited", url=url, name=provider.name, minutes=minutes)


def gift_received(session: Session, sender: Member, recipient_id: int, minutes: int) -> None:
    notify(session, recipient_id, "gift_received", url=LEDGER_PAGE, name=sender.name, minutes=minutes)


def grant_received(session: Session, recipient_id: int, minutes: int, reason: str) -> None:
    notify(session, recipient_id, "grant_received", url=LEDGER_PAGE, minutes=minutes, memo=reason)


def transaction_reversed(session: Session, reversal: Transaction) -> None:
    """Each member whose balance the correction moved hears how much and why."""
    for posting in reversal.postings:
        member_id = session.get(Account, posting.account_id).member_id
        if member_id is not None:
            notify(session, member_id, "transaction_reversed", url=LEDGER_PAGE,
                   minutes=abs(posting.minutes), memo=reversal.memo)


def dispute_opened(session: Session, exchange: Exchange, raised_by: Member, dispute_id: int) -> None:
    facts = {"name": raised_by.name, "title": exchange.post.title}
    notify(session, _other_party(exchange, raised_by), "dispute_opened", url=exchange_page(exchange.id), **facts)
    notify_centre(session, raised_by.centre_id, "dispute_opened",
                  url=f"/console/disputes/{dispute_id}", **facts)


def dispute_settled(session: Session, exchange: Exchange, resolution: str) -> None:
    for member_id in (exchange.provider_id, exchange.receiver_id):
        notify(session, member_id, "dispute_settled", url=exchange_page(exchange.id),
               title=exchange.post.title, resolution=resolution)


def checkin_waiting(session: Session, carer: Member, resident: Member) -> None:
    notify_centre(session, resident.centre_id, "checkin_waiting", url="/console/checkins",
                  except_id=carer.id, carer=carer.name, name=resident.name)


EXPIRY_NOTICE = timedelta(days=3)


def posts_expiring(session: Session, now: datetime) -> int:
    """Tell each owner of an open post that ends within 3 days, once per post (a periodic task
    calls this; a post already told about has its notification, found by its page)."""
    told = sa.select(Notification.id).where(
        Notification.kind == "post_expiring", Notification.member_id == Post.member_id,
        Notification.url == sa.literal("/posts/") + sa.cast(Post.id, sa.String))
    ending = session.scalars(sa.select(Post).where(
        Post.status == PostStatus.OPEN, Post.expires_at > now, Post.expires_at <= now + EXPIRY_NOTICE,
        ~sa.exists(told)))
    count = 0
    for post in ending:
        notify(session, post.member_id, "post_expiring", url=f"/posts/{post.id}", title=post.title)
        count += 1
    return count
