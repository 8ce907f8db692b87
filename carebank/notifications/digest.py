"""The weekly digest: new posts that fit a member's open posts (by matching.fit, the rule
the suggestions follow, so "we'll tell you when one appears" holds) or are in their
neighbourhood in a language they read, told once a week in one notification (by e-mail by
default, not pushed: it is community news), never naming a post twice."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, selectinload

from carebank.ledger.services import given_and_received
from carebank.matching import services as matching
from carebank.members.models import Member
from carebank.notifications.models import DigestItem
from carebank.notifications.services import notify
from carebank.posts import services as posts
from carebank.posts.models import Post, PostKind, PostStatus

WEEK = timedelta(days=7)
MOST_NAMED = 10  # a digest names at most this many posts; the rest wait for next week
# New posts of the week looked at per member, newest first: the fit rule is judged in Python.
MOST_LOOKED_AT = 500
TITLES_SHOWN = 5


def weekly_digests(session: Session, now: datetime) -> int:
    """Write this week's digest for every active member with something new for them; how many."""
    members = session.scalars(sa.select(Member).where(Member.deactivated_at.is_(None)).order_by(Member.id))
    return sum(1 for member in members if digest_for(session, member, now))


def digest_for(session: Session, member: Member, now: datetime) -> bool:
    found = _for_member(session, member, now)
    if not found:
        return False
    notify(session, member.id, "new_matches", url="/posts/", count=len(found),
           titles=" · ".join(post.title for post in found[:TITLES_SHOWN]))
    session.add_all(DigestItem(member_id=member.id, post_id=post.id, sent_at=now) for post in found)
    session.flush()
    return True


def _for_member(session: Session, member: Member, now: datetime) -> list[Post]:
    """The new posts that fit one of the member's open posts, or are near them and readable."""
    mine = [posts.post_facts(post) for post in session.scalars(
        sa.select(Post).where(Post.member_id == member.id, Post.status == PostStatus.OPEN))]
    reader, guessed = posts.reader(member)
    new = list(session.scalars(_new_for(member, now).limit(MOST_LOOKED_AT)))
    history = given_and_received(session, list({post.member_id for post in new}))
    found = []
    for post in new:
        candidate = posts.post_facts(post, history.get(post.member_id, (0, 0)))
        nearby = bool(member.neighbourhood) and post.neighbourhood == member.neighbourhood
        if any(matching.fit(target, candidate, now) for target in mine) or (
                nearby and matching.readable(reader, candidate, guessed=guessed)):
            found.append(post)
            if len(found) == MOST_NAMED:
                break
    return found


def _new_for(member: Member, now: datetime) -> sa.Select:
    """New posts that might fit (of the other kind than one of the member's open posts) or
    are nearby; the fit itself is matching's to judge."""
    mine = aliased(Post)
    fits_mine = sa.exists().where(
        mine.member_id == member.id, mine.status == PostStatus.OPEN, mine.kind != Post.kind)
    nearby = Post.neighbourhood == member.neighbourhood if member.neighbourhood else sa.false()
    named = sa.exists().where(DigestItem.member_id == member.id, DigestItem.post_id == Post.id)
    return (sa.select(Post).options(selectinload(Post.member))
            .where(Post.status == PostStatus.OPEN, Post.member_id != member.id, Post.created_at > now - WEEK,
                   Post.expires_at > now, sa.or_(fits_mine, nearby), ~named)
            .order_by(Post.kind == PostKind.OFFER, Post.id.desc()))
