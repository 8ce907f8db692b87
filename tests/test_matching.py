"""Match scoring and the fit rule: pure functions over plain values, no database."""
from datetime import UTC, datetime, timedelta

import pytest

from carebank.matching import services as matching
from carebank.matching.languages import languages_read, parse
from carebank.matching.services import MIN_FIT, NEUTRAL, WEIGHTS, PostFacts, Reason

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def facts(id=1, kind="offer", **fields) -> PostFacts:
    values = {"category": "meals", "neighbourhood": "Hyoja-dong", "text": "lunch together",
              "created_at": NOW - HOUR, "languages": frozenset({"ko", "en"})}
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
    weak = facts(id=1, neighbourhood="Mapo", text="")
    strong = facts(id=2)
    middle = facts(id=3, neighbourhood="Mapo")
    ranked = matching.rank(NEED, [weak, strong, middle], NOW)
    assert [m.post_id for m in ranked] == [2, 3, 1]
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_rank_puts_the_same_kind_of_care_first_even_when_another_scores_higher():
    same_care_far = facts(id=1, neighbourhood="Mapo", text="")
    other_care_in_the_same_words = facts(id=2, category="errands", created_at=NOW - timedelta(days=20),
                                         minutes_received=60, **window(0, 2))
    need = facts(id=100, kind="need", **window(0, 2))
    ranked = matching.rank(need, [other_care_in_the_same_words, same_care_far], NOW)
    assert ranked[1].score > ranked[0].score and [m.post_id for m in ranked] == [1, 2]


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


# --- the fit rule --------------------------------------------------------------------------


def test_a_hospital_escort_is_never_offered_maths_homework():
    need = facts(id=100, kind="need", category="escort", text="병원에 같이 가 주세요", **window(0, 3))
    homework = facts(category="childcare", text="초등학생 수학 숙제", created_at=NOW - timedelta(days=30),
                     minutes_received=600, **window(0, 3))
    assert matching.score(need, homework, NOW).score > 0.3  # what it was once offered at
    assert matching.fit(need, homework, NOW) is None


def test_the_same_kind_of_care_anywhere_fits_and_barely_anything_else_does():
    far = facts(neighbourhood="Mapo", text="")
    assert matching.fit(NEED, far, NOW).score >= MIN_FIT
    assert matching.fit(NEED, facts(category="repairs", text="shelf drill"), NOW) is None


def test_another_kind_of_care_fits_when_it_asks_for_the_same_in_its_words():
    need = facts(id=100, kind="need", category="errands", text="병원 동행 부탁드려요")
    offer = facts(category="escort", text="병원 동행 해 드려요")
    found = matching.fit(need, offer, NOW)
    assert found is not None and found.reasons[0] == Reason("same_words")


def test_times_that_exclude_each_other_do_not_fit():
    need = facts(id=100, kind="need", **window(0, 2))
    assert matching.fit(need, facts(**window(3, 5)), NOW) is None
    assert matching.fit(need, facts(**window(1, 5)), NOW) is not None
    assert matching.fit(need, facts(), NOW) is not None  # the offer gave no time: ask


def test_an_author_who_shares_no_language_with_the_member_never_fits():
    english_need = facts(id=100, kind="need", text="Lunch together", languages=frozenset({"en"}))
    korean_only = facts(languages=frozenset({"ko"}))
    bilingual = facts(languages=frozenset({"ko", "en"}))
    assert matching.fit(english_need, korean_only, NOW) is None
    assert matching.fit(english_need, bilingual, NOW) is not None


def test_a_post_written_in_korean_is_not_suggested_to_a_member_who_reads_no_korean():
    english_need = facts(id=100, kind="need", text="Lunch together", languages=frozenset({"en"}))
    written_in_korean = facts(text="같이 점심 먹어요", languages=frozenset({"ko", "en"}))
    assert matching.fit(english_need, written_in_korean, NOW) is None
    assert matching.fit(facts(id=100, kind="need"), written_in_korean, NOW) is not None


