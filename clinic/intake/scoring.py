"""Scores and staff flags for a symptom intake (complete or partial).

Pure: standard library and ``clinic.intake.questionnaire`` only. Nothing here is shown to the
patient: totals, bands and flags are for staff.

Input. ``answers`` maps question id -> the value ``clean_answer`` returned. Each value is read
through ``clean_answer`` again, so ints (``7``, ``2``) work as well as strings (``"7"``,
``"2"``); a missing key, None, or a value ``clean_answer`` would refuse counts as unanswered, and
unknown ids are ignored. ``score`` and ``is_crisis`` never raise on odd input.

Totals. PHQ-9 = phq9_1 + ... + phq9_9 (0-27), GAD-7 = gad7_1 + ... + gad7_7 (0-21),
UCLA-3 = ucla_1 + ucla_2 + ucla_3 (3-9). A total is None unless every item is answered. Bands
use the published cut points (``PHQ9_BANDS``, ``GAD7_BANDS``).

PHQ-2 = phq9_1 + phq9_2 and GAD-2 = gad7_1 + gad7_2 (0-6): the short form asks the rest of
each instrument when its screener reaches 3 (``questionnaire.SCREENER_CUT_POINT``).

No 0-100 "section scores": only the published instruments are totalled, so nothing reads as a
clinical score that is not one.

The flags and the rules that raise them: ``clinic.intake.flag_rules``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import clinic.intake.flag_rules as flag_rules
from clinic.intake.instruments import (
    AMBER,
    ASQ_ITEMS,
    EMERGENCY,
    GAD7_BANDS,
    GAD7_ITEMS,
    HIGH_SCORE,
    INFO,
    ITEM9_SKIPPED,
    LEVELS,
    PHQ9_BANDS,
    PHQ9_ITEMS,
    RED,
    SEE_DOCTOR,
    SELF_HARM,
    UCLA3_ITEMS,
    Answers,
    Flag,
    band,
)
from clinic.intake.questionnaire import question

__all__ = [
    "AMBER",
    "ASQ_ITEMS",
    "EMERGENCY",
    "GAD7_BANDS",
    "HIGH_SCORE",
    "INFO",
    "ITEM9_SKIPPED",
    "LEVELS",
    "PHQ9_BANDS",
    "RED",
    "SEE_DOCTOR",
    "SELF_HARM",
    "Flag",
    "Scores",
    "alerts_for_choice",
    "band",
    "is_crisis",
    "score",
]


@dataclass(frozen=True)
class Scores:
    phq2: int | None
    phq9: int | None
    phq9_band: str | None
    phq9_item9: int | None
    gad2: int | None
    gad7: int | None
    gad7_band: str | None
    ucla3: int | None
    flags: tuple[Flag, ...]

    @property
    def urgent(self) -> bool:
        """Any red flag."""
        return any(f.level == RED for f in self.flags)

    @property
    def alerts(self) -> frozenset[str]:
        """The kinds of alert these answers raise."""
        return frozenset(f.alert for f in self.flags if f.alert)


# --- Public ------------------------------------------------------------------------------------


def score(answers: Mapping[str, object], saved_sections: Iterable[str] = ()) -> Scores:
    """Totals, bands and flags (red first, then amber, then info).

    ``saved_sections`` are the ids of the sections the patient has saved: a saved mood page
    with item 9 blank was skipped on purpose, not just not reached yet.
    """
    a = Answers(answers)
    phq9 = a.total(PHQ9_ITEMS)
    gad7 = a.total(GAD7_ITEMS)
    return Scores(
        phq2=a.total(PHQ9_ITEMS[:2]),
        phq9=phq9,
        phq9_band=None if phq9 is None else band(phq9, PHQ9_BANDS),
        phq9_item9=a.number("phq9_9"),
        gad2=a.total(GAD7_ITEMS[:2]),
        gad7=gad7,
        gad7_band=None if gad7 is None else band(gad7, GAD7_BANDS),
        ucla3=a.total(UCLA3_ITEMS),
        flags=(
            *flag_rules.red(a),
            *flag_rules.item9_skipped(a, frozenset(saved_sections)),
            *flag_rules.amber(a),
            *flag_rules.see_doctor(a),
            *flag_rules.info(a),
        ),
    )


def is_crisis(answers: Mapping[str, object]) -> bool:
    """Any RED rule fires; works on a partial set of answers (e.g. one section's)."""
    return bool(flag_rules.red(Answers(answers)))


def alerts_for_choice(question_id: str, value: str) -> frozenset[str]:
    """The alert kinds this one answer raises on its own (to mark choices for the script)."""
    return score({question_id: [value] if question(question_id).kind == "multi" else value}).alerts
