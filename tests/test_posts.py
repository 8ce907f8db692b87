"""Needs and offers: what a post must contain, who sees it, closing it, and suggested matches."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from carebank.core.database import utcnow
from carebank.core.errors import NotAllowed, NotFound, ValidationFailed
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import ExchangeStatus
from carebank.members.models import Role
from carebank.posts import services as posts
from carebank.posts.models import Post, PostKind, PostStatus
from carebank.posts.services import PostFilter


def post_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Post))


def refused_field(session, policy, member, **fields) -> set[str]:
    values = {"kind": "need", "category": "meals", "title": "Lunch", "minutes": 60}
    with pytest.raises(ValidationFailed) as refused:
        posts.create_post(session, member, policy=policy, **{**values, **fields})
    assert post_count(session) == 0
    return set(refused.value.fields)


def titles(found) -> list[str]:
    return [p.title for p in found]


# --- creating ----------------------------------------------------------------------------


def test_post_is_created_open_with_its_fields(session, policy, make_member):
    member = make_member()
    post = posts.create_post(session, member, kind="offer", category="repairs", title="  Fix a shelf ",
                             description=" I have tools ", minutes=90, policy=policy)
    session.commit()
    assert (post.kind, post.category, post.title, post.description, post.minutes) == (
        PostKind.OFFER, "repairs", "Fix a shelf", "I have tools", 90)
    assert post.status is PostStatus.OPEN and post.member_id == member.id


@pytest.mark.parametrize("kind", ["", "request", None, "NEED"])
def test_post_needs_a_known_kind(session, policy, make_member, kind):
    assert refused_field(session, policy, make_member(), kind=kind) == {"kind"}


@pytest.mark.parametrize("category", ["", "massage", None])
def test_post_needs_a_known_category(session, policy, make_member, category):
    assert refused_field(session, policy, make_member(), category=category) == {"category"}


@pytest.mark.parametrize("title", ["", "   ", None, "x" * 121])
def test_post_needs_a_title_of_at_most_120_characters(session, policy, make_member, title):
    assert refused_field(session, policy, make_member(), title=title) == {"title"}


def test_title_of_120_characters_is_accepted(make_member, make_post):
    assert len(make_post(make_member(), title="x" * 120).title) == 120


def test_description_of_4001_characters_is_refused(session, policy, make_member):
    assert refused_field(session, policy, make_member(), description="x" * 4001) == {"description"}


@pytest.mark.parametrize("minutes", [0, -30, 1441, "60", 1.5, True, None])
def test_post_minutes_are_a_whole_number_up_to_a_day(session, policy, make_member, minutes):
    assert refused_field(session, policy, make_member(), minutes=minutes) == {"minutes"}


def test_post_of_a_whole_day_is_accepted(make_member, make_post):
    assert make_post(make_member(), minutes=1440).minutes == 1440


@pytest.mark.parametrize("length", [timedelta(hours=-1), timedelta(0)])
def test_window_must_end_after_it_starts(session, policy, make_member, length):
    start = utcnow() + timedelta(days=1)
    fields = refused_field(session, policy, make_member(), starts_at=start, ends_at=start + length)
    assert fields == {"ends_at"}


def test_window_is_kept(make_member, make_post):
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    post = make_post(make_member(), starts_at=start, ends_at=start + timedelta(hours=2))
    assert (post.starts_at, post.ends_at) == (start, start + timedelta(hours=2))


def test_neighbourhood_defaults_to_the_member(make_member, make_post):
    member = make_member(neighbourhood="Hyoja-dong")
    assert make_post(member).neighbourhood == "Hyoja-dong"
    assert make_post(member, neighbourhood="  ").neighbourhood == "Hyoja-dong"
    assert make_post(member, neighbourhood=" Samcheong-dong ").neighbourhood == "Samcheong-dong"


def test_post_expires_after_the_post_lifetime(session, policy, make_member):
    now = utcnow()
    post = posts.create_post(session, make_member(), kind="need", category="meals", title="Lunch",
                             minutes=60, policy=policy, now=now)
    assert post.expires_at == now + timedelta(days=policy.post_lifetime_days)
    assert post.is_open(now + timedelta(days=policy.post_lifetime_days) - timedelta(seconds=1))
    assert not post.is_open(post.expires_at)


def test_get_post_of_unknown_or_malformed_id_is_not_found(session):
    for post_id in (999_999, "1", None):
        with pytest.raises(NotFound):
            posts.get_post(session, post_id)


# --- browsing ----------------------------------------------------------------------------


@pytest.fixture
def board(session, policy, make_member):
    """A few posts by different neighbours, created an hour apart (oldest first)."""
    start = utcnow() - timedelta(days=1)
    specs = [
        ("need", "meals", "Lunch together", "Hyoja-dong", "I cook too much rice"),
        ("offer", "repairs", "Fix a shelf", "Samcheong-dong", "I have 100% of the tools"),
        ("need", "escort", "병원에 같이 가요", "Hyoja-dong", "화요일 오전"),
        ("offer", "meals", "Soup delivery", "hyoja-dong", "Warm soup on Fridays"),
    ]
    made = {}
    for hour, (kind, category, title, place, text) in enumerate(specs):
        made[title] = posts.create_post(
            session, make_member(), kind=kind, category=category, title=title, description=text,
            minutes=60, neighbourhood=place, policy=policy, now=start + timedelta(hours=hour))
    session.commit()
    return made


def test_browse_shows_open_posts_newest_first(session, board):
    assert titles(posts.browse(session, PostFilter())) == [
        "Soup delivery", "병원에 같이 가요", "Fix a shelf", "Lunch together"]


@pytest.mark.parametrize("wanted, expected", [
    (PostFilter(kind="offer"), ["Soup delivery", "Fix a shelf"]),
    (PostFilter(kind="need", category="meals"), ["Lunch together"]),
    (PostFilter(category="meals"), ["Soup delivery", "Lunch together"]),
    (PostFilter(neighbourhood=" HYOJA-DONG "), ["Soup delivery", "병원에 같이 가요", "Lunch together"]),
    (PostFilter(text="SOUP"), ["Soup delivery"]),
    (PostFilter(text="rice"), ["Lunch together"]),
    (PostFilter(text="병원"), ["병원에 같이 가요"]),
    (PostFilter(text="오전"), ["병원에 같이 가요"]),
    (PostFilter(text="100%"), ["Fix a shelf"]),
    (PostFilter(text="nothing like this"), []),
])
def test_browse_filters(session, board, wanted, expected):
    assert titles(posts.browse(session, wanted)) == expected


def test_browse_ignores_unknown_filter_values(session, board):
    assert len(posts.browse(session, PostFilter(kind="other", category="massage", text="  "))) == 4


def test_browse_leaves_out_closed_matched_and_expired_posts(session, policy, board, make_member):
    posts.close_post(session, board["Fix a shelf"].member, board["Fix a shelf"].id)
    lunch = board["Lunch together"]
    exchange = exchanges.respond(session, make_member(), lunch.id)
    exchanges.accept(session, lunch.member, exchange.id)
    posts.create_post(session, make_member(), kind="need", category="meals", title="Old request",
                      minutes=60, policy=policy, now=utcnow() - timedelta(days=31))
    session.commit()

    assert titles(posts.browse(session, PostFilter())) == ["Soup delivery", "병원에 같이 가요"]


def test_browse_pages(session, board):
    assert titles(posts.browse(session, PostFilter(), limit=2, offset=1)) == [
        "병원에 같이 가요", "Fix a shelf"]


def test_neighbourhoods_lists_places_of_open_posts(session, board):
    shelf = board["Fix a shelf"]
    posts.close_post(session, shelf.member, shelf.id)
    # "hyoja-dong" typed in another case is stored as the centre's list spells it.
    assert posts.neighbourhoods(session) == ["Hyoja-dong"]


# --- closing -----------------------------------------------------------------------------


def test_owner_closes_post_cancelling_proposals_but_keeping_agreements(
    session, make_member, make_post
):
    owner = make_member("Owner")
    post = make_post(owner)
    accepted = exchanges.respond(session, make_member(), post.id)
    proposed = exchanges.respond(session, make_member(), post.id)
    exchanges.accept(session, owner, accepted.id)
    session.commit()

    posts.close_post(session, owner, post.id)
    session.commit()

    assert post.status is PostStatus.CLOSED
    assert accepted.status is ExchangeStatus.ACCEPTED
    assert proposed.status is ExchangeStatus.CANCELLED and proposed.decided_at is not None


def test_others_cannot_close_a_post(session, make_member, make_post):
    post = make_post(make_member())
    with pytest.raises(NotAllowed):
        posts.close_post(session, make_member(), post.id)
    assert post.status is PostStatus.OPEN


def test_coordinator_can_close_any_post(session, make_member, make_post):
    post = make_post(make_member())
    posts.close_post(session, make_member(role=Role.COORDINATOR), post.id)
    assert post.status is PostStatus.CLOSED


def test_posts_of_lists_open_then_matched_then_closed(session, make_member, make_post):
    owner = make_member()
    closed, matched, open_post = make_post(owner), make_post(owner), make_post(owner)
    posts.close_post(session, owner, closed.id)
    exchanges.accept(session, owner, exchanges.respond(session, make_member(), matched.id).id)
    session.commit()
    assert [p.id for p in posts.posts_of(session, owner)] == [open_post.id, matched.id, closed.id]


# --- suggested matches -------------------------------------------------------------------


def test_suggestions_are_of_the_opposite_kind_and_never_own_posts(session, make_member, make_post):
    asker, owner = make_member("Asker"), make_member("Owner")
    need = make_post(owner, kind="need", category="meals")
    offer = make_post(make_member(), kind="offer", category="meals")
    make_post(make_member(), kind="need", category="meals")
    make_post(owner, kind="offer", category="meals")
    make_post(asker, kind="offer", category="meals")

    suggested = posts.suggest_matches(session, need, asker)

    assert [p.id for p, _ in suggested] == [offer.id]


def test_suggestions_leave_out_closed_posts(session, make_member, make_post):
    need = make_post(make_member(), kind="need")
    offer = make_post(make_member(), kind="offer")
    posts.close_post(session, offer.member, offer.id)
    assert posts.suggest_matches(session, need, need.member) == []


def test_suggestions_put_the_same_category_and_place_first_and_leave_out_other_care(
        session, make_member, make_post):
    need = make_post(make_member(neighbourhood="Hyoja-dong"), kind="need", category="meals")
    far_other = make_post(make_member(neighbourhood="Mapo"), kind="offer", category="repairs")
    near_same = make_post(make_member(neighbourhood="Hyoja-dong"), kind="offer", category="meals")
    far_same = make_post(make_member(neighbourhood="Mapo"), kind="offer", category="meals")

    suggested = posts.suggest_matches(session, need, need.member)

    assert [p.id for p, _ in suggested] == [near_same.id, far_same.id]
    assert far_other.id not in [p.id for p, _ in suggested]
    assert suggested[0][1] > suggested[1][1]