def test_a_post_in_chinese_letters_is_for_those_who_read_chinese_or_japanese():
    written_in_chinese = facts(text="一起吃午饭", languages=frozenset({"zh", "ko"}))
    assert matching.fit(facts(id=100, kind="need", languages=frozenset({"ko"})), written_in_chinese, NOW) is None
    assert matching.fit(facts(id=100, kind="need", languages=frozenset({"zh"})), written_in_chinese, NOW) is not None


def test_reasons_name_what_fits_strongest_first():
    need = facts(id=100, kind="need", **window(2, 4))
    offer = facts(minutes_given=12 * 60, **window(0, 6))
    assert matching.fit(need, offer, NOW).reasons == (
        Reason("same_care", "meals"), Reason("nearby", "Hyoja-dong"),
        Reason("free_at", NOW + 2 * HOUR), Reason("has_given", 720))


def test_reasons_leave_out_what_does_not_fit():
    found = matching.fit(NEED, facts(neighbourhood="Mapo"), NOW)
    assert found.reasons == (Reason("same_care", "meals"),)
    for_an_offer = matching.fit(facts(id=100, kind="offer"), facts(kind="need", **window(1, 2)), NOW)
    assert Reason("wanted_at", NOW + HOUR) in for_an_offer.reasons


@pytest.mark.parametrize("hour, part", [
    (0, "night"), (4, "night"), (5, "morning"), (11, "morning"), (12, "afternoon"),
    (17, "evening"), (21, "evening"), (22, "night"), (23, "night"),
])
def test_part_of_day(hour, part):
    assert matching.part_of_day(hour) == part


# --- languages ------------------------------------------------------------------------------


@pytest.mark.parametrize("stated, codes", [
    ("ko,en", {"ko", "en"}), ("KO / EN", {"ko", "en"}), ("en-US", {"en"}),
    ("한국어, English", {"ko", "en"}), ("English, 한국어 조금", {"en", "ko"}),
    ("Korean and English", {"ko", "en"}), ("한국말", {"ko"}), ("영어 조금 해요", {"en"}),
    ("Tiếng Việt", {"vi"}), ("中文", {"zh"}), ("fluent Japanese", {"ja"}),
    ("English, a bit of my mum's Korean", {"en", "ko"}),  # "my" is Burmese's code, not here
    ("", set()), ("조금", set()),
])
def test_languages_are_read_from_a_profile_as_members_write_them(stated, codes):
    assert parse(stated) == codes


def test_a_member_who_states_no_language_reads_the_app_language_else_the_banks():
    assert languages_read("", "en", "ko") == {"en"}
    assert languages_read("", None, "ko") == {"ko"}
    assert languages_read("something unknown", None, "ko") == {"ko"}
    assert languages_read("English", "ko", "ko") == {"en", "ko"}  # the app they chose, in Korean


def test_an_english_post_is_hidden_from_a_stated_korean_reader_but_not_from_a_guessed_one():
    written_in_english = facts(text="Lunch together", languages=frozenset({"ko", "en"}))
    stated = facts(id=100, kind="need", text="점심", languages=frozenset({"ko"}))
    guessed = facts(id=100, kind="need", text="점심", languages=frozenset({"ko"}), languages_guessed=True)
    assert matching.fit(stated, written_in_english, NOW) is None  # both named their languages
    assert matching.fit(guessed, written_in_english, NOW) is not None
    assert matching.fit(guessed, facts(text="一起吃午饭", languages=frozenset({"ko", "zh"})), NOW) is None


def test_two_guesses_do_not_hide_a_post_but_its_letters_still_can():
    guessed_english = facts(id=100, kind="need", text="Walk to the clinic", languages=frozenset({"en"}),
                            languages_guessed=True)
    guessed_korean = {"languages": frozenset({"ko"}), "languages_guessed": True}
    assert matching.fit(guessed_english, facts(text="Walks to the clinic", **guessed_korean), NOW) is not None
    assert matching.fit(guessed_english, facts(text="병원 동행", **guessed_korean), NOW) is None
