"""Needs and offers: posting, browsing, closing, and suggesting matches."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from carebank.centres.services import listed_neighbourhood as _listed_entry
from carebank.centres.services import manages
from carebank.core.converters import by_id
from carebank.core.database import FIRST_YEAR, LAST_YEAR, utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.core.policy import Policy
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.ledger.services import given_and_received
from carebank.matching import services as matching
from carebank.matching.languages import BANK_LANGUAGE, languages_read
from carebank.matching.languages import parse as parse_languages
from carebank.members.models import Member
from carebank.posts.categories import CATEGORIES
from carebank.posts.models import Post, PostKind, PostStatus

TITLE_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 4000
MAX_POST_MINUTES = 24 * 60
PAGE_SIZE = 50


@dataclass(frozen=True)
class PostFilter:
    kind: str | None = None
    category: str | None = None
    neighbourhood: str | None = None
    text: str | None = None


def _invalid(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, fields={field: message})


def _clean_post_fields(kind, category, title, description, minutes, starts_at, ends_at):
    if not isinstance(kind, str) or kind not in {k.value for k in PostKind}:
        raise _invalid("kind", _l("Choose whether you need help or offer help."))
    if not isinstance(category, str) or category not in CATEGORIES:
        raise _invalid("category", _l("Choose a category from the list."))
    title = title.strip() if isinstance(title, str) else ""
    if not title:
        raise _invalid("title", _l("Please give your post a title."))
    if len(title) > TITLE_MAX_LENGTH:
        raise _invalid("title", _l("A title can be at most %(max)s characters.", max=TITLE_MAX_LENGTH))
    description = description.strip() if isinstance(description, str) else ""
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise _invalid("description", _l("A description can be at most %(max)s characters.",
                                         max=DESCRIPTION_MAX_LENGTH))
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_POST_MINUTES:
        raise _invalid("minutes", _l("The time must be between 1 minute and 24 hours."))
    for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment and not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise _invalid(field, _l("Please choose a date between %(first)s and %(last)s.",
                                     first=FIRST_YEAR, last=LAST_YEAR))
    if starts_at and ends_at and starts_at >= ends_at:
        raise _invalid("ends_at", _l("The end must be after the start."))
    return kind, category, title, description, minutes


def _listed_neighbourhood(session: Session, member: Member, typed) -> str:
    """The list's name for a post's neighbourhood (the author's own when none is given);
    ValidationFailed naming "neighbourhood" when it is not on the list."""
    typed = (typed if isinstance(typed, str) else "").strip()
    entry = _listed_entry(session, typed, centre_id=member.centre_id)
    return entry.name if entry else typed


def create_post(
    session: Session, member: Member, *, kind, category, title, description="", minutes,
    neighbourhood=None, starts_at: datetime | None = None, ends_at: datetime | None = None,
    once=False, policy: Policy, now: datetime | None = None,
) -> Post:
    """Post a need or an offer, open until it expires after the bank's post lifetime."""
    kind, category, title, description, minutes = _clean_post_fields(
        kind, category, title, description, minutes, starts_at, ends_at
    )
    neighbourhood = _listed_neighbourhood(session, member, neighbourhood)
    once = _once(once, kind)
    now = now or utcnow()
    post = Post(
        member_id=member.id,
        kind=PostKind(kind),
        category=category,
        title=title,
        description=description,
        minutes=minutes,
        neighbourhood=(neighbourhood or member.neighbourhood)[:80],
        starts_at=starts_at,
        ends_at=ends_at,
        once=once,
        status=PostStatus.OPEN,
        created_at=now,
        expires_at=now + timedelta(days=policy.post_lifetime_days),
    )
    session.add(post)
    session.flush()
    return post


def _once(once, kind: str) -> bool:
    """Only a need is asked for once; an offer stays open to many visits."""
    if not isinstance(once, bool):
        raise _invalid("once", _l("Say yes or no: is this needed just once?"))
    if once and kind != PostKind.NEED.value:
        raise _invalid("once", _l("Only a need can be asked for just once."))
    return once


def get_post(session: Session, post_id) -> Post:
    post = by_id(session, Post, post_id)
    if post is None:
        raise NotFound(_l("That post does not exist."), code="post_not_found")
    return post


def _open_posts(now: datetime) -> sa.Select:
    return sa.select(Post).where(Post.status == PostStatus.OPEN, Post.expires_at > now)


def browse(session: Session, wanted: PostFilter, *, now: datetime | None = None,
           limit: int = PAGE_SIZE, offset: int = 0) -> list[Post]:
    """Open, unexpired posts matching the filter, newest first."""
    query = _open_posts(now or utcnow())
    if wanted.kind in {k.value for k in PostKind}:
        query = query.where(Post.kind == PostKind(wanted.kind))
    if wanted.category in CATEGORIES:
        query = query.where(Post.category == wanted.category)
    if wanted.neighbourhood:
        query = query.where(sa.func.lower(Post.neighbourhood) == wanted.neighbourhood.strip().lower())
    if wanted.text and wanted.text.strip():
        needle = wanted.text.strip().lower()
        query = query.where(
            sa.or_(sa.func.lower(Post.title).contains(needle, autoescape=True),
                   sa.func.lower(Post.description).contains(needle, autoescape=True))
        )
    query = query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def neighbourhoods(session: Session) -> list[str]:
    """Neighbourhoods that have open posts, for the browse filter: one index seek per
    neighbourhood (a recursive "next one after") rather than reading every open post."""
    found = sa.select(_next_neighbourhood_after("").label("name")).cte("found", recursive=True)
    found = found.union_all(
        sa.select(_next_neighbourhood_after(found.c.name)).where(found.c.name.is_not(None)))
    return list(session.scalars(sa.select(found.c.name).where(found.c.name.is_not(None))))


def _next_neighbourhood_after(previous) -> sa.ScalarSelect:
    return sa.select(sa.func.min(Post.neighbourhood)).where(
        Post.status == PostStatus.OPEN, Post.neighbourhood > previous).scalar_subquery()


def posts_of(session: Session, member: Member) -> list[Post]:
    """A member's own posts, open ones first, newest first."""
    query = sa.select(Post).where(Post.member_id == member.id).order_by(
        sa.case((Post.status == PostStatus.OPEN, 0), (Post.status == PostStatus.MATCHED, 1), else_=2),
        Post.created_at.desc(),
    )
    return list(session.scalars(query))


def open_posts_of(session: Session, member: Member, *, now: datetime | None = None) -> list[Post]:
    """A member's open, unexpired posts, newest first (not their whole history of posts)."""
    query = _open_posts(now or utcnow()).where(Post.member_id == member.id)
    return list(session.scalars(query.order_by(Post.created_at.desc())))


def close_post(session: Session, member: Member, post_id) -> Post:
    """The owner (or a coordinator) closes a post; proposals not yet accepted are cancelled.
    Accepted exchanges stay: their visits can still be confirmed."""
    post = get_post(session, post_id)
    if post.member_id != member.id and not manages(member, post.member):
        raise NotAllowed(_l("Only the person who posted this can close it."))
    if post.status is PostStatus.CLOSED:
        raise Conflict(_l("This post is already closed."), code="post_closed")
    post.status = PostStatus.CLOSED
    session.execute(
        sa.update(Exchange)
        .where(Exchange.post_id == post.id, Exchange.status == ExchangeStatus.PROPOSED)
        .values(status=ExchangeStatus.CANCELLED, decided_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return post


# How many of the newest posts each source gives: all of a kind of care in one neighbourhood
# as a rule, a sample of the rest.
CANDIDATE_SOURCES = ("same care here", "same care", "here", "any")
CANDIDATES_PER_SOURCE = {"same care here": 150, "same care": 40, "here": 40, "any": 10}
# What scoring reads of a candidate: plain rows, not whole posts, as hundreds are scored.
_FACT_COLUMNS = (Post.id, Post.member_id, Post.kind, Post.category, Post.neighbourhood, Post.title,
                 Post.description, Post.created_at, Post.starts_at, Post.ends_at,
                 Member.languages, Member.locale)


@dataclass(frozen=True)
class Suggestion:
    """A post that fits, its score (0–1, kept for the API) and why it fits (matching.Reason)."""

    post: Post
    score: float
    reasons: tuple[matching.Reason, ...]


def suggestions(session: Session, post: Post, asker: Member, *, now: datetime | None = None,
                limit: int = 10) -> list[Suggestion]:
    """Open posts of the opposite kind that fit `post` (matching.fit: for its author, who
    would meet them), the same care first, never the asker's own; none when none fits."""
    now = now or utcnow()
    candidates = _match_candidates(session, post, asker, now)
    history = given_and_received(session, list({c[1] for c in candidates}))
    facts = [_row_facts(c, history.get(c[1], (0, 0))) for c in candidates]
    ranked = matching.rank(post_facts(post), facts, now)[:limit]
    found = {p.id: p for p in session.scalars(sa.select(Post).where(Post.id.in_([m.post_id for m in ranked])))}
    best = [Suggestion(found[m.post_id], m.score, m.reasons) for m in ranked]
    load_authors(session, [s.post for s in best])
    return best


def kept_suggestions(session: Session, post: Post, asker: Member, *, limit: int = 10) -> list[Suggestion]:
    """`suggestions` as a member sees them coming back to a page: ranked once and kept (per
    process) until any post is added, one of those shown is no longer open, or the app's
    SUGGESTIONS_KEPT_SECONDS pass. Ranking reads hundreds of posts; this reads the few shown."""
    seconds = current_app.config.get("SUGGESTIONS_KEPT_SECONDS", 0)
    if not seconds:
        return suggestions(session, post, asker, limit=limit)
    now = utcnow()
    newest_post_id = session.scalar(sa.select(sa.func.max(Post.id)))
    key = (asker.id, limit, post_facts(post))  # a changed post is a new key
    kept = _kept_rankings().get(key)
    if kept is not None and kept.newest_post_id == newest_post_id \
            and now - kept.ranked_at < timedelta(seconds=seconds):
        best = _still_shown(session, kept, now)
        if best is not None:
            return best
    best = suggestions(session, post, asker, now=now, limit=limit)
    _kept_rankings().put(key, _Ranking(newest_post_id, now, tuple((s.post.id, s.score, s.reasons) for s in best)))
    return best


@dataclass(frozen=True)
class _Ranking:
    newest_post_id: int | None
    ranked_at: datetime
    picks: tuple[tuple[int, float, tuple[matching.Reason, ...]], ...]  # (post id, score, reasons)


def _still_shown(session: Session, kept: _Ranking, now: datetime) -> list[Suggestion] | None:
    """The kept suggestions, loaded again; None when one of them is closed, matched or expired."""
    ids = [post_id for post_id, _score, _reasons in kept.picks]
    found = {p.id: p for p in session.scalars(_open_posts(now).where(Post.id.in_(ids)))} if ids else {}
    if len(found) != len(ids):
        return None
    best = [Suggestion(found[post_id], score, reasons) for post_id, score, reasons in kept.picks]
    load_authors(session, [s.post for s in best])
    return best


class _KeptRankings:
    """The newest rankings, by (asker, limit, the post's facts); the oldest go first."""

    SIZE = 4096

    def __init__(self) -> None:
        self._rankings: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> _Ranking | None:
        with self._lock:
            ranking = self._rankings.get(key)
            if ranking is not None:
                self._rankings.move_to_end(key)
            return ranking

    def put(self, key, ranking: _Ranking) -> None:
        with self._lock:
            self._rankings[key] = ranking
            self._rankings.move_to_end(key)
            while len(self._rankings) > self.SIZE:
                self._rankings.popitem(last=False)


KEPT_RANKINGS = "carebank.kept_suggestions"


def _kept_rankings() -> _KeptRankings:
    kept = current_app.extensions.get(KEPT_RANKINGS)
    if kept is None:  # the app's first ranking; setdefault, as two threads may get here
        kept = current_app.extensions.setdefault(KEPT_RANKINGS, _KeptRankings())
    return kept


def suggest_matches(session: Session, post: Post, asker: Member, *, now: datetime | None = None,
                    limit: int = 10) -> list[tuple[Post, float]]:
    """`suggestions` as (post, score) pairs."""
    return [(s.post, s.score) for s in suggestions(session, post, asker, now=now, limit=limit)]


def _match_candidates(session: Session, post: Post, asker: Member, now: datetime) -> list[sa.Row]:
    """The posts worth scoring, read off indexes rather than ranking every open post of a
    city: the newest of the same care here, of the same care anywhere, of any care here, and
    of all. Category and place carry most of a score, so the best matches are among them."""
    opposite = PostKind.OFFER if post.kind is PostKind.NEED else PostKind.NEED
    base = sa.select(*_FACT_COLUMNS).join(Member, Member.id == Post.member_id).where(
        Post.status == PostStatus.OPEN, Post.expires_at > now, Post.kind == opposite,
        Post.member_id.not_in({asker.id, post.member_id}))
    here = Post.neighbourhood == post.neighbourhood
    same_care = Post.category == post.category
    conditions = {"same care here": sa.and_(same_care, here), "same care": same_care,
                  "here": here, "any": sa.true()}
    found: dict[int, sa.Row] = {}
    for source in CANDIDATE_SOURCES:
        newest = (base.where(conditions[source]).order_by(Post.created_at.desc())
                  .limit(CANDIDATES_PER_SOURCE[source]))
        for row in session.execute(newest):
            found.setdefault(row.id, row)
    return list(found.values())


def post_facts(post: Post, given_received: tuple[int, int] = (0, 0)) -> matching.PostFacts:
    """What matching reads of a loaded post and its author."""
    values = [getattr(post, column.key) for column in _FACT_COLUMNS[:-2]]
    return _row_facts((*values, post.member.languages, post.member.locale), given_received)


def _row_facts(row: sa.Row, given_received: tuple[int, int]) -> matching.PostFacts:
    post_id, _member_id, kind, category, neighbourhood, title, description, created_at, \
        starts_at, ends_at, languages, locale = row  # in the order of _FACT_COLUMNS; unpacked, as it is hot
    return matching.PostFacts(post_id, kind.value, category, neighbourhood, f"{title} {description}",
                              created_at, starts_at, ends_at, *given_received,
                              languages=_languages_read(languages, locale),
                              languages_guessed=not parse_languages(languages or ""))


def reader(member: Member) -> tuple[frozenset[str], bool]:
    """The languages a member reads (matching.languages.languages_read), and whether that is
    only a guess (their profile names none: the app's language is all we know)."""
    guessed = not parse_languages(member.languages or "")
    return _languages_read(member.languages, member.locale), guessed


def _languages_read(stated: str, locale: str | None) -> frozenset[str]:
    default = current_app.config["DEFAULT_LOCALE"] if has_app_context() else BANK_LANGUAGE
    return languages_read(stated, locale, default)


def load_authors(session: Session, found: list[Post]) -> None:
    """Each post's author in one query, as every card shows who posted it."""
    ids = {post.member_id for post in found}
    authors = {m.id: m for m in session.scalars(sa.select(Member).where(Member.id.in_(ids)))} if ids else {}
    for post in found:
        # Set on the post itself: the session only holds loaded objects weakly.
        set_committed_value(post, "member", authors[post.member_id])
