"""Issue 13's matching quality: in a labelled town, are the suggestions the right ones?

    .venv/bin/python bench/matching_quality.py [--neighbourhoods 6] [--seed 13]
                                               [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

A town built so that each need's right offers are known by construction: one need for each
kind of care in each neighbourhood, by members who read Korean ("한국어", "한국말", "ko",
"Korean") or only English, half with a time window (Tuesday morning). For each
need: three right offers (the same care and neighbourhood, written in a language the asker
reads by an author who shares one, at a time that suits) and distractors — the same care
in another language (by an author who reads only that one, and by a bilingual author writing
Korean to an English reader), another kind of care nearby in the same language and with the
same everyday words ("도와주실 분"), the same care at a time that excludes the need's, and the
same care in a far neighbourhood. Profiles spell languages as members do ("English, 한국어
조금", "ko,en", blank). Whether an offer is right for a need is decided by the construction's
labels, never by matching's own rule: the same care, the same neighbourhood, written in a
language the asker reads, an author sharing a language, and windows that do not exclude
each other.

Every need's owner then asks the real suggestion service (posts.suggestions, as the post's
page does) on a real database: a fresh migrated SQLite file, or with --database-url a
throwaway PostgreSQL database created beside the one named (dropped afterwards). Prints
precision@3 (right offers among the first three suggestions, over needs with a suggestion;
target ≥ 0.9), needs left with no suggestion although right offers exist (target 0) and
suggestions in a language the asker does not read (target 0). Exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carebank import create_app  # noqa: E402
from carebank.centres.services import save_centre  # noqa: E402
from carebank.core import passwords  # noqa: E402
from carebank.core.database import upgrade_database  # noqa: E402
from carebank.core.extensions import db  # noqa: E402
from carebank.core.policy import Policy  # noqa: E402
from carebank.members.services import create_member  # noqa: E402
from carebank.posts import services as posts  # noqa: E402

TARGET_PRECISION_AT_3 = 0.9
TARGET_WRONG_LANGUAGE = 0
TARGET_LEFT_WITHOUT = 0
NEIGHBOURHOODS = ("효자동", "삼청동", "부암동", "청운동", "사직동", "평창동", "가회동", "혜화동")
NOW = datetime(2027, 1, 4, 3, 0, tzinfo=UTC)  # a Monday noon in Seoul
TUESDAY_MORNING = (datetime(2027, 1, 5, 0, 0, tzinfo=UTC), datetime(2027, 1, 5, 3, 0, tzinfo=UTC))
TUESDAY_LATE_MORNING = (datetime(2027, 1, 5, 1, 0, tzinfo=UTC), datetime(2027, 1, 5, 5, 0, tzinfo=UTC))
THURSDAY_EVENING = (datetime(2027, 1, 7, 9, 0, tzinfo=UTC), datetime(2027, 1, 7, 11, 0, tzinfo=UTC))

# What each kind of care is called when needed and offered, in Korean and English.
CARE_WORDS = {
    "companionship": ("말벗", "a chat over tea"), "meals": ("반찬 만들기", "cooking a meal"),
    "errands": ("시장 장보기", "grocery shopping"), "escort": ("병원 동행", "a walk to the clinic"),
    "housework": ("집안 청소", "cleaning the flat"), "repairs": ("전등 고치기", "fixing a lamp"),
    "gardening": ("텃밭 가꾸기", "weeding the garden"), "childcare": ("아이 돌봄", "minding a child"),
    "tech_help": ("스마트폰 사용법", "using a smartphone"), "learning": ("수학 숙제", "maths homework"),
    "paperwork": ("서류 작성", "filling in forms"),
}
# Everyday words every post of a language shares, whatever the care: what fools word matching.
NEED_TEXT = {"ko": "{care} 도와주실 분 찾아요", "en": "Looking for help with {care}"}
OFFER_TEXT = {"ko": "{care} 도와드릴 수 있어요", "en": "I can help with {care}"}
# (what the member reads, their profile's words, their app language): members write it as they like.
KOREAN_READERS = (({"ko"}, "한국어", "ko"), ({"ko"}, "ko", None), ({"ko"}, "한국말", None), ({"ko"}, "Korean", None))
ENGLISH_READERS = (({"en"}, "English", "en"), ({"en"}, "en", "en"))
BILINGUAL = (({"ko", "en"}, "한국어, English", "ko"), ({"ko", "en"}, "English, 한국어 조금", "en"),
             ({"ko", "en"}, "ko,en", None))


@dataclass(frozen=True)
class Label:
    """What the construction knows of a post: the truth its rightness is judged by."""

    kind: str
    category: str
    neighbourhood: str
    written_in: str  # the language of its words
    author_reads: frozenset[str]
    window: tuple[datetime, datetime] | None


@dataclass
class Town:
    labels: dict[int, Label]  # post id → label
    askers: list[tuple[int, frozenset[str]]]  # (need id, languages its owner reads)


def right(need: Label, asker_reads: frozenset[str], offer: Label) -> bool:
    return (offer.kind != need.kind and offer.category == need.category
            and offer.neighbourhood == need.neighbourhood and offer.written_in in asker_reads
            and not asker_reads.isdisjoint(offer.author_reads) and _windows_agree(need.window, offer.window))


def readable(asker_reads: frozenset[str], offer: Label) -> bool:
    return offer.written_in in asker_reads and not asker_reads.isdisjoint(offer.author_reads)


def _windows_agree(a, b) -> bool:
    return a is None or b is None or (a[0] < b[1] and b[0] < a[1])


class Builder:
    """Members and posts made through the real services."""

    def __init__(self, session, policy: Policy, neighbourhoods: tuple[str, ...], seed: int):
        self.session, self.policy, self.random = session, policy, random.Random(seed)
        self.count = 0
        self.town = Town({}, [])
        save_centre(session, None, name=f"Quality centre {uuid.uuid4().hex[:6]}",
                    neighbourhoods="\n".join(neighbourhoods))

    def post(self, kind, category, neighbourhood, language, reader, window=None) -> int:
        reads, stated, locale = reader
        self.count += 1
        member = create_member(self.session, name=f"Q{self.count}", email=f"q{self.count}.{uuid.uuid4().hex[:6]}@example.org",
                               password="quality-bench-1", neighbourhood=neighbourhood, languages=stated,
                               locale=locale)
        care = CARE_WORDS[category][0 if language == "ko" else 1]
        title = (NEED_TEXT if kind == "need" else OFFER_TEXT)[language].format(care=care)
        created = NOW - timedelta(hours=self.random.randint(1, 10 * 24))
        post = posts.create_post(self.session, member, kind=kind, category=category, title=title, minutes=60,
                                 starts_at=window[0] if window else None, ends_at=window[1] if window else None,
                                 policy=self.policy, now=created)
        self.town.labels[post.id] = Label(kind, category, neighbourhood, language, frozenset(reads), window)
        return post.id


def build_town(session, policy: Policy, neighbourhoods: tuple[str, ...], seed: int = 13) -> Town:
    """One need per kind of care and neighbourhood, each with its right offers and distractors."""
    builder = Builder(session, policy, neighbourhoods, seed)
    choose = builder.random.choice
    for n, neighbourhood in enumerate(neighbourhoods):
        far = neighbourhoods[(n + 1) % len(neighbourhoods)]
        for c, category in enumerate(CARE_WORDS):
            english = (n + c) % 3 == 0
            language, other = ("en", "ko") if english else ("ko", "en")
            asker = choose(ENGLISH_READERS if english else KOREAN_READERS)
            window = TUESDAY_MORNING if (n + c) % 2 else None
            need = builder.post("need", category, neighbourhood, language, asker, window)
            builder.town.askers.append((need, frozenset(asker[0])))
            others = [k for k in CARE_WORDS if k != category]
            for suits in (None, TUESDAY_LATE_MORNING, None):  # three right offers
                author = choose((ENGLISH_READERS if english else KOREAN_READERS) + BILINGUAL)
                builder.post("offer", category, neighbourhood, language, author, suits)
            other_readers = KOREAN_READERS if english else ENGLISH_READERS
            builder.post("offer", category, neighbourhood, other, choose(other_readers), window)
            builder.post("offer", category, neighbourhood, other, choose(other_readers))
            if english:  # a bilingual author writing Korean: shares English, but cannot be read
                builder.post("offer", category, neighbourhood, "ko", choose(BILINGUAL), window)
            for another in builder.random.sample(others, 2):  # other care, same place and words
                builder.post("offer", another, neighbourhood, language, choose(BILINGUAL), window)
            if window:
                builder.post("offer", category, neighbourhood, language, choose(BILINGUAL), THURSDAY_EVENING)
            builder.post("offer", category, far, language, choose(BILINGUAL))
    session.flush()
    return builder.town


@dataclass(frozen=True)
class Quality:
    askers: int
    precision_at_3: float
    left_without: int
    wrong_language: int
    suggestions: int


def measure(session, town: Town) -> Quality:
    """Each need's owner asks for suggestions, as on the post's page."""
    from carebank.posts.models import Post

    precisions, left_without, wrong_language, shown = [], 0, 0, 0
    for need_id, reads in town.askers:
        need = session.get(Post, need_id)
        found = posts.suggestions(session, need, need.member, now=NOW)
        labels = [town.labels[s.post.id] for s in found]
        shown += len(found)
        wrong_language += sum(1 for label in labels if not readable(reads, label))
        if not found:
            has_right = any(right(town.labels[need_id], reads, label) for label in town.labels.values())
            left_without += int(has_right)
            continue
        top = labels[:3]
        precisions.append(sum(right(town.labels[need_id], reads, label) for label in top) / len(top))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    return Quality(len(town.askers), precision, left_without, wrong_language, shown)


def met(quality: Quality) -> bool:
    return (quality.precision_at_3 >= TARGET_PRECISION_AT_3 and quality.wrong_language <= TARGET_WRONG_LANGUAGE
            and quality.left_without <= TARGET_LEFT_WITHOUT)


def table(database: str, posts_made: int, quality: Quality) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rows = [
        ("precision@3", f"{quality.precision_at_3:.3f}", f"≥ {TARGET_PRECISION_AT_3}",
         verdict(quality.precision_at_3 >= TARGET_PRECISION_AT_3)),
        ("suggestions in a language the asker does not read", str(quality.wrong_language),
         str(TARGET_WRONG_LANGUAGE), verdict(quality.wrong_language <= TARGET_WRONG_LANGUAGE)),
        ("needs left with no suggestion though right offers exist", str(quality.left_without),
         str(TARGET_LEFT_WITHOUT), verdict(quality.left_without <= TARGET_LEFT_WITHOUT)),
    ]
    lines = [f"{database}: {quality.askers} needs, {posts_made} posts, {quality.suggestions} suggestions shown",
             "", "| figure | value | target | |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {target} | {ok} |" for name, value, target, ok in rows]
    return "\n".join(lines)


def run(database_url: str, neighbourhoods: int, seed: int) -> tuple[int, Quality]:
    app = create_app(DATABASE_URL=database_url, AUTO_MIGRATE=False)
    upgrade_database(app)
    with app.app_context():
        session = db.session
        town = build_town(session, Policy.from_config(app.config), NEIGHBOURHOODS[:neighbourhoods], seed)
        session.commit()
        quality = measure(session, town)
        db.engine.dispose()
    return len(town.labels), quality


def throwaway_postgres(url: str):
    """A fresh database beside the named one, as the tests make theirs."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"carebank_quality_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return admin, name, sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server's database; a throwaway one is made beside it")
    parser.add_argument("--neighbourhoods", type=int, default=6, choices=range(2, len(NEIGHBOURHOODS) + 1))
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    passwords.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # setup, not measured
    if args.database_url:
        admin, name, url = throwaway_postgres(args.database_url)
        try:
            posts_made, quality = run(url, args.neighbourhoods, args.seed)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/quality.sqlite3"
            posts_made, quality = run(url, args.neighbourhoods, args.seed)
    print(table(url.split(":")[0], posts_made, quality))
    return 0 if met(quality) else 1


if __name__ == "__main__":
    raise SystemExit(main())
