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

Section scores (burden, 0-100). For each section, over its scored questions that are answered
(``Question.score_range`` is not None: every "scale" item -- PHQ-9 and GAD-7 0-3, the clinic's
0-4 items, UCLA-3 1-3, stress 0-10 -- and the nights-a-week numbers 0-7)::

    score = round_half_up(100 * sum(value - lowest) / sum(highest - lowest))

For every item but UCLA-3 the lowest score is 0, so this is "sum of item scores / sum of item
maxima x 100"; UCLA-3 answers (1-3) are shifted to 0-2 so "Hardly ever" is no burden.
Unanswered items are left out of both sums; a section with no scored item answered (or none at
all: goals, immunity, autoimmune, medications, contact) is not in ``Scores.sections``.

Flags, in this order (red, then amber, then info; within a level, the order below):

RED (``is_crisis``; also usable on a partial set of answers)
  phq9_item9      PHQ-9 item 9 above "Not at all".
  heart_now       chest pain or severe breathlessness right now (heart_now = yes).
AMBER
  phq9_high       PHQ-9 >= 10.
  gad7_high       GAD-7 >= 10.
  difficulty      PHQ-9 difficulty item "Very" or "Extremely difficult".
  low_mood_no_clinician
                  mood low for more than 2 weeks (mood_duration), PHQ-9 >= 10, and not seeing
                  anyone for mental health (has_mental_health_clinician is "no" or unanswered).
  digestive_red_flags   any digestive red-flag sign.
  sleep_apnoea    loud snoring or stopped breathing seen (sleep_apnoea_seen = yes).
  psych_meds_herbs      psychiatric medication (meds_psychiatric = yes) with herbs or
                        supplements (takes_herbs = yes).
  pregnant_herbs  pregnant or possibly (pregnant = yes) with takes_herbs = yes.
  lonely          UCLA-3 >= 6.
