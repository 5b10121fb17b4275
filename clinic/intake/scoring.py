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

Flags, in this order (red, then amber, then info; within a level, the order below):

A flag's ``alert`` names the kind of alert it raises to staff (``clinic.core.models.AlertKind``
values), and the message the patient is shown: "emergency" (stop and call the emergency number
now), "self_harm" (crisis lines, then carry on), "see_doctor" (see a doctor soon), "high_score"
and "item9_skipped" (staff only). Flags with no alert are for the practitioner's reading.

RED (``is_crisis``; also usable on a partial set of answers)
  phq9_item9      PHQ-9 item 9 above "Not at all".                          alert self_harm
  asq_positive    ASQ: yes to any of questions 1-4.                          alert self_harm
  asq_now         ASQ question 5: thoughts of killing themselves right now.  alert emergency
  heart_now       chest pain or severe breathlessness right now.             alert emergency
AMBER
  item9_skipped   the mood page was saved with PHQ-9 item 9 blank (after a gentle prompt).
                                                                             alert item9_skipped
  phq9_severe     PHQ-9 >= 20.                                               alert high_score
  phq9_high       PHQ-9 >= 10 (when not already severe).
  gad7_severe     GAD-7 >= 15.                                               alert high_score
  gad7_high       GAD-7 >= 10 (when not already severe).
  digestive_red_flags   any digestive red-flag sign.                        alert see_doctor
  heart_red_flags       chest pain on effort, fainting with palpitations, breathless at rest.
                                                                             alert see_doctor
  heart_severe    a heart or breathing symptom rated "Very severe".          alert see_doctor
  difficulty      PHQ-9 difficulty item "Very" or "Extremely difficult".
  anxiety_difficulty    the same for the GAD-7's difficulty item.
  low_mood_no_clinician
                  mood low for more than 2 weeks (mood_duration), PHQ-9 >= 10, and not seeing
                  anyone for mental health (has_mental_health_clinician is "no" or unanswered).
  sleep_apnoea    loud snoring or stopped breathing seen (sleep_apnoea_seen = yes).
  psych_meds_herbs      psychiatric medication (meds_psychiatric = yes) with herbs or
                        supplements (takes_herbs = yes).
  pregnant_herbs  pregnant or possibly (pregnant = yes) with takes_herbs = yes.
  lonely          UCLA-3 >= 6.
