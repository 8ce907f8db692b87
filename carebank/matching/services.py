"""How well two posts fit: pure functions over plain values, no database.

A score is a weighted sum of parts, each between 0 and 1, so the total is between 0 and 1.
The weights below are the whole policy; change them here and the tests say what moved.

`fit` is the one rule for whether a post is worth suggesting at all, used by the post's page,
the home page, the API and the weekly digest alike (so "we'll tell you when one appears"
holds): the author shares a language with the member, the times do not exclude each other,
it is the same kind of care (or says much the same in other words), and its score reaches
MIN_FIT. A fitting match carries its reasons as codes and values; the words are the
interface's (carebank/matching/words.py).
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

WEIGHTS = {
    "category": 0.35,  # the same kind of care matters most
    "neighbourhood": 0.20,  # care is local: walking distance
    "time": 0.15,  # the windows overlap
    "text": 0.15,  # the words of the two posts agree
    "reciprocity": 0.10,  # give chances to those who have received more than they gave
    "waiting": 0.05,  # a post that has waited long rises
}
WAITING_FULL_DAYS = 14  # after this many days a post gets the whole waiting share
NEUTRAL = 0.5  # for a part that cannot be judged (no time window given, no history)
# Posts' words, kept per process: a post is scored again and again, as a candidate for many
# posts and on every view, and splitting Korean text into pieces is most of a score's cost.
TOKEN_CACHE_SIZE = 20_000
# Below this a post is not suggested: the same kind of care anywhere, with nothing else known,
# scores 0.475; far away, at a time that barely overlaps, from someone who only gives, 0.35.
MIN_FIT = 0.4
# Another kind of care fits only when the words agree this much (a need filed under
# "errands" for "병원 동행" still meets an escort offer of "병원 동행"): without it, another care
# in the same place at a free time from a newcomer scored 0.34, which is how a hospital
# escort was once offered maths homework.
WORDS_ALONE = 0.3
# The letters each language is written in, where they are not Latin ones.
SCRIPTS = {"ko": "HANGUL", "zh": "CJK", "ja": "CJK", "ru": "CYRILLIC", "uk": "CYRILLIC", "mn": "CYRILLIC",
           "kk": "CYRILLIC", "ky": "CYRILLIC", "th": "THAI", "km": "KHMER", "ne": "DEVANAGARI",
           "hi": "DEVANAGARI", "bn": "BENGALI", "ar": "ARABIC", "ur": "ARABIC", "fa": "ARABIC"}
# A time window is told in words by the part of the day it starts in (local hours).
PARTS_OF_DAY = ((5, "morning"), (12, "afternoon"), (17, "evening"), (22, "night"))

_WORD = re.compile(r"\w+", re.UNICODE)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


@dataclass(frozen=True)
class PostFacts:
    """What scoring needs to know about a post and its author."""

    id: int
    kind: str  # "need" or "offer"
    category: str
    neighbourhood: str
    text: str
    created_at: datetime
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    minutes_given: int = 0  # by the post's author, in confirmed visits
    minutes_received: int = 0
    languages: frozenset[str] = frozenset()  # that the author reads (languages.languages_read)
    languages_guessed: bool = False  # the author's profile names none: taken from the app's


@dataclass(frozen=True)
class Reason:
    """Why a match fits, as data: `code` names the reason, `value` is its fact (a category,
    a neighbourhood, the moment the shared time starts, minutes given)."""

    code: str  # same_care · nearby · same_words · free_at · wanted_at · has_given
    value: object = None


@dataclass(frozen=True)
class Match:
    post_id: int
    score: float
    parts: dict[str, float]
    reasons: tuple[Reason, ...] = ()


def score(target: PostFacts, candidate: PostFacts, now: datetime) -> Match:
    """How well `candidate` answers `target`; both must be of opposite kinds."""
    parts = {
        "category": 1.0 if target.category == candidate.category else 0.0,
        "neighbourhood": neighbourhood_fit(target.neighbourhood, candidate.neighbourhood),
        "time": window_overlap(target, candidate),
        "text": text_similarity(target.text, candidate.text),
        "reciprocity": reciprocity_fit(candidate),
        "waiting": min(max((now - candidate.created_at).days, 0) / WAITING_FULL_DAYS, 1.0),
    }
    total = sum(WEIGHTS[name] * value for name, value in parts.items())
    return Match(candidate.id, round(total, 4), parts)


def fit(target: PostFacts, candidate: PostFacts, now: datetime) -> Match | None:
    """The match if `candidate` is worth suggesting for `target` (see the module's rule), with
    its reasons; None if not."""
    if candidate.kind == target.kind or candidate.id == target.id:
        return None
    if (not readable(target.languages, candidate, guessed=target.languages_guessed)
            or window_overlap(target, candidate) == 0.0):
        return None
    match = score(target, candidate, now)
    if match.parts["category"] < 1.0 and match.parts["text"] < WORDS_ALONE:
        return None
    if match.score < MIN_FIT:
        return None
    return Match(match.post_id, match.score, match.parts, reasons(target, candidate, match.parts))


def readable(reader: frozenset[str], candidate: PostFacts, *, guessed: bool = False) -> bool:
    """The post is for this reader: its author shares a language with them, and it is written
    in letters of a language they read (a bilingual author's Korean post is not for an English
    reader, nor their English one for someone who reads only Korean). Languages a profile does
    not name are only guessed from the app's language, and a guess should hide little: where
    either side's are guessed, only letters the reader cannot read at all (Hangul for an
    English reader) hide a post, not Latin ones, which Korean posts mix in too."""
    known = not guessed and not candidate.languages_guessed
    if known and reader.isdisjoint(candidate.languages):
        return False
    script = script_of(candidate.text)
    if script is None or (script == "LATIN" and not known):
        return True
    return script in {SCRIPTS.get(code, "LATIN") for code in reader}


@functools.lru_cache(maxsize=TOKEN_CACHE_SIZE)
def script_of(text: str) -> str | None:
    """The script most of a text's letters are in (HANGUL, LATIN, CJK, …); None if no letters."""
    counts: dict[str, int] = {}
    for char in text or "":
        if char.isalpha():
            script = _script(char)
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.get) if counts else None


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return "CJK" if name.startswith(("CJK", "HIRAGANA", "KATAKANA")) else name.split(" ")[0]