INFO
  short_sleep     sleep_hours < 7 (the 7-9 hours the clinic's article recommends).
  high_stress     stress_level >= 7 (of 10).
  low_activity    exercise_days < 2: active for 30 minutes on at most one day a week.

For the ">= threshold" rules on PHQ-9, GAD-7 and UCLA-3 a partial answer set still counts when
its lower bound (answered items plus the lowest score for each missing one) already reaches the
threshold: skipping an item can only raise the total. The message then says "at least".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from clinic.intake.questionnaire import (
    MOOD_OVER_2_WEEKS,
    SECTIONS,
    InvalidAnswer,
    Question,
    clean_answer,
    question,
)

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
UCLA3_AMBER = 6
SHORT_SLEEP_HOURS = 7  # info when fewer hours a night
HIGH_STRESS = 7  # info at or above, 0-10
LOW_ACTIVITY_DAYS = 2  # info when active (30 minutes or more) on fewer days a week


@dataclass(frozen=True)
class Flag:
    level: str  # "red" | "amber" | "info"
    code: str
    message: str  # for staff, short


@dataclass(frozen=True)
class Scores:
    phq9: int | None
    phq9_band: str | None
    phq9_item9: int | None
    gad7: int | None
    gad7_band: str | None
    ucla3: int | None
    sections: dict[str, int]
    flags: tuple[Flag, ...]

    @property
    def urgent(self) -> bool:
        """Any red flag."""
        return any(f.level == RED for f in self.flags)


def band(total: int, bands: tuple[tuple[int, int, str], ...]) -> str:
    """The band a total falls in (ValueError outside the scale)."""
    for low, high, name in bands:
        if low <= total <= high:
            return name
    raise ValueError(f"total {total} is outside {bands[0][0]}..{bands[-1][1]}")


# --- Reading answers ---------------------------------------------------------------------------


class _Answers:
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


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


# --- Rules -------------------------------------------------------------------------------------


def _at_least(
    a: _Answers,
    items: tuple[str, ...],
    threshold: int,
    bands: tuple[tuple[int, int, str], ...] = (),
) -> str | None:
    """'14 (moderate)' or 'at least 12 (2 items unanswered)' when the total reaches threshold."""
    found = a.lower_bound(items)
    if found is None:
        return None
    bound, missing = found
    if bound < threshold:
        return None
    if not missing:
        return f"{bound} ({band(bound, bands)})" if bands else str(bound)
    return f"at least {bound} ({missing} item{'s' if missing > 1 else ''} unanswered)"


def _red(a: _Answers) -> list[Flag]:
    flags = []
    item9 = a.number("phq9_9")
    if item9 is not None and item9 > 0:
        label = question("phq9_9").label_for(str(item9))
        flags.append(
            Flag(RED, "phq9_item9", f"PHQ-9 item 9 (death / self-harm thoughts): {label}.")
        )
    if a.is_("heart_now", "yes"):
        flags.append(Flag(RED, "heart_now", "Chest pain or severe breathlessness right now."))
    return flags


def _amber(a: _Answers) -> list[Flag]:
    flags = []
    phq9 = _at_least(a, PHQ9_ITEMS, PHQ9_AMBER, PHQ9_BANDS)
    if phq9:
        flags.append(Flag(AMBER, "phq9_high", f"PHQ-9 {phq9}."))
    gad7 = _at_least(a, GAD7_ITEMS, GAD7_AMBER, GAD7_BANDS)
    if gad7:
        flags.append(Flag(AMBER, "gad7_high", f"GAD-7 {gad7}."))
    difficulty = a.value("phq9_difficulty")
    if difficulty in ("very", "extremely"):
        label = question("phq9_difficulty").label_for(str(difficulty))
        flags.append(Flag(AMBER, "difficulty", f"Problems make daily life: {label.lower()}."))
    if (
        a.value("mood_duration") in MOOD_OVER_2_WEEKS
        and phq9
        and not a.is_("has_mental_health_clinician", "yes")
    ):
        flags.append(
            Flag(
                AMBER,
                "low_mood_no_clinician",
                "Low mood over 2 weeks with PHQ-9 of 10+, not seeing anyone for mental health.",
            )
        )
    signs = a.value("digestion_red_flags")
    if isinstance(signs, list):
        q = question("digestion_red_flags")
        found = [q.label_for(v) for v in signs if v != "none"]
        if found:
            flags.append(
                Flag(AMBER, "digestive_red_flags", "Digestive red flags: " + "; ".join(found) + ".")
            )
    if a.is_("sleep_apnoea_seen", "yes"):
        flags.append(
            Flag(AMBER, "sleep_apnoea", "Loud snoring or stopped breathing in sleep seen.")
        )
    herbs = a.is_("takes_herbs", "yes")
    if herbs and a.is_("meds_psychiatric", "yes"):
        flags.append(
            Flag(AMBER, "psych_meds_herbs", "Takes psychiatric medication and herbs/supplements.")
        )
    if herbs and a.is_("pregnant", "yes"):
        flags.append(
            Flag(AMBER, "pregnant_herbs", "Pregnant (or may be) and takes herbs/supplements.")
        )
    ucla3 = _at_least(a, UCLA3_ITEMS, UCLA3_AMBER)
    if ucla3:
        flags.append(Flag(AMBER, "lonely", f"UCLA-3 loneliness {ucla3} (of 9)."))
    return flags


def _info(a: _Answers) -> list[Flag]:
    flags = []
    hours = a.number("sleep_hours")
    if hours is not None and hours < SHORT_SLEEP_HOURS:
        flags.append(Flag(INFO, "short_sleep", f"Sleeps about {hours} hours a night."))
    stress = a.number("stress_level")
    if stress is not None and stress >= HIGH_STRESS:
        flags.append(Flag(INFO, "high_stress", f"Stress {stress}/10 over the past month."))
    days = a.number("exercise_days")
    if days is not None and days < LOW_ACTIVITY_DAYS:
        flags.append(Flag(INFO, "low_activity", f"Active on {days} day(s) a week."))
    return flags


# --- Public ------------------------------------------------------------------------------------


def section_scores(answers: Mapping[str, object]) -> dict[str, int]:
    """Section id -> burden 0-100, for sections with a scored item answered. Addition."""
    a = _Answers(answers)
    result: dict[str, int] = {}
    for s in SECTIONS:
        points = possible = 0
        for q in s.questions:
            r = q.score_range
            value = a.number(q.id) if r is not None else None
            if r is None or value is None:
                continue
            points += value - r[0]
            possible += r[1] - r[0]
        if possible:
            result[s.id] = _round_half_up(100 * points, possible)
    return result


def score(answers: Mapping[str, object]) -> Scores:
    """Totals, bands, section scores and flags (red first, then amber, then info)."""
    a = _Answers(answers)
    phq9 = a.total(PHQ9_ITEMS)
    gad7 = a.total(GAD7_ITEMS)
    return Scores(
        phq9=phq9,
        phq9_band=None if phq9 is None else band(phq9, PHQ9_BANDS),
        phq9_item9=a.number("phq9_9"),
        gad7=gad7,
        gad7_band=None if gad7 is None else band(gad7, GAD7_BANDS),
        ucla3=a.total(UCLA3_ITEMS),
        sections=section_scores(answers),
        flags=(*_red(a), *_amber(a), *_info(a)),
    )


def is_crisis(answers: Mapping[str, object]) -> bool:
    """Any RED rule fires; works on a partial set of answers (e.g. one section's)."""
    return bool(_red(_Answers(answers)))
