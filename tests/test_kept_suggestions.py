"""Suggestions are ranked once and kept (issue 17): a member coming back to their home page or
post sees them without the ranking being done again, yet a neighbour's new post shows at once,
a suggestion that closed is gone at once, and other changes show within the kept time."""
from datetime import UTC, datetime, timedelta

import time_machine
from conftest import logged_in, statements_sent

from carebank.core.extensions import db
from carebank.members import services as members
from carebank.posts import services as posts

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def suggested_on_home(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split("Suggested for")[1].split("My open posts")[0]


def test_coming_back_to_home_does_not_rank_the_matches_again(app, make_member, make_post):
    kim = make_member("Kim", neighbourhood="Hyoja-dong")
    make_post(kim, kind="need", category="meals", title="Soup please")
    for n in range(5):
        make_post(make_member(f"Helper {n}", neighbourhood="Hyoja-dong"), kind="offer", category="meals")
    client = logged_in(app, kim)

    def statements_for_home() -> list[str]:
        with app.app_context(), statements_sent(db.engine) as statements:
            assert client.get("/").status_code == 200
        return statements

    first, again = statements_for_home(), statements_for_home()

    assert len(again) < len(first)
    # The ranking reads the open posts of the other kind from four sources; coming back reads
    # only the few it shows.
    assert sum("JOIN members" in s and "posts.kind" in s for s in first) == 4
    assert not any("JOIN members" in s and "posts.kind" in s for s in again)


def test_a_neighbours_new_offer_is_suggested_at_once(app, make_member, make_post):
    kim = make_member("Kim", neighbourhood="Hyoja-dong")
    make_post(kim, kind="need", category="meals", title="Soup please")
    make_post(make_member("Far", neighbourhood="Mapo"), kind="offer", category="repairs", title="Fix things")
    client = logged_in(app, kim)
    assert "I cook soup" not in suggested_on_home(client)

    make_post(make_member("Minsu", neighbourhood="Hyoja-dong"), kind="offer", category="meals",
              title="I cook soup on Sundays")

    assert "I cook soup on Sundays" in suggested_on_home(client)


def test_a_suggested_offer_that_closes_is_gone_at_once(app, session, make_member, make_post):
    kim = make_member("Kim", neighbourhood="Hyoja-dong")
    make_post(kim, kind="need", category="meals", title="Soup please")
    minsu = make_member("Minsu", neighbourhood="Hyoja-dong")
    soup = make_post(minsu, kind="offer", category="meals", title="I cook soup on Sundays")
    make_post(make_member("Bora", neighbourhood="Hyoja-dong"), kind="offer", category="meals",
              title="Kimchi stew for two")
    client = logged_in(app, kim)
    assert "I cook soup on Sundays" in suggested_on_home(client)

    posts.close_post(session, minsu, soup.id)
    session.commit()

    shown = suggested_on_home(client)
    assert "I cook soup on Sundays" not in shown and "Kimchi stew for two" in shown


def test_a_neighbours_changed_languages_show_within_the_kept_time(app, session, make_member, make_post):
    with time_machine.travel(START, tick=False) as traveller:
        sarah = make_member("Sarah", languages="English", locale="en", neighbourhood="Hyoja-dong")
        make_post(sarah, kind="need", category="meals", title="Lunch please")
        min_ = make_member("Min", languages="English, 한국어", neighbourhood="Hyoja-dong")
        make_post(min_, kind="offer", category="meals", title="Lunch together")
        client = logged_in(app, sarah)
        assert "Lunch together" in suggested_on_home(client)

        members.update_profile(session, min_, languages="한국어")
        session.commit()
        traveller.shift(timedelta(seconds=app.config["SUGGESTIONS_KEPT_SECONDS"]))

        assert "Lunch together" not in suggested_on_home(client)  # Sarah cannot read it now


def test_a_changed_post_is_ranked_afresh(app, session, make_member, make_post):
    kim = make_member("Kim", neighbourhood="Hyoja-dong")
    make_post(make_member("Minsu", neighbourhood="Hyoja-dong"), kind="offer", category="meals",
              title="I cook soup on Sundays")
    make_post(make_member("Bora", neighbourhood="Hyoja-dong"), kind="offer", category="repairs",
              title="I fix taps")
    need = make_post(kim, kind="need", category="meals", title="Soup please")
    client = logged_in(app, kim)
    assert "I cook soup on Sundays" in suggested_on_home(client)

    # No page edits a post, but a coordinator's correction in the database is seen at once.
    need.category, need.title = "repairs", "A dripping tap"
    session.commit()

    assert "I fix taps" in suggested_on_home(client)


def test_no_kept_time_ranks_on_every_view(app, make_member, make_post):
    app.config["SUGGESTIONS_KEPT_SECONDS"] = 0
    kim = make_member("Kim", neighbourhood="Hyoja-dong")
    make_post(kim, kind="need", category="meals", title="Soup please")
    make_post(make_member("Minsu", neighbourhood="Hyoja-dong"), kind="offer", category="meals")
    client = logged_in(app, kim)

    def rankings() -> int:
        with app.app_context(), statements_sent(db.engine) as statements:
            client.get("/")
        return sum("JOIN members" in s and "posts.kind" in s for s in statements)

    assert rankings() == rankings() == 4
