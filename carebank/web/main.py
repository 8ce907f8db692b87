"""The start page: a welcome for visitors, a dashboard for members."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from carebank.core.extensions import db
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import ExchangeStatus
from carebank.ledger import services as ledger
from carebank.ledger.labels import KIND_WORDS
from carebank.posts import services as posts

bp = Blueprint("main", __name__)

SUGGESTIONS = 3
HOME_EXCHANGES = 10
RECENT_ENTRIES = 5


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        recent = posts.browse(db.session, posts.PostFilter(), limit=5)
        return render_template("main/welcome.html", recent=recent)
    # Agreed exchanges stay agreed for repeat visits: a long-time carer has hundreds.
    mine = exchanges.exchanges_of(db.session, current_user, limit=HOME_EXCHANGES + 1)
    more_exchanges = len(mine) > HOME_EXCHANGES
    mine = mine[:HOME_EXCHANGES]
    waiting = [e for e in mine if e.status is ExchangeStatus.PROPOSED and e.post.member_id == current_user.id]
    active = [e for e in mine if e.status is ExchangeStatus.ACCEPTED]
    my_open = posts.open_posts_of(db.session, current_user)
    # Matches for the newest open post: what the member most likely came back to see.
    suggested = posts.kept_suggestions(db.session, my_open[0], current_user, limit=SUGGESTIONS) if my_open else []
    return render_template(
        "main/home.html", waiting=waiting, active=active, more_exchanges=more_exchanges,
        # Where each listed exchange stands, in one query for the lot (not one per card).
        standings=exchanges.standings(db.session, waiting + active),
        my_open=my_open, suggested=suggested,
        recent=ledger.history(db.session, current_user.id, limit=RECENT_ENTRIES), kind_words=KIND_WORDS,
    )