def rank(target: PostFacts, candidates: list[PostFacts], now: datetime) -> list[Match]:
    """The candidates that fit, the same kind of care first, then best first; ties go to the
    older post."""
    matches = [m for m in (fit(target, c, now) for c in candidates) if m is not None]
    created = {c.id: c.created_at for c in candidates}
    return sorted(matches, key=lambda m: (-m.parts["category"], -m.score, created[m.post_id], m.post_id))


def reasons(target: PostFacts, candidate: PostFacts, parts: dict[str, float]) -> tuple[Reason, ...]:
    """What a person would say fits, strongest first."""
    found = []
    if parts["category"] == 1.0:
        found.append(Reason("same_care", candidate.category))
    elif parts["text"] >= WORDS_ALONE:
        found.append(Reason("same_words"))
    if parts["neighbourhood"] == 1.0:
        found.append(Reason("nearby", candidate.neighbourhood))
    shared_start = _shared_start(target, candidate)
    if shared_start is not None:
        found.append(Reason("free_at" if candidate.kind == "offer" else "wanted_at", shared_start))
    if candidate.minutes_given > 0:
        found.append(Reason("has_given", candidate.minutes_given))
    return tuple(found)


def _shared_start(target: PostFacts, candidate: PostFacts) -> datetime | None:
    """When the time both can give begins: the candidate's start, or the later of both."""
    if candidate.starts_at is None:
        return None
    return max(candidate.starts_at, target.starts_at or candidate.starts_at)


def part_of_day(hour: int) -> str:
    """morning · afternoon · evening · night, for a local hour."""
    found = PARTS_OF_DAY[-1][1]  # before the first start it is still night
    for start, name in PARTS_OF_DAY:
        if hour >= start:
            found = name
    return found


def neighbourhood_fit(a: str, b: str) -> float:
    a, b = _normalise_place(a), _normalise_place(b)
    if not a or not b:
        return NEUTRAL / 2
    return 1.0 if a == b else 0.0


@functools.lru_cache(maxsize=4096)  # a town has a few hundred places; each ranking asks hundreds of times
def _normalise_place(place: str) -> str:
    return re.sub(r"\s+", "", (place or "").lower())


def window_overlap(a: PostFacts, b: PostFacts) -> float:
    """The share of the shorter window that the other window covers; neutral if open-ended."""
    if None in (a.starts_at, a.ends_at, b.starts_at, b.ends_at):
        return NEUTRAL
    overlap = (min(a.ends_at, b.ends_at) - max(a.starts_at, b.starts_at)).total_seconds()
    shorter = min((a.ends_at - a.starts_at).total_seconds(), (b.ends_at - b.starts_at).total_seconds())
    if overlap <= 0 or shorter <= 0:
        return 0.0
    return min(overlap / shorter, 1.0)


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of word tokens (Korean words also as syllable pairs)."""
    tokens_a, tokens_b = tokens(a), tokens(b)
    if not tokens_a or not tokens_b:
        return 0.0
    return len(tokens_a & tokens_b) / len(tokens_a | tokens_b)


@functools.lru_cache(maxsize=TOKEN_CACHE_SIZE)
def tokens(text: str) -> frozenset[str]:
    """Lower-cased words; Korean words also give their two-syllable pieces, because Korean
    attaches particles to words (병원에 / 병원까지 share 병원)."""
    found = set()
    for word in _WORD.findall((text or "").lower()):
        if _HANGUL.search(word) and len(word) > 2:
            found.update(word[i : i + 2] for i in range(len(word) - 1))
        elif len(word) > 1 or _HANGUL.search(word):
            found.add(word)
    return frozenset(found)


def reciprocity_fit(candidate: PostFacts) -> float:
    """Favour offers from those who received more than they gave, and needs from those
    who gave more than they received: everyone should both give and receive."""
    given, received = candidate.minutes_given, candidate.minutes_received
    if given + received == 0:
        return NEUTRAL
    balance = (received - given) / (received + given)  # +1 only received, −1 only gave
    if candidate.kind == "offer":
        return (1 + balance) / 2
    return (1 - balance) / 2
