"""How well two posts fit: a pure scoring function over plain values, no database.

A score is a weighted sum of parts, each between 0 and 1, so the total is between 0 and 1.
The weights below are the whole policy; change them here and the tests say what moved.
"""
from __future__ import annotations

import functools
import re
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


@dataclass(frozen=True)
class Match:
    post_id: int
    score: float
    parts: dict[str, float]


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


def rank(target: PostFacts, candidates: list[PostFacts], now: datetime) -> list[Match]:
    """Candidates of the opposite kind, best first; ties go to the older post."""
    eligible = [c for c in candidates if c.kind != target.kind and c.id != target.id]
    matches = [score(target, c, now) for c in eligible]
    created = {c.id: c.created_at for c in eligible}
    return sorted(matches, key=lambda m: (-m.score, created[m.post_id], m.post_id))


def neighbourhood_fit(a: str, b: str) -> float:
    a, b = _normalise_place(a), _normalise_place(b)
    if not a or not b:
        return NEUTRAL / 2
    return 1.0 if a == b else 0.0


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
