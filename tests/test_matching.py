"""Match scoring: pure functions over plain values, no database."""
from datetime import UTC, datetime, timedelta

import pytest

from carebank.matching import services as matching
from carebank.matching.services import NEUTRAL, WEIGHTS, PostFacts

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def facts(id=1, kind="offer", **fields) -> PostFacts:
    values = {"category": "meals", "neighbourhood": "Hyoja-dong", "text": "lunch together",
              "created_at": NOW - HOUR}
    return PostFacts(id=id, kind=kind, **{**values, **fields})


def window(start_hour: int, end_hour: int) -> dict:
    return {"starts_at": NOW + start_hour * HOUR, "ends_at": NOW + end_hour * HOUR}


NEED = facts(id=100, kind="need")


def part(name: str, candidate: PostFacts, target: PostFacts = NEED) -> float:
    return matching.score(target, candidate, NOW).parts[name]


# --- the policy as a whole ---------------------------------------------------------------


def test_weights_sum_to_one():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_every_part_has_a_weight():
    assert set(matching.score(NEED, facts(), NOW).parts) == set(WEIGHTS)


def test_perfect_candidate_scores_one():
    need = facts(id=100, kind="need", **window(0, 2))
    perfect = facts(created_at=NOW - timedelta(days=20), minutes_received=60, **window(0, 2))
    assert matching.score(need, perfect, NOW).score == pytest.approx(1.0)


def test_hopeless_candidate_scores_zero():
    need = facts(id=100, kind="need", **window(0, 2))
    hopeless = facts(category="repairs", neighbourhood="Mapo", text="shelf drill", created_at=NOW,
                     minutes_given=60, **window(5, 6))
    assert matching.score(need, hopeless, NOW).score == 0.0


def test_score_is_the_weighted_sum_of_its_parts():
    match = matching.score(NEED, facts(category="repairs", text="lunch soup"), NOW)
    assert match.score == pytest.approx(sum(WEIGHTS[n] * v for n, v in match.parts.items()), abs=1e-4)
    assert all(0.0 <= v <= 1.0 for v in match.parts.values())


# --- each part ---------------------------------------------------------------------------


def test_same_category_counts_fully_and_another_not_at_all():
    assert part("category", facts(category="meals")) == 1.0
    assert part("category", facts(category="repairs")) == 0.0


@pytest.mark.parametrize("place, expected", [
    ("Hyoja-dong", 1.0), ("  hyoja-DONG ", 1.0), ("Mapo", 0.0), ("", NEUTRAL / 2),
])
def test_neighbourhood_fit(place, expected):
    assert part("neighbourhood", facts(neighbourhood=place)) == expected


def test_neighbourhood_fit_ignores_spaces_inside_the_name():
    assert matching.neighbourhood_fit("Hyoja Dong", "hyojadong") == 1.0


@pytest.mark.parametrize("need_window, offer_window, expected", [
    ((0, 2), (0, 2), 1.0),  # the same window
    ((0, 4), (1, 2), 1.0),  # the offer lies inside the need
    ((0, 2), (1, 3), 0.5),  # half of the two hours overlap
    ((0, 2), (2, 4), 0.0),  # one ends as the other starts
    ((0, 2), (5, 6), 0.0),  # far apart
])
def test_window_overlap(need_window, offer_window, expected):
    need = facts(id=100, kind="need", **window(*need_window))
    assert part("time", facts(**window(*offer_window)), need) == pytest.approx(expected)


def test_window_overlap_is_neutral_when_a_window_is_open_ended():
    half_open = {"starts_at": NOW, "ends_at": None}
    assert part("time", facts(**window(0, 2))) == NEUTRAL
    assert part("time", facts(**half_open), facts(id=100, kind="need", **window(0, 2))) == NEUTRAL


def test_identical_text_is_fully_similar_and_unrelated_text_not_at_all():
    assert matching.text_similarity("Lunch together", "lunch TOGETHER") == 1.0
    assert matching.text_similarity("Lunch together", "fix a shelf") == 0.0
    assert matching.text_similarity("", "lunch") == 0.0


def test_text_similarity_is_partial_for_some_shared_words():
    assert matching.text_similarity("warm lunch together", "lunch delivery") == pytest.approx(1 / 4)


def test_korean_words_match_despite_different_particles():
    similar = matching.text_similarity("병원에 같이 가요", "병원까지 동행")
    unrelated = matching.text_similarity("병원에 같이 가요", "김치 담그기")
    assert similar > 0.0 and unrelated == 0.0


def test_tokens_drop_single_latin_letters_but_keep_korean_syllables():
    assert matching.tokens("I need a hand") == {"need", "hand"}
    assert "밥" in matching.tokens("밥 같이")


@pytest.mark.parametrize("given, received, offer_fit, need_fit", [
    (0, 0, NEUTRAL, NEUTRAL),  # no history: neither favoured nor held back
    (0, 120, 1.0, 0.0),  # only received: their offer is welcome, their need less so
    (120, 0, 0.0, 1.0),  # only gave: their need comes first
    (60, 60, 0.5, 0.5),
    (30, 90, 0.75, 0.25),
])
def test_reciprocity_favours_those_who_would_even_out(given, received, offer_fit, need_fit):
    history = {"minutes_given": given, "minutes_received": received}
    assert matching.reciprocity_fit(facts(kind="offer", **history)) == pytest.approx(offer_fit)
    assert matching.reciprocity_fit(facts(kind="need", **history)) == pytest.approx(need_fit)


@pytest.mark.parametrize("age, expected", [
    (timedelta(0), 0.0), (timedelta(days=7), 0.5), (timedelta(days=14), 1.0),
    (timedelta(days=60), 1.0), (-timedelta(days=3), 0.0),
])
def test_waiting_grows_with_age_up_to_two_weeks(age, expected):
    assert part("waiting", facts(created_at=NOW - age)) == pytest.approx(expected)


# --- ranking -----------------------------------------------------------------------------


def test_rank_puts_the_best_first():
    weak = facts(id=1, category="repairs", neighbourhood="Mapo")
    strong = facts(id=2)
    middle = facts(id=3, neighbourhood="Mapo")
    ranked = matching.rank(NEED, [weak, strong, middle], NOW)
    assert [m.post_id for m in ranked] == [2, 3, 1]
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_rank_leaves_out_posts_of_the_same_kind_and_the_target_itself():
    other_need = facts(id=2, kind="need")
    ranked = matching.rank(NEED, [other_need, NEED, facts(id=3)], NOW)
    assert [m.post_id for m in ranked] == [3]


def test_rank_prefers_the_older_post_on_a_tie():
    newer = facts(id=1, created_at=NOW - HOUR)
    older = facts(id=2, created_at=NOW - 3 * HOUR)  # same day, so the waiting part is equal
    ranked = matching.rank(NEED, [newer, older], NOW)
    assert ranked[0].score == ranked[1].score
    assert [m.post_id for m in ranked] == [2, 1]


def test_rank_of_no_candidates_is_empty():
    assert matching.rank(NEED, [], NOW) == []
