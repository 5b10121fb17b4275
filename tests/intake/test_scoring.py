"""Totals, bands, section scores and flags of ``clinic.intake.scoring``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.intake.questionnaire import SECTIONS, clean_answer, question
from clinic.intake.scoring import (
    GAD7_BANDS,
    PHQ9_BANDS,
    Flag,
    Scores,
    band,
    is_crisis,
    score,
)

PHQ9_IDS = [f"phq9_{n}" for n in range(1, 10)]
GAD7_IDS = [f"gad7_{n}" for n in range(1, 8)]
UCLA_IDS = ["ucla_1", "ucla_2", "ucla_3"]
LEVEL_ORDER = {"red": 0, "amber": 1, "info": 2}


def items_summing_to(total: int, count: int, top: int = 3) -> list[int]:
    """``count`` item scores of at most ``top`` adding up to ``total``."""
    assert 0 <= total <= count * top
    scores = []
    for _ in range(count):
        scores.append(min(top, total))
        total -= scores[-1]
    return scores


def phq9(total: int) -> dict[str, str]:
    return {qid: str(s) for qid, s in zip(PHQ9_IDS, items_summing_to(total, 9), strict=True)}


def gad7(total: int) -> dict[str, str]:
    return {qid: str(s) for qid, s in zip(GAD7_IDS, items_summing_to(total, 7), strict=True)}


def codes(answers) -> list[str]:
    return [f.code for f in score(answers).flags]


def flag(answers, code: str) -> Flag | None:
    found = [f for f in score(answers).flags if f.code == code]
    assert len(found) <= 1
    return found[0] if found else None


# --- Totals and bands --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands_at_every_boundary(total, expected):
    result = score(phq9(total))
    assert result.phq9 == total
    assert result.phq9_band == expected
    assert band(total, PHQ9_BANDS) == expected


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands_at_every_boundary(total, expected):
    result = score(gad7(total))
    assert result.gad7 == total
    assert result.gad7_band == expected
    assert band(total, GAD7_BANDS) == expected


def test_published_cut_points():
    assert PHQ9_BANDS == (
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    )
    assert GAD7_BANDS == (
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 21, "severe"),
    )


@pytest.mark.parametrize("total", [-1, 28])
def test_band_outside_the_scale(total):
    with pytest.raises(ValueError):
        band(total, PHQ9_BANDS)


@pytest.mark.parametrize("missing", PHQ9_IDS)
def test_phq9_total_none_when_an_item_is_missing(missing):
    answers = {qid: "3" for qid in PHQ9_IDS if qid != missing}
    result = score(answers)
    assert result.phq9 is None and result.phq9_band is None


@pytest.mark.parametrize("missing", GAD7_IDS)
def test_gad7_total_none_when_an_item_is_missing(missing):
    answers = {qid: "3" for qid in GAD7_IDS}
    answers[missing] = None  # stored as unanswered
    result = score(answers)
    assert result.gad7 is None and result.gad7_band is None


def test_nothing_answered():
    result = score({})
    assert result == Scores(
        phq9=None,
        phq9_band=None,
        phq9_item9=None,
        gad7=None,
        gad7_band=None,
        ucla3=None,
        sections={},
        flags=(),
    )
    assert not result.urgent


def test_phq9_item9_reported_on_its_own():
    assert score({"phq9_9": "2"}).phq9_item9 == 2
    assert score({"phq9_9": "0"}).phq9_item9 == 0
    assert score({"phq9_1": "3"}).phq9_item9 is None


def test_scale_answers_may_arrive_as_ints():
    answers = {qid: 1 for qid in PHQ9_IDS}
    assert score(answers).phq9 == 9


@pytest.mark.parametrize(
    ("items", "total"),
    [(("1", "1", "1"), 3), (("1", "2", "3"), 6), (("2", "2", "1"), 5), (("3", "3", "3"), 9)],
)
def test_ucla3_totals(items, total):
    assert score(dict(zip(UCLA_IDS, items, strict=True))).ucla3 == total


def test_ucla3_total_none_when_an_item_is_missing():
    assert score({"ucla_1": "3", "ucla_2": "3"}).ucla3 is None


def test_invalid_values_count_as_unanswered():
    answers = {**phq9(27), "phq9_1": "4", "heart_now": "maybe", "nonsense": "x"}
    result = score(answers)
    assert result.phq9 is None
    assert "heart_now" not in codes(answers)


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9))
def test_phq9_total_is_the_sum_of_items(items):
    result = score({qid: str(s) for qid, s in zip(PHQ9_IDS, items, strict=True)})
    assert result.phq9 == sum(items)
    assert result.phq9_band == band(sum(items), PHQ9_BANDS)
    assert result.phq9_item9 == items[8]


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=7, max_size=7))
def test_gad7_total_is_the_sum_of_items(items):
    result = score({qid: s for qid, s in zip(GAD7_IDS, items, strict=True)})
    assert result.gad7 == sum(items)


@pytest.mark.parametrize(("bands", "top"), [(PHQ9_BANDS, 27), (GAD7_BANDS, 21)])
def test_bands_cover_the_scale_and_are_monotonic(bands, top):
    names = [name for _, _, name in bands]
    ranks = [names.index(band(total, bands)) for total in range(top + 1)]
    assert ranks == sorted(ranks)
    assert ranks[0] == 0 and ranks[-1] == len(names) - 1
    assert bands[0][0] == 0 and bands[-1][1] == top
    for (_, high, _), (low, _, _) in zip(bands, bands[1:], strict=False):
        assert low == high + 1


@given(st.integers(0, 27), st.integers(0, 27))
def test_phq9_band_monotonic(a, b):
    low, high = sorted((a, b))
    names = [name for _, _, name in PHQ9_BANDS]
    assert names.index(band(low, PHQ9_BANDS)) <= names.index(band(high, PHQ9_BANDS))


# --- Flags: one test per rule, firing and just not firing --------------------------------------


@pytest.mark.parametrize(("value", "fires"), [("0", False), ("1", True), ("2", True), ("3", True)])
def test_red_phq9_item9(value, fires):
    answers = {"phq9_9": value}
    found = flag(answers, "phq9_item9")
    assert (found is not None) == fires
    assert is_crisis(answers) == fires
    assert score(answers).urgent == fires
    if found:
        assert found.level == "red"
        assert question("phq9_9").label_for(value) in found.message


@pytest.mark.parametrize(("value", "fires"), [("yes", True), ("no", False)])
def test_red_heart_now(value, fires):
    answers = {"heart_now": value}
    found = flag(answers, "heart_now")
    assert (found is not None) == fires
    assert is_crisis(answers) == fires
    if found:
        assert found.level == "red"


@pytest.mark.parametrize(("total", "fires"), [(9, False), (10, True), (27, True)])
def test_amber_phq9_total(total, fires):
    answers = phq9(total)
    found = flag(answers, "phq9_high")
    assert (found is not None) == fires
    if found:
        assert found.level == "amber" and str(total) in found.message


@pytest.mark.parametrize(("partial", "fires"), [(9, False), (10, True)])
def test_amber_phq9_counts_a_partial_set_that_already_reaches_10(partial, fires):
    answers = {
        qid: str(s) for qid, s in zip(PHQ9_IDS[:6], items_summing_to(partial, 6), strict=True)
    }
    assert score(answers).phq9 is None
    found = flag(answers, "phq9_high")
    assert (found is not None) == fires
    if found:
        assert "at least 10" in found.message and "3 items unanswered" in found.message


@pytest.mark.parametrize(("total", "fires"), [(9, False), (10, True), (21, True)])
def test_amber_gad7_total(total, fires):
    found = flag(gad7(total), "gad7_high")
    assert (found is not None) == fires
    if found:
        assert found.level == "amber"


@pytest.mark.parametrize(
    ("value", "fires"),
    [("not_difficult", False), ("somewhat", False), ("very", True), ("extremely", True)],
)
def test_amber_difficulty(value, fires):
    found = flag({"phq9_difficulty": value}, "difficulty")
    assert (found is not None) == fires
    if found:
        assert found.level == "amber"


LOW_MOOD = {
    **phq9(10),
    "mood_duration": "2_weeks_to_6_months",
    "has_mental_health_clinician": "no",
}


@pytest.mark.parametrize(
    ("changes", "fires"),
    [
        ({}, True),
        ({"mood_duration": "6_months_or_more"}, True),
        ({"has_mental_health_clinician": None}, True),  # not known to have one
        ({"has_mental_health_clinician": "yes"}, False),
        ({"mood_duration": "under_2_weeks"}, False),
        ({"mood_duration": "not_low"}, False),
        ({"mood_duration": None}, False),
        (phq9(9), False),
    ],
)
def test_amber_low_mood_without_clinician(changes, fires):
    found = flag({**LOW_MOOD, **changes}, "low_mood_no_clinician")
    assert (found is not None) == fires
    if found:
        assert found.level == "amber"


@pytest.mark.parametrize(
    ("signs", "fires"),
    [
        (["none"], False),
        (None, False),
        (["blood_in_stool"], True),
        (["weight_loss"], True),
        (["swallowing"], True),
        (["vomiting"], True),
        (["blood_in_stool", "vomiting"], True),
    ],
)
def test_amber_digestive_red_flags(signs, fires):
    found = flag({"digestion_red_flags": signs}, "digestive_red_flags")
    assert (found is not None) == fires
    if found:
        assert found.level == "amber"
        labels = [question("digestion_red_flags").label_for(v) for v in signs]
        assert all(label in found.message for label in labels)


@pytest.mark.parametrize(("value", "fires"), [("yes", True), ("no", False)])
def test_amber_sleep_apnoea_seen(value, fires):
    assert (flag({"sleep_apnoea_seen": value}, "sleep_apnoea") is not None) == fires


@pytest.mark.parametrize(
    ("meds", "herbs", "fires"),
    [("yes", "yes", True), ("yes", "no", False), ("no", "yes", False), ("yes", None, False)],
)
def test_amber_psychiatric_medication_with_herbs(meds, herbs, fires):
    answers = {"meds_psychiatric": meds, "takes_herbs": herbs}
    assert (flag(answers, "psych_meds_herbs") is not None) == fires


@pytest.mark.parametrize(
    ("pregnant", "herbs", "fires"),
    [
        ("yes", "yes", True),
        ("yes", "no", False),
        ("no", "yes", False),
        ("not_applicable", "yes", False),
    ],
)
def test_amber_pregnancy_with_herbs(pregnant, herbs, fires):
    answers = {"pregnant": pregnant, "takes_herbs": herbs}
    assert (flag(answers, "pregnant_herbs") is not None) == fires


@pytest.mark.parametrize(
    ("items", "fires"),
    [
        (("2", "2", "1"), False),
        (("2", "2", "2"), True),
        (("3", "3", "3"), True),
        (("3", "2", None), True),  # at least 6 whatever the third answer
        (("3", "1", None), False),
    ],
)
def test_amber_ucla3(items, fires):
    found = flag(dict(zip(UCLA_IDS, items, strict=True)), "lonely")
    assert (found is not None) == fires
    if found:
        assert found.level == "amber"


@pytest.mark.parametrize(
    ("hours", "fires"), [(0, True), (6, True), ("6", True), (7, False), (9, False)]
)
def test_info_short_sleep(hours, fires):
    found = flag({"sleep_hours": hours}, "short_sleep")
    assert (found is not None) == fires
    if found:
        assert found.level == "info"


@pytest.mark.parametrize(("level", "fires"), [("6", False), ("7", True), ("10", True), (7, True)])
def test_info_high_stress(level, fires):
    found = flag({"stress_level": level}, "high_stress")
    assert (found is not None) == fires
    if found:
        assert found.level == "info"


@pytest.mark.parametrize(("days", "fires"), [(0, True), (1, True), (2, False), ("7", False)])
def test_info_low_activity(days, fires):
    found = flag({"exercise_days": days}, "low_activity")
    assert (found is not None) == fires
    if found:
        assert found.level == "info"


def test_flags_red_then_amber_then_info():
    answers = {
        "exercise_days": 0,
        "stress_level": "9",
        "sleep_hours": 4,
        "ucla_1": "3",
        "ucla_2": "3",
        "ucla_3": "3",
        "pregnant": "yes",
        "takes_herbs": "yes",
        "meds_psychiatric": "yes",
        "sleep_apnoea_seen": "yes",
        "digestion_red_flags": ["vomiting"],
        "phq9_difficulty": "extremely",
        "mood_duration": "6_months_or_more",
        "has_mental_health_clinician": "no",
        **gad7(21),
        **phq9(27),
        "heart_now": "yes",
    }
    result = score(answers)
    assert [f.code for f in result.flags] == [
        "phq9_item9",
        "heart_now",
        "phq9_high",
        "gad7_high",
        "difficulty",
        "low_mood_no_clinician",
        "digestive_red_flags",
        "sleep_apnoea",
        "psych_meds_herbs",
        "pregnant_herbs",
        "lonely",
        "short_sleep",
        "high_stress",
        "low_activity",
    ]
    assert [f.level for f in result.flags] == ["red"] * 2 + ["amber"] * 9 + ["info"] * 3
    assert result.urgent
    assert all(f.message and len(f.message) <= 120 for f in result.flags)


# --- is_crisis ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "crisis"),
    [
        ({}, False),
        ({"phq9_1": "3", "phq9_2": "3"}, False),  # a partial PHQ-9 without item 9
        ({"phq9_9": "1"}, True),
        ({"phq9_9": 2}, True),
        ({"phq9_9": "0", "heart_now": "no"}, False),
        ({"heart_now": "yes"}, True),
        ({"gad7_1": "3"}, False),
        ({**phq9(27), "phq9_9": "0", "heart_now": None}, False),  # amber only
        ({"phq9_9": "7"}, False),  # not a valid answer: unanswered
    ],
)
def test_is_crisis_on_partial_answers(answers, crisis):
    assert is_crisis(answers) == crisis
    assert score(answers).urgent == crisis


def test_only_item9_and_heart_now_answers_are_crises():
    crisis_answers = sorted(
        (q.id, c.value)
        for s in SECTIONS
        for q in s.questions
        for c in q.choices
        if is_crisis({q.id: c.value})
    )
    assert crisis_answers == [
        ("heart_now", "yes"),
        ("phq9_9", "1"),
        ("phq9_9", "2"),
        ("phq9_9", "3"),
    ]


# --- Section scores ----------------------------------------------------------------------------


def test_section_scores_from_nothing():
    assert score({}).sections == {}


def test_section_scores_at_the_extremes():
    lowest: dict[str, object] = {}
    highest: dict[str, object] = {}
    for s in SECTIONS:
        for q in s.questions:
            if q.score_range:
                lowest[q.id], highest[q.id] = (str(v) for v in q.score_range)
    scored = {"mood", "anxiety", "stress", "sleep", "energy", "digestion", "heart", "lifestyle"}
    assert score(lowest).sections == dict.fromkeys(sorted(scored), 0)
    assert score(highest).sections == dict.fromkeys(sorted(scored), 100)


def test_section_score_formula():
    answers = {
        # sleep: (7 + 0) / (7 + 7): two of four nights items answered
        "sleep_falling_asleep": 7,
        "sleep_waking_night": "0",
        "sleep_hours": 3,  # not a scored item
        # energy: (1 + 2) / (4 + 4) = 37.5, rounded half up
        "energy_low": "1",
        "energy_focus": "2",
        # stress: 7 / 10
        "stress_level": "7",
        # lifestyle: UCLA-3 answers 1-3 count as 0-2: (0 + 1 + 2) / 6
        "ucla_1": "1",
        "ucla_2": "2",
        "ucla_3": "3",
        "exercise_days": 0,  # not scored
        # mood: (3 + 0 + 4) / (3 + 3 + 4); other mood items unanswered
        "phq9_1": "3",
        "phq9_2": "0",
        "mood_mornings": "4",
        # not scored sections stay out even when answered
        "goals_concerns": "Tired",
        "infections_12m": 12,
        "consent_share": "yes",
    }
    assert score(answers).sections == {
        "sleep": 50,
        "energy": 38,
        "stress": 70,
        "lifestyle": 50,
        "mood": 70,
    }


def test_section_score_rounds_half_up():
    three = {"digestion_bloating": "1", "digestion_gas": "0", "digestion_heartburn": "0"}
    assert score(three).sections == {"digestion": 8}  # 1 / 12 = 8.33
    assert score({"energy_low": "1", "energy_focus": "0"}).sections == {"energy": 13}  # 12.5
    assert score({"stress_level": "0"}).sections == {"stress": 0}


ANY_SCORED_ANSWER = st.dictionaries(
    st.sampled_from(
        [q.id for s in SECTIONS for q in s.questions if q.score_range is not None]
        + ["heart_now", "mood_duration", "has_mental_health_clinician", "digestion_red_flags"]
    ),
    st.integers(min_value=0, max_value=10).map(str),
)


@given(ANY_SCORED_ANSWER)
def test_section_scores_stay_in_range(answers):
    sections = score(answers).sections
    assert all(0 <= v <= 100 for v in sections.values())
    answered_sections = set()
    for s in SECTIONS:
        for q in s.questions:
            if q.score_range and q.id in answers:
                try:
                    clean_answer(q, answers[q.id])
                except ValueError:
                    continue
                answered_sections.add(s.id)
    assert set(sections) == answered_sections


@given(ANY_SCORED_ANSWER)
def test_flags_are_ordered_and_urgent_matches_is_crisis(answers):
    result = score(answers)
    ranks = [LEVEL_ORDER[f.level] for f in result.flags]
    assert ranks == sorted(ranks)
    assert result.urgent == is_crisis(answers) == any(f.level == "red" for f in result.flags)
    assert len({f.code for f in result.flags}) == len(result.flags)