INFO
  under_18        aged under 18.
  short_sleep     sleep_hours < 7 (the 7-9 hours the clinic's article recommends).
  high_stress     stress_level >= 7 (of 10).
  low_activity    exercise_days < 2: active for 30 minutes on at most one day a week.

For the ">= threshold" rules on PHQ-9, GAD-7 and UCLA-3 a partial answer set still counts when
its lower bound (answered items plus the lowest score for each missing one) already reaches the
threshold: skipping an item can only raise the total. The message then says "at least".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from clinic.intake.questionnaire import (
    MOOD_OVER_2_WEEKS,
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
            Flag(
                RED,
                "phq9_item9",
                f"PHQ-9 item 9 (death / self-harm thoughts): {label}.",
                SELF_HARM,
                ("phq9_9",),
            )
        )
    positive = [qid for qid in ASQ_ITEMS if a.is_(qid, "yes")]
    if positive:
        numbers = ", ".join(qid.removeprefix("asq_") for qid in positive)
        flags.append(
            Flag(
                RED,
                "asq_positive",
                f"ASQ positive: yes to question {numbers}; a brief suicide safety assessment "
                "is needed.",
                SELF_HARM,
                tuple(positive),
            )
        )
    if a.is_("asq_5", "yes"):
        flags.append(
            Flag(
                RED,
                "asq_now",
                "ASQ acute positive: thoughts of killing themselves right now.",
                EMERGENCY,
                ("asq_5",),
            )
        )
    if a.is_("heart_now", "yes"):
        flags.append(
            Flag(
                RED,
                "heart_now",
                "Chest pain or severe breathlessness right now.",
                EMERGENCY,
                ("heart_now",),
            )
        )
    return flags


def _item9_skipped(a: _Answers, saved_sections: frozenset[str]) -> list[Flag]:
    if "mood" not in saved_sections or a.value("phq9_9") is not None:
        return []
    message = "PHQ-9 item 9 (death / self-harm thoughts) was left unanswered after a prompt."
    return [Flag(AMBER, "item9_skipped", message, ITEM9_SKIPPED, ("phq9_9",))]


def _see_doctor(a: _Answers) -> list[Flag]:
    flags = []
    for qid, code, what in (
        ("digestion_red_flags", "digestive_red_flags", "Digestive red flags"),
        ("heart_red_flags", "heart_red_flags", "Heart or breathing warning signs"),
    ):
        signs = a.value(qid)
        if isinstance(signs, list):
            q = question(qid)
            found = [q.label_for(v) for v in signs if v != "none"]
            if found:
                message = f"{what}: " + "; ".join(found) + "."
                flags.append(Flag(AMBER, code, message, SEE_DOCTOR, (qid,)))
    severe = [qid for qid in HEART_ITEMS if a.number(qid) == HEART_SEVERE]
    if severe:
        found = "; ".join(question(qid).text for qid in severe)
        message = f"Rated very severe: {found}."
        flags.append(Flag(AMBER, "heart_severe", message, SEE_DOCTOR, tuple(severe)))
    return flags


def _amber(a: _Answers) -> list[Flag]:
    flags = []
    phq9 = _at_least(a, PHQ9_ITEMS, PHQ9_AMBER, PHQ9_BANDS)
    severe = _at_least(a, PHQ9_ITEMS, PHQ9_SEVERE, PHQ9_BANDS)
    if severe:
        flags.append(Flag(AMBER, "phq9_severe", f"PHQ-9 {severe}.", HIGH_SCORE, PHQ9_ITEMS))
    elif phq9:
        flags.append(Flag(AMBER, "phq9_high", f"PHQ-9 {phq9}.", questions=PHQ9_ITEMS))
    gad7 = _at_least(a, GAD7_ITEMS, GAD7_AMBER, GAD7_BANDS)
    gad7_severe = _at_least(a, GAD7_ITEMS, GAD7_SEVERE, GAD7_BANDS)
    if gad7_severe:
        flags.append(Flag(AMBER, "gad7_severe", f"GAD-7 {gad7_severe}.", HIGH_SCORE, GAD7_ITEMS))
    elif gad7:
        flags.append(Flag(AMBER, "gad7_high", f"GAD-7 {gad7}.", questions=GAD7_ITEMS))
    for qid, code, what in (
        ("phq9_difficulty", "difficulty", "Problems make daily life"),
        ("gad7_difficulty", "anxiety_difficulty", "Worry and nerves make daily life"),
    ):
        difficulty = a.value(qid)
        if difficulty in ("very", "extremely"):
            label = question(qid).label_for(str(difficulty))
            flags.append(Flag(AMBER, code, f"{what}: {label.lower()}.", questions=(qid,)))
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
    if a.is_("age_band", "under_18"):
        flags.append(Flag(INFO, "under_18", "Aged under 18.", questions=("age_band",)))
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


def score(answers: Mapping[str, object], saved_sections: Iterable[str] = ()) -> Scores:
    """Totals, bands and flags (red first, then amber, then info).

    ``saved_sections`` are the ids of the sections the patient has saved: a saved mood page
    with item 9 blank was skipped on purpose, not just not reached yet.
    """
    a = _Answers(answers)
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
            *_red(a),
            *_item9_skipped(a, frozenset(saved_sections)),
            *_amber(a),
            *_see_doctor(a),
            *_info(a),
        ),
    )


def is_crisis(answers: Mapping[str, object]) -> bool:
    """Any RED rule fires; works on a partial set of answers (e.g. one section's)."""
    return bool(_red(_Answers(answers)))


def alerts_for_choice(question_id: str, value: str) -> frozenset[str]:
    """The alert kinds this one answer raises on its own (to mark choices for the script)."""
    return score({question_id: [value] if question(question_id).kind == "multi" else value}).alerts
