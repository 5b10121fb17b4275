"""Totals, bands, flags and alert kinds of ``clinic.intake.scoring``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.intake.questionnaire import SECTIONS, question
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
        phq2=None,
        phq9=None,
        phq9_band=None,
        phq9_item9=None,
        gad2=None,
        gad7=None,
        gad7_band=None,
        ucla3=None,
        flags=(),
    )
    assert not result.urgent and result.alerts == frozenset()


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


@pytest.mark.parametrize(("total", "fires"), [(9, False), (10, True), (19, True), (20, False)])
def test_amber_phq9_total(total, fires):
    # From 20 the total is "severe" and raises an alert instead (test_severe_totals_alert).
    answers = phq9(total)
    found = flag(answers, "phq9_high")
    assert (found is not None) == fires
    if found:
        assert found.level == "amber" and str(total) in found.message and found.alert is None


@pytest.mark.parametrize(
    ("answers", "code", "fires"),
    [
        (phq9(19), "phq9_severe", False),
        (phq9(20), "phq9_severe", True),
        (phq9(27), "phq9_severe", True),
        (gad7(14), "gad7_severe", False),
        (gad7(15), "gad7_severe", True),
        (gad7(21), "gad7_severe", True),
    ],
)
def test_severe_totals_alert(answers, code, fires):
    found = flag(answers, code)
    assert (found is not None) == fires
    assert ("high_score" in score(answers).alerts) == fires
    if found:
        assert found.level == "amber" and found.alert == "high_score"


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


@pytest.mark.parametrize(("total", "fires"), [(9, False), (10, True), (14, True), (15, False)])
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
        "phq9_severe",
        "gad7_severe",
        "difficulty",
        "low_mood_no_clinician",
        "sleep_apnoea",
        "psych_meds_herbs",
        "pregnant_herbs",
        "lonely",
        "digestive_red_flags",
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


def test_only_item9_heart_now_and_asq_answers_are_crises():
    crisis_answers = sorted(
        (q.id, c.value)
        for s in SECTIONS
        for q in s.questions
        for c in q.choices
        if is_crisis({q.id: c.value})
    )
    assert crisis_answers == [
        ("asq_1", "yes"),
        ("asq_2", "yes"),
        ("asq_3", "yes"),
        ("asq_4", "yes"),
        ("asq_5", "yes"),
        ("heart_now", "yes"),
        ("phq9_9", "1"),
        ("phq9_9", "2"),
        ("phq9_9", "3"),
    ]


ANY_SCORED_ANSWER = st.dictionaries(
    st.sampled_from(
        [q.id for s in SECTIONS for q in s.questions if q.score_range is not None]
        + ["heart_now", "mood_duration", "has_mental_health_clinician", "digestion_red_flags"]
    ),
    st.integers(min_value=0, max_value=10).map(str),
)


@given(ANY_SCORED_ANSWER)
def test_flags_are_ordered_and_urgent_matches_is_crisis(answers):
    result = score(answers)
    ranks = [LEVEL_ORDER[f.level] for f in result.flags]
    assert ranks == sorted(ranks)
    assert result.urgent == is_crisis(answers) == any(f.level == "red" for f in result.flags)
    assert len({f.code for f in result.flags}) == len(result.flags)


# --- Kinds of alert --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "code", "alert"),
    [
        ({"phq9_9": "1"}, "phq9_item9", "self_harm"),
        ({"asq_2": "yes"}, "asq_positive", "self_harm"),
        ({"asq_5": "yes"}, "asq_now", "emergency"),
        ({"heart_now": "yes"}, "heart_now", "emergency"),
        ({"digestion_red_flags": ["blood_in_stool"]}, "digestive_red_flags", "see_doctor"),
        ({"digestion_red_flags": ["weight_loss"]}, "digestive_red_flags", "see_doctor"),
        ({"digestion_red_flags": ["swallowing"]}, "digestive_red_flags", "see_doctor"),
        ({"heart_red_flags": ["faint"]}, "heart_red_flags", "see_doctor"),
        ({"heart_chest_tight": "4"}, "heart_severe", "see_doctor"),
        ({"heart_breathless": "4"}, "heart_severe", "see_doctor"),
        ({"heart_skipped": "4"}, "heart_severe", "see_doctor"),
    ],
)
def test_each_red_answer_raises_its_kind_of_alert(answers, code, alert):
    found = flag(answers, code)
    assert found is not None and found.alert == alert
    assert score(answers).alerts == {alert}


@pytest.mark.parametrize(
    "answers",
    [
        {"heart_chest_tight": "3", "heart_racing": "3"},  # severe, but not "very severe"
        {"digestion_red_flags": ["none"], "heart_red_flags": ["none"]},
        {"asq_1": "no", "asq_2": "no", "asq_3": "no", "asq_4": "no", "asq_5": "no"},
        {"phq9_9": "0", "heart_now": "no"},
    ],
)
def test_answers_without_risk_raise_no_alert(answers):
    answers = {"phq9_9": "0", **answers}  # item 9 answered on the saved mood page
    assert score(answers, ["mood", "safety", "asq"]).alerts == frozenset()


def test_the_asq_names_the_questions_answered_yes():
    found = flag({"asq_1": "yes", "asq_3": "yes", "asq_2": "no"}, "asq_positive")
    assert found is not None and "question 1, 3" in found.message
    assert found.questions == ("asq_1", "asq_3")


def test_a_skipped_item_9_is_flagged_only_once_the_mood_page_was_saved():
    answers = {"phq9_1": "3", "phq9_2": "3"}
    assert flag(answers, "item9_skipped") is None  # not reached yet
    skipped = [f for f in score(answers, ["mood"]).flags if f.code == "item9_skipped"]
    assert len(skipped) == 1
    assert skipped[0].level == "amber" and skipped[0].alert == "item9_skipped"
    assert "item 9" in skipped[0].message
    answered = score({**answers, "phq9_9": "0"}, ["mood"])
    assert "item9_skipped" not in [f.code for f in answered.flags]


def test_screener_totals():
    result = score({"phq9_1": "2", "phq9_2": "1", "gad7_1": "0", "gad7_2": "3"})
    assert (result.phq2, result.gad2) == (3, 3)
    assert result.phq9 is None and result.gad7 is None
    assert score({"phq9_1": "2"}).phq2 is None


@pytest.mark.parametrize(
    ("value", "fires"), [("very", True), ("extremely", True), ("somewhat", False)]
)
def test_amber_anxiety_difficulty(value, fires):
    found = flag({"gad7_difficulty": value}, "anxiety_difficulty")
    assert (found is not None) == fires


def test_under_18_is_noted_for_the_practitioner():
    assert flag({"age_band": "under_18"}, "under_18").level == "info"
    assert flag({"age_band": "18_24"}, "under_18") is None
