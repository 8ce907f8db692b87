"""The weekly digest: new posts that fit a member's open posts (the other kind of the same
care) or are in their neighbourhood, told once a week in one notification (by e-mail by
default, not pushed: it is community news), never naming a post twice."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from carebank.members.models import Member
from carebank.notifications.models import DigestItem
from carebank.notifications.services import notify
from carebank.posts.models import Post, PostKind, PostStatus

WEEK = timedelta(days=7)
MOST_NAMED = 10  # a digest names at most this many posts; the rest wait for next week
TITLES_SHOWN = 5


def weekly_digests(session: Session, now: datetime) -> int:
    """Write this week's digest for every active member with something new for them; how many."""
    members = session.scalars(sa.select(Member).where(Member.deactivated_at.is_(None)).order_by(Member.id))
    return sum(1 for member in members if digest_for(session, member, now))


def digest_for(session: Session, member: Member, now: datetime) -> bool:
    found = list(session.scalars(_new_for(member, now).limit(MOST_NAMED)))
    if not found:
        return False
    notify(session, member.id, "new_matches", url="/posts/", count=len(found),
           titles=" · ".join(post.title for post in found[:TITLES_SHOWN]))
    session.add_all(DigestItem(member_id=member.id, post_id=post.id, sent_at=now) for post in found)
    session.flush()
    return True


def _new_for(member: Member, now: datetime) -> sa.Select:
    mine = aliased(Post)
    fits_mine = sa.exists().where(
        mine.member_id == member.id, mine.status == PostStatus.OPEN,
        mine.category == Post.category, mine.kind != Post.kind)
    nearby = Post.neighbourhood == member.neighbourhood if member.neighbourhood else sa.false()
    named = sa.exists().where(DigestItem.member_id == member.id, DigestItem.post_id == Post.id)
    return (sa.select(Post)
            .where(Post.status == PostStatus.OPEN, Post.member_id != member.id, Post.created_at > now - WEEK,
                   Post.expires_at > now, sa.or_(fits_mine, nearby), ~named)
            .order_by(Post.kind == PostKind.OFFER, Post.id.desc()))
