"""The short form before the free consult: its size, and the instruments it expands to.

Pure: ``clinic.intake.questionnaire`` decides which sections are asked from the answers so far;
``clinic.intake.scoring`` totals the full instruments once they are asked.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.intake.questionnaire import (
    ESTIMATED_MINUTES,
    HISTORY,
    PRE_CONSULT,
    asked,
    current_answers,
    next_section,
    previous_section,
)
from clinic.intake.scoring import score

NEGATIVE = {"phq9_1": "1", "phq9_2": "1", "phq9_9": "0", "gad7_1": "1", "gad7_2": "1"}
MAX_ITEMS, MAX_PAGES, MAX_MINUTES = 25, 8, 5


def ids(sections) -> list[str]:
    return [s.id for s in sections]


def items(sections) -> int:
    return sum(len(s.questions) for s in sections)


def test_the_short_form_is_at_most_25_items_on_8_pages_for_negative_screeners():
    for answers in ({}, NEGATIVE):
        form = asked(PRE_CONSULT, answers)
        assert items(form) <= MAX_ITEMS
        assert len(form) <= MAX_PAGES
    assert ESTIMATED_MINUTES[PRE_CONSULT] <= MAX_MINUTES


def test_the_short_form_asks_goals_age_screeners_safety_medicines_and_contact():
    asked_ids = {q.id for s in asked(PRE_CONSULT, NEGATIVE) for q in s.questions}
    expected = {
        "consent_share",
        "country",
        "age_band",
        "goals_concerns",
        "phq9_1",
        "phq9_2",
        "phq9_9",
        "gad7_1",
        "gad7_2",
        "heart_now",
        "digestion_red_flags",
        "heart_red_flags",
        "medications",
        "meds_psychiatric",
        "contact_method",
    }
    assert expected <= asked_ids
    # Consent is asked on the first page.
    assert asked(PRE_CONSULT, {})[0].questions[0].id == "consent_share"


def test_no_question_is_asked_twice_across_both_forms():
    every = [q.id for form in (PRE_CONSULT, HISTORY) for s in asked(form, {}) for q in s.questions]
    assert len(every) == len(set(every))


@pytest.mark.parametrize(
    ("phq2", "expands"), [(("0", "0"), False), (("1", "1"), False), (("2", "1"), True)]
)
def test_a_positive_phq2_asks_the_rest_of_the_phq9(phq2, expands):
    answers = {"phq9_1": phq2[0], "phq9_2": phq2[1], "phq9_9": "0"}
    assert ("mood_more" in ids(asked(PRE_CONSULT, answers))) == expands
    following = next_section("mood", answers)
    assert following.id == ("mood_more" if expands else "anxiety")


@pytest.mark.parametrize(
    ("gad2", "expands"), [(("0", "2"), False), (("3", "0"), True), (("3", "3"), True)]
)
def test_a_positive_gad2_asks_the_rest_of_the_gad7(gad2, expands):
    answers = {"gad7_1": gad2[0], "gad7_2": gad2[1]}
    assert ("anxiety_more" in ids(asked(PRE_CONSULT, answers))) == expands
    assert next_section("anxiety", answers).id == ("anxiety_more" if expands else "safety")


@pytest.mark.parametrize(("item9", "asks"), [("0", False), ("1", True), ("3", True)])
def test_item_9_above_not_at_all_asks_the_asq(item9, asks):
    answers = {"phq9_1": "0", "phq9_2": "0", "phq9_9": item9}
    assert ("asq" in ids(asked(PRE_CONSULT, answers))) == asks
    assert next_section("mood", answers).id == ("asq" if asks else "anxiety")


def test_going_back_skips_sections_that_do_not_apply():
    assert previous_section("anxiety", NEGATIVE).id == "mood"
    positive = {**NEGATIVE, "phq9_1": "3", "phq9_9": "2"}
    assert previous_section("anxiety", positive).id == "asq"
    assert previous_section("asq", positive).id == "mood_more"
    assert previous_section("about", {}) is None
    assert next_section("contact", {}) is None  # the end of the short form


def test_expanded_instruments_are_scored_in_full():
    answers = {f"phq9_{n}": "2" for n in range(1, 10)} | {f"gad7_{n}": "3" for n in range(1, 8)}
    result = score(answers)
    assert (result.phq2, result.phq9, result.phq9_band) == (4, 18, "moderately severe")
    assert (result.gad2, result.gad7, result.gad7_band) == (6, 21, "severe")
    # Both full instruments are asked for these answers, so their totals can be complete.
    asked_ids = {q.id for s in asked(PRE_CONSULT, answers) for q in s.questions}
    assert {f"phq9_{n}" for n in range(1, 10)} <= asked_ids
    assert {f"gad7_{n}" for n in range(1, 8)} <= asked_ids


def test_a_negative_screener_reports_its_own_total_and_no_full_total():
    result = score(NEGATIVE)
    assert (result.phq2, result.gad2) == (2, 2)
    assert result.phq9 is None and result.gad7 is None


OFTEN = st.sampled_from(["0", "1", "2", "3"])


@given(st.fixed_dictionaries({"phq9_1": OFTEN, "phq9_2": OFTEN, "gad7_1": OFTEN, "gad7_2": OFTEN}))
def test_the_full_instruments_are_asked_exactly_when_their_screener_reaches_3(answers):
    form = ids(asked(PRE_CONSULT, answers))
    phq2 = int(answers["phq9_1"]) + int(answers["phq9_2"])
    gad2 = int(answers["gad7_1"]) + int(answers["gad7_2"])
    assert ("mood_more" in form) == (phq2 >= 3)
    assert ("anxiety_more" in form) == (gad2 >= 3)
    assert score(answers).phq2 == phq2 and score(answers).gad2 == gad2


def test_answers_to_parts_no_longer_asked_stop_counting():
    """The rest of the PHQ-9 answered, then the PHQ-2 lowered: those answers stay on record but
    no longer count, so no PHQ-9 total or flag is built on items the patient isn't asked."""
    rest = {f"phq9_{n}": "3" for n in range(3, 9)}
    positive = {"phq9_1": "3", "phq9_2": "3", "phq9_9": "0", **rest}
    assert current_answers(positive) == positive
    assert score(current_answers(positive)).phq9 == 24

    lowered = {**positive, "phq9_1": "0", "phq9_2": "0"}
    counted = current_answers(lowered)
    assert counted == {"phq9_1": "0", "phq9_2": "0", "phq9_9": "0"}
    assert score(counted).phq9 is None
    assert not [f for f in score(counted).flags if f.code.startswith("phq9")]


def test_safety_answers_count_even_when_their_part_is_not_asked():
    """An ASQ "right now" reached by an old link, with item 9 since lowered, still counts."""
    answers = {"phq9_9": "0", "asq_5": "yes"}
    assert current_answers(answers) == answers
    assert "emergency" in score(current_answers(answers)).alerts
