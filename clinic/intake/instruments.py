"""The instruments an intake is scored with: their items, published bands and thresholds, the
kinds of alert, a flag, and reading answers as numbers. Pure: standard library and
``clinic.intake.questionnaire`` only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from clinic.intake.questionnaire import InvalidAnswer, Question, clean_answer, question

RED, AMBER, INFO = "red", "amber", "info"
LEVELS = (RED, AMBER, INFO)

PHQ9_ITEMS = tuple(f"phq9_{n}" for n in range(1, 10))
GAD7_ITEMS = tuple(f"gad7_{n}" for n in range(1, 8))
UCLA3_ITEMS = ("ucla_1", "ucla_2", "ucla_3")

# (lowest total, highest total, band), published cut points.
PHQ9_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 4, "minimal"),
    (5, 9, "mild"),
    (10, 14, "moderate"),
    (15, 19, "moderately severe"),
    (20, 27, "severe"),
)
GAD7_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 4, "minimal"),
    (5, 9, "mild"),
    (10, 14, "moderate"),
    (15, 21, "severe"),
)

PHQ9_AMBER = 10
GAD7_AMBER = 10
PHQ9_SEVERE = 20  # alert
GAD7_SEVERE = 15  # alert
HEART_ITEMS = ("heart_racing", "heart_skipped", "heart_breathless", "heart_chest_tight")
HEART_SEVERE = 4  # "Very severe"
ASQ_ITEMS = ("asq_1", "asq_2", "asq_3", "asq_4")

# Alert kinds (clinic.core.models.AlertKind values); the first two are shown to the patient at once.
EMERGENCY, SELF_HARM, SEE_DOCTOR = "emergency", "self_harm", "see_doctor"
HIGH_SCORE, ITEM9_SKIPPED = "high_score", "item9_skipped"
UCLA3_AMBER = 6
SHORT_SLEEP_HOURS = 7  # info when fewer hours a night
HIGH_STRESS = 7  # info at or above, 0-10
LOW_ACTIVITY_DAYS = 2  # info when active (30 minutes or more) on fewer days a week


@dataclass(frozen=True)
class Flag:
    level: str  # "red" | "amber" | "info"
    code: str
    message: str  # for staff, short
    alert: str | None = None  # the kind of alert it raises (see the module's docstring)
    # The questions whose answers raised it, for "the answer that raised it".
    questions: tuple[str, ...] = ()


def band(total: int, bands: tuple[tuple[int, int, str], ...]) -> str:
    """The band a total falls in (ValueError outside the scale)."""
    for low, high, name in bands:
        if low <= total <= high:
            return name
    raise ValueError(f"total {total} is outside {bands[0][0]}..{bands[-1][1]}")


# --- Reading answers ---------------------------------------------------------------------------


class Answers:
    """Cleaned, typed access to an answers mapping."""

    def __init__(self, answers: Mapping[str, object]):
        self._raw = answers

    def value(self, qid: str) -> object:
        raw = self._raw.get(qid)
        if raw is None:
            return None
        q = question(qid)
        try:
            return clean_answer(replace(q, required=False), raw)
        except InvalidAnswer:
            return None

    def is_(self, qid: str, wanted: str) -> bool:
        return self.value(qid) == wanted

    def number(self, qid: str) -> int | None:
        """A number, or a scale answer as its score."""
        value = self.value(qid)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and question(qid).kind == "scale":
            return int(value)
        return None

    def total(self, items: tuple[str, ...]) -> int | None:
        scores = [self.number(qid) for qid in items]
        if any(s is None for s in scores):
            return None
        return sum(s for s in scores if s is not None)

    def lower_bound(self, items: tuple[str, ...]) -> tuple[int, int] | None:
        """(answered sum + lowest score of each missing item, missing count); None if none."""
        bound, missing = 0, 0
        for qid in items:
            s = self.number(qid)
            if s is None:
                missing += 1
                bound += _score_range(question(qid))[0]
            else:
                bound += s
        if missing == len(items):
            return None
        return bound, missing


def _score_range(q: Question) -> tuple[int, int]:
    r = q.score_range
    assert r is not None, q.id
    return r
