"""The member's home page: balance, suggestions for their newest open post, recent activity."""
from conftest import logged_in, statements_sent

from carebank.core.extensions import db
from carebank.ledger import services as ledger
from carebank.posts import services as posts


def test_home_suggests_offers_for_the_newest_open_need(app, make_member, make_post):
    kim = make_member("Kim Young-ja", neighbourhood="Hyoja-dong")
    make_post(kim, kind="need", category="repairs", title="Fix a tap")
    make_post(kim, kind="need", category="meals", title="Soup please")
    make_post(make_member("Minsu", neighbourhood="Hyoja-dong"), kind="offer", category="meals",
              title="I cook soup on Sundays")
    make_post(make_member("Far away"), kind="need", category="meals", title="Another need")

    page = logged_in(app, kim).get("/").get_data(as_text=True)

    assert "Suggested for “Soup please”" in page
    suggestions = page.split("Suggested for")[1].split("My open posts")[0]
    assert "I cook soup on Sundays" in suggestions and "Minsu" in suggestions
    assert "Another need" not in suggestions  # a need does not answer a need


def test_home_without_open_posts_suggests_nothing(app, make_member):
    page = logged_in(app, make_member()).get("/").get_data(as_text=True)
    assert "Suggested for" not in page and "You have no open posts." in page


def test_home_lists_the_five_newest_entries_with_who_and_how_much(app, session, policy, make_member, earn):
    alice, bora = make_member("Alice"), make_member("Bora")
    earn(alice, 210)
    for minutes in (10, 20, 30, 40, 50, 60):
        ledger.gift(session, alice, bora.id, minutes, "", policy)
    session.commit()

    page = logged_in(app, alice).get("/").get_data(as_text=True)
    recent = page.split("Recent activity")[1].split("</ul>")[0]

    assert recent.count("<li>") == 5
    assert "Bora" in recent and "−1 h" in recent and "−10 min" not in recent  # the oldest is left out


def test_home_costs_the_same_few_queries_however_many_suggestions(app, make_member, make_post):
    kim = make_member("Kim", neighbourhood="Hyoja-dong")
    make_post(kim, kind="need", category="meals", title="Soup please")
    client = logged_in(app, kim)

    def queries_for_home() -> int:
        with app.app_context(), statements_sent(db.engine) as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    make_post(make_member("Helper 1"), kind="offer", category="meals")
    few = queries_for_home()
    for n in range(2, 8):
        make_post(make_member(f"Helper {n}"), kind="offer", category="meals")
    assert queries_for_home() == few


def test_home_shows_the_ten_newest_agreed_exchanges_and_links_to_the_rest(app, make_member, make_exchange):
    carer = make_member("Carer")
    for n in range(12):
        make_exchange(carer, make_member(f"Neighbour {n:02d}"))

    page = logged_in(app, carer).get("/").get_data(as_text=True)

    assert "Neighbour 11" in page and "Neighbour 02" in page and "Neighbour 01" not in page
    assert 'href="/exchanges/">All my exchanges' in page


def test_home_lists_only_open_posts_newest_first(app, session, make_member, make_post):
    kim = make_member("Kim")
    make_post(kim, title="Older need")
    closed = make_post(kim, title="Closed need")
    posts.close_post(session, kim, closed.id)
    session.commit()
    make_post(kim, title="Newest need")

    page = logged_in(app, kim).get("/").get_data(as_text=True)
    mine = page.split("My open posts")[1]

    assert "Closed need" not in mine
    assert mine.index("Newest need") < mine.index("Older need")
