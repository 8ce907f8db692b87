"""The needs-and-offers pages, used the way a member uses them: through the web forms."""
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.posts import services as posts
from carebank.posts import views as post_views
from carebank.posts.models import Post, PostStatus


def post_form(client, **fields):
    """Submit the new-post form with sensible answers, overridden by `fields`."""
    data = {"kind": "need", "category": "meals", "title": "Lunch together", "description": "",
            "hours": "1", "extra_minutes": "0", "neighbourhood": "", "starts_at": "", "ends_at": ""}
    data.update(fields)
    return client.post("/posts/new", data=data)


def all_posts(session) -> list[Post]:
    session.expire_all()
    return list(session.scalars(sa.select(Post).order_by(Post.id)))


def all_exchanges(session) -> list[Exchange]:
    session.expire_all()
    return list(session.scalars(sa.select(Exchange).order_by(Exchange.id)))


def page(client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def second_client(app, member):
    other = app.test_client()
    other.login(member)
    return other


# Posting


def test_posting_a_need_saves_it_and_shows_it_on_browse(client, session, make_member):
    client.login(make_member("Kim Young-ja"))
    response = post_form(client, title="Walk to the clinic", category="escort", hours="1", extra_minutes="30")

    [post] = all_posts(session)
    assert response.status_code == 302
    assert response.location.endswith(f"/posts/{post.id}")
    assert (post.kind.value, post.category, post.minutes) == ("need", "escort", 90)
    browse = page(client, "/posts/")
    assert "Walk to the clinic" in browse and "1 h 30 min" in browse and "Kim Young-ja" in browse


def test_new_post_takes_the_members_neighbourhood_unless_another_is_typed(client, session, make_member):
    client.login(make_member(neighbourhood="Hyoja-dong"))
    post_form(client, title="First")
    post_form(client, title="Second", neighbourhood="Cheongpa-dong")
    assert [p.neighbourhood for p in all_posts(session)] == ["Hyoja-dong", "Cheongpa-dong"]


def test_new_post_form_is_prefilled_from_the_link_and_the_profile(client, make_member):
    client.login(make_member(neighbourhood="Hyoja-dong"))
    html = page(client, "/posts/new?kind=offer")
    assert re.search(r'<input checked[^>]*value="offer"', html)
    assert 'value="Hyoja-dong"' in html


def test_time_window_is_read_in_the_members_time_zone_and_stored_in_utc(client, session, make_member):
    client.login(make_member())
    post_form(client, starts_at="2030-05-01T10:00", ends_at="2030-05-01T12:00")
    [post] = all_posts(session)
    # The default time zone is Asia/Seoul, nine hours ahead of UTC.
    assert post.starts_at == datetime(2030, 5, 1, 1, 0, tzinfo=UTC)
    assert post.ends_at == datetime(2030, 5, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("fields, message", [
    ({"title": ""}, "This field is required."),
    ({"title": "x" * 121}, "120 characters"),
    ({"hours": "0", "extra_minutes": "0"}, "The time must be between 1 minute and 24 hours."),
    ({"hours": "24", "extra_minutes": "30"}, "The time must be between 1 minute and 24 hours."),
    ({"category": "astrology"}, "Not a valid choice"),
    ({"starts_at": "2030-05-01T12:00", "ends_at": "2030-05-01T10:00"}, "The end must be after the start."),
])
def test_invalid_post_is_shown_again_with_a_message_and_nothing_saved(client, session, make_member, fields, message):
    client.login(make_member())
    response = post_form(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert all_posts(session) == []


def test_visitor_is_sent_to_log_in_before_posting(client):
    response = client.get("/posts/new")
    assert response.status_code == 302
    assert "/login" in response.location and "next=" in response.location


# Browsing


def test_browse_filters_by_kind_category_neighbourhood_and_text(client, make_member, make_post):
    kim, lee = make_member(neighbourhood="Hyoja-dong"), make_member(neighbourhood="Cheongpa-dong")
    make_post(kim, kind="need", category="meals", title="Soup for a cold")
    make_post(kim, kind="offer", category="repairs", title="Fixing a leaky tap")
    make_post(lee, kind="need", category="errands", title="Pharmacy run", description="Blood pressure pills")
    cases = {
        "kind=offer": {"Fixing a leaky tap"},
        "category=meals": {"Soup for a cold"},
        "neighbourhood=cheongpa-dong": {"Pharmacy run"},
        "q=PILLS": {"Pharmacy run"},
        "kind=need&neighbourhood=Hyoja-dong": {"Soup for a cold"},
    }
    titles = {"Soup for a cold", "Fixing a leaky tap", "Pharmacy run"}
    for query, expected in cases.items():
        html = page(client, f"/posts/?{query}")
        assert {t for t in titles if t in html} == expected, query


def test_expired_and_closed_posts_are_not_browsable(client, session, make_member, make_post):
    kim = make_member()
    make_post(kim, title="Still open")
    expired = make_post(kim, title="Long gone")
    expired.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    closed = make_post(kim, title="Already sorted")
    posts.close_post(session, kim, closed.id)

    html = page(client, "/posts/")
    assert "Still open" in html
    assert "Long gone" not in html and "Already sorted" not in html


def test_empty_browse_says_so_and_links_to_posting(client):
    html = page(client, "/posts/")
    assert "There are no open posts yet." in html
    assert 'href="/posts/new' in html


def test_browse_pages_with_a_more_link(client, make_member, make_post, monkeypatch):
    monkeypatch.setattr(post_views, "BROWSE_PAGE_SIZE", 2)
    kim = make_member()
    for title in ("Oldest", "Middle", "Newest"):
        make_post(kim, title=title)

    first = page(client, "/posts/?kind=need")
    assert "Newest" in first and "Middle" in first and "Oldest" not in first
    assert 'href="/posts/?page=2&amp;kind=need"' in first
    second = page(client, "/posts/?kind=need&page=2")
    assert "Oldest" in second and "Newest" not in second and "page=3" not in second


def test_absurd_page_numbers_and_filter_values_do_not_break_browse(client, make_member, make_post):
    make_post(make_member(), title="Soup for a cold")
    assert client.get("/posts/?page=99999999999999999999999").status_code == 200
    assert "Soup for a cold" in page(client, "/posts/?page=-3")
    bad = client.get("/posts/?kind=everything")
    assert bad.status_code == 400 and "Not a valid choice" in bad.get_data(as_text=True)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_browse_renders_in_korean_and_english(client, make_member, make_post, language):
    make_post(make_member(), title="Soup for a cold",
              starts_at=datetime(2030, 5, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 5, 1, 3, tzinfo=UTC))
    html = page(client, "/posts/", headers={"Accept-Language": language})
    assert f'<html lang="{language}">' in html and "Soup for a cold" in html


# One post


def test_visitor_sees_a_post_and_is_asked_to_log_in_to_respond(client, make_member, make_post):
    post = make_post(make_member("Kim Young-ja"), title="Soup for a cold", description="Line one\nLine two")
    html = page(client, f"/posts/{post.id}")
    assert "Soup for a cold" in html and "Line one<br>Line two" in html and "Kim Young-ja" in html
    assert "Log in to respond" in html and "I can help" not in html


def test_unknown_post_is_a_friendly_404(client):
    for url in ("/posts/999", "/posts/99999999999999999999999"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Sorry" in response.get_data(as_text=True)


def test_owner_sees_status_matches_and_responses_but_no_respond_button(
        app, client, session, make_member, make_post):
    kim, lee, park = make_member("Kim"), make_member("Lee"), make_member("Park")
    need = make_post(kim, kind="need", category="meals", title="Soup for a cold")
    offer = make_post(lee, kind="offer", category="meals", title="I cook extra soup")
    exchanges.respond(session, park, need.id, "I live next door")
    [suggestion] = posts.suggestions(session, need, kim)

    client.login(kim)
    html = page(client, f"/posts/{need.id}")
    assert '<span class="status">Open</span>' in html and "Close this post" in html
    assert "Park" in html and "I live next door" in html and "Accept" in html and "Decline" in html
    assert suggestion.post == offer and offer.title in html
    assert "same kind of help · your neighbourhood" in html and "% fit" not in html
    assert "I can help" not in html


def test_other_member_sees_the_right_respond_button(app, make_member, make_post):
    kim = make_member()
    need, offer = make_post(kim, kind="need"), make_post(kim, kind="offer", title="Garden help")
    lee = second_client(app, make_member())
    assert "I can help" in page(lee, f"/posts/{need.id}")
    html = page(lee, f"/posts/{offer.id}")
    assert "I would like this" in html and "Close this post" not in html and "Suggested matches" not in html


# Suggested matches: only those that fit, said in words

TUESDAY_MORNING = {"starts_at": datetime(2027, 1, 5, 0, 0, tzinfo=UTC),  # 09:00 to 12:00 in Seoul
                   "ends_at": datetime(2027, 1, 5, 3, 0, tzinfo=UTC)}


def test_a_suggestion_says_in_words_why_it_fits(client, make_member, make_post, earn):
    kim, lee = make_member("Kim"), make_member("Lee")
    earn(lee, 12 * 60)
    need = make_post(kim, kind="need", category="escort", title="Walk to the clinic", **TUESDAY_MORNING)
    make_post(lee, kind="offer", category="escort", title="I can walk with you", **TUESDAY_MORNING)

    client.login(kim)
    html = page(client, f"/posts/{need.id}")
    assert "same kind of help · your neighbourhood · free on Tuesday morning · has given 12 hours" in html
    assert "% fit" not in html


def test_a_need_with_no_close_match_is_told_so_not_offered_another_kind_of_care(
        client, make_member, make_post):
    kim = make_member("Kim")
    need = make_post(kim, kind="need", category="escort", title="병원에 같이 가 주세요")
    make_post(make_member(), kind="offer", category="childcare", title="초등학생 수학 숙제 도와드려요")

    client.login(kim)
    html = page(client, f"/posts/{need.id}")
    assert "수학" not in html
    assert "No close match yet — we'll tell you when one appears." in html
    assert "No close match yet" in page(client, "/")


def test_a_member_who_reads_english_is_never_suggested_posts_they_cannot_read(
        client, session, make_member, make_post):
    sarah = make_member("Sarah", languages="English", locale="en")
    need = make_post(sarah, kind="need", category="meals", title="Lunch together")
    make_post(make_member("Kim", languages="한국어"), kind="offer", category="meals", title="Lunch together")
    make_post(make_member("Park", languages="한국어, English"), kind="offer", category="meals", title="점심 같이 먹어요")
    bilingual = make_post(make_member("Min", languages="ko,en"), kind="offer", category="meals",
                          title="Lunch with me")

    assert [s.post for s in posts.suggestions(session, need, sarah)] == [bilingual]
    client.login(sarah)
    html = page(client, f"/posts/{need.id}")
    assert "Lunch with me" in html and "점심" not in html and "Kim" not in html


def test_the_home_page_shows_suggestions_in_words(client, make_member, make_post):
    kim = make_member("Kim")
    make_post(kim, kind="need", category="meals", title="Soup for a cold")
    make_post(make_member("Lee"), kind="offer", category="meals", title="I cook extra soup")

    client.login(kim)
    html = page(client, "/")
    assert "I cook extra soup" in html and "same kind of help · your neighbourhood" in html


def test_we_tell_a_member_when_a_fitting_post_appears_and_not_for_one_that_does_not_fit(
        client, session, make_member, make_post):
    from carebank.notifications.digest import weekly_digests
    from carebank.notifications.models import Notification

    def digest_titles(now):
        weekly_digests(session, now)
        session.commit()
        found = session.scalars(sa.select(Notification).where(
            Notification.member_id == kim.id, Notification.kind == "new_matches")).all()
        return [set(n.params["titles"].split(" · ")) for n in found]

    kim = make_member("Kim", languages="한국어")
    need = make_post(kim, kind="need", category="escort", title="병원에 같이 가 주세요")
    client.login(kim)
    assert "No close match yet" in page(client, f"/posts/{need.id}")

    far = make_member("Far", neighbourhood="Mapo")
    make_post(far, kind="offer", category="childcare", title="초등학생 수학 숙제 도와드려요")  # another care
    make_post(make_member("Sarah", neighbourhood="Mapo", languages="English", locale="en"), kind="offer",
              category="escort", title="I can walk you to the clinic")  # shares no language with Kim
    assert digest_titles(datetime.now(UTC)) == []

    make_post(far, kind="offer", category="escort", title="병원 동행해 드려요")
    assert digest_titles(datetime.now(UTC) + timedelta(days=1)) == [{"병원 동행해 드려요"}]
    assert "병원 동행해 드려요" in page(client, f"/posts/{need.id}")


# Responding, accepting, declining


def test_member_responds_and_owner_accepts_into_a_matched_post(app, client, session, make_member, make_post):
    kim, lee = make_member("Kim"), make_member("Lee")
    need = make_post(kim, title="Soup for a cold")
    lee_client = second_client(app, lee)

    responded = lee_client.post(f"/posts/{need.id}/respond", data={"message": "I can bring it at noon"})
    [exchange] = all_exchanges(session)
    assert responded.status_code == 302 and responded.location.endswith(f"/exchanges/{exchange.id}")
    assert (exchange.provider_id, exchange.receiver_id, exchange.message) == (lee.id, kim.id, "I can bring it at noon")

    client.login(kim)
    accepted = client.post(f"/posts/{need.id}/responses/{exchange.id}/accept")
    assert accepted.status_code == 302 and accepted.location.endswith(f"/exchanges/{exchange.id}")
    [exchange] = all_exchanges(session)
    assert exchange.status is ExchangeStatus.ACCEPTED
    assert exchange.post.status is PostStatus.MATCHED
    assert "Soup for a cold" not in page(client, "/posts/")


def test_owner_declines_a_response_and_the_post_stays_open(client, session, make_member, make_post):
    kim, lee = make_member(), make_member()
    need = make_post(kim)
    exchange = exchanges.respond(session, lee, need.id)

    client.login(kim)
    response = client.post(f"/posts/{need.id}/responses/{exchange.id}/decline")
    assert response.status_code == 302 and response.location.endswith(f"/posts/{need.id}")
    [exchange] = all_exchanges(session)
    assert exchange.status is ExchangeStatus.DECLINED and exchange.post.status is PostStatus.OPEN


def test_answering_a_response_twice_is_explained_not_repeated(client, session, make_member, make_post):
    kim, lee = make_member(), make_member()
    need = make_post(kim)
    exchange = exchanges.respond(session, lee, need.id)
    client.login(kim)
    client.post(f"/posts/{need.id}/responses/{exchange.id}/decline")

    again = client.post(f"/posts/{need.id}/responses/{exchange.id}/accept", follow_redirects=True)
    assert "This response has already been answered." in again.get_data(as_text=True)
    assert all_exchanges(session)[0].status is ExchangeStatus.DECLINED


def test_only_the_owner_can_accept_a_response(app, session, make_member, make_post):
    kim, lee, park = make_member(), make_member(), make_member()
    need = make_post(kim)
    exchange = exchanges.respond(session, lee, need.id)
    for member in (lee, park):
        response = second_client(app, member).post(f"/posts/{need.id}/responses/{exchange.id}/accept")
        assert response.status_code == 403
    assert all_exchanges(session)[0].status is ExchangeStatus.PROPOSED


def test_response_addressed_through_another_post_is_not_found(client, session, make_member, make_post):
    kim, lee = make_member(), make_member()
    need, other = make_post(kim), make_post(kim, title="Other")
    exchange = exchanges.respond(session, lee, need.id)
    client.login(kim)
    assert client.post(f"/posts/{other.id}/responses/{exchange.id}/accept").status_code == 404
    assert all_exchanges(session)[0].status is ExchangeStatus.PROPOSED


def test_member_who_responded_is_pointed_to_the_exchange_and_cannot_respond_twice(
        client, session, make_member, make_post):
    kim, lee = make_member(), make_member()
    need = make_post(kim)
    exchange = exchanges.respond(session, lee, need.id)
    client.login(lee)

    html = page(client, f"/posts/{need.id}")
    assert "You have already responded to this post." in html
    assert f'href="/exchanges/{exchange.id}"' in html and "I can help" not in html
    again = client.post(f"/posts/{need.id}/respond", data={"message": "Me again"})
    assert again.status_code == 409
    assert len(all_exchanges(session)) == 1


def test_you_cannot_respond_to_your_own_post(client, session, make_member, make_post):
    kim = make_member()
    need = make_post(kim)
    client.login(kim)
    response = client.post(f"/posts/{need.id}/respond", data={"message": "Me"})
    assert response.status_code == 403
    assert "You cannot respond to your own post." in response.get_data(as_text=True)
    assert all_exchanges(session) == []


def test_too_long_response_message_is_shown_again(client, session, make_member, make_post):
    need = make_post(make_member())
    client.login(make_member())
    response = client.post(f"/posts/{need.id}/respond", data={"message": "x" * 1001})
    assert response.status_code == 400
    assert "1000 characters" in response.get_data(as_text=True)
    assert all_exchanges(session) == []


def test_a_closed_post_cannot_be_responded_to(client, session, make_member, make_post):
    kim = make_member()
    need = make_post(kim)
    posts.close_post(session, kim, need.id)
    client.login(make_member())
    assert "This post is no longer open." in page(client, f"/posts/{need.id}")
    response = client.post(f"/posts/{need.id}/respond", data={"message": ""})
    assert response.status_code == 409
    assert all_exchanges(session) == []


# Closing and my posts


def test_owner_closes_a_post_and_pending_responses_are_cancelled(client, session, make_member, make_post):
    kim, lee = make_member(), make_member()
    need = make_post(kim, title="Soup for a cold")
    exchanges.respond(session, lee, need.id)
    client.login(kim)

    response = client.post(f"/posts/{need.id}/close")
    assert response.status_code == 302 and response.location.endswith(f"/posts/{need.id}")
    [exchange] = all_exchanges(session)
    assert exchange.post.status is PostStatus.CLOSED and exchange.status is ExchangeStatus.CANCELLED
    assert "Soup for a cold" not in page(client, "/posts/")


def test_someone_else_cannot_close_a_post(client, session, make_member, make_post):
    need = make_post(make_member())
    client.login(make_member())
    assert client.post(f"/posts/{need.id}/close").status_code == 403
    assert all_posts(session)[0].status is PostStatus.OPEN


def test_closing_without_the_form_token_is_refused(client, session, make_member, make_post):
    kim = make_member()
    need = make_post(kim)
    client.login(kim)
    assert client.post(f"/posts/{need.id}/close", with_csrf=False).status_code == 400
    assert all_posts(session)[0].status is PostStatus.OPEN


def test_my_posts_are_grouped_by_status(client, session, make_member, make_post):
    kim, lee = make_member(), make_member()
    make_post(kim, title="Still open")
    matched = make_post(kim, title="Got a helper")
    exchanges.accept(session, kim, exchanges.respond(session, lee, matched.id).id)
    closed = make_post(kim, title="Already sorted")
    posts.close_post(session, kim, closed.id)
    expired = make_post(kim, title="Long gone")
    expired.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    make_post(lee, title="Not mine")
    client.login(kim)

    html = page(client, "/posts/mine")
    order = [html.index(text) for text in (
        "Open (1)", "Still open", "Matched (1)", "Got a helper",
        "Expired (1)", "Long gone", "Closed (1)", "Already sorted")]
    assert order == sorted(order)
    assert "Not mine" not in html


def test_my_posts_page_says_when_there_are_none(client, make_member, make_post):
    make_post(make_member(), title="Someone else's")
    client.login(make_member())
    html = page(client, "/posts/mine")
    assert "You have not posted anything yet." in html and "Someone else's" not in html
