"""The rules that raise flags for staff, level by level. Pure, like ``scoring``.

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

from clinic.intake.instruments import (
    AMBER,
    ASQ_ITEMS,
    EMERGENCY,
    GAD7_AMBER,
    GAD7_BANDS,
    GAD7_ITEMS,
    GAD7_SEVERE,
    HEART_ITEMS,
    HEART_SEVERE,
    HIGH_SCORE,
    HIGH_STRESS,
    INFO,
    ITEM9_SKIPPED,
    LOW_ACTIVITY_DAYS,
    PHQ9_AMBER,
    PHQ9_BANDS,
    PHQ9_ITEMS,
    PHQ9_SEVERE,
    RED,
    SEE_DOCTOR,
    SELF_HARM,
    SHORT_SLEEP_HOURS,
    UCLA3_AMBER,
    UCLA3_ITEMS,
    Answers,
    Flag,
    band,
)
from clinic.intake.questionnaire import MOOD_OVER_2_WEEKS, question

# --- Rules -------------------------------------------------------------------------------------


def _at_least(
    a: Answers,
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


def red(a: Answers) -> list[Flag]:
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


def item9_skipped(a: Answers, saved_sections: frozenset[str]) -> list[Flag]:
    if "mood" not in saved_sections or a.value("phq9_9") is not None:
        return []
    message = "PHQ-9 item 9 (death / self-harm thoughts) was left unanswered after a prompt."
    return [Flag(AMBER, "item9_skipped", message, ITEM9_SKIPPED, ("phq9_9",))]


def see_doctor(a: Answers) -> list[Flag]:
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
        items = "; ".join(question(qid).text for qid in severe)
        message = f"Rated very severe: {items}."
        flags.append(Flag(AMBER, "heart_severe", message, SEE_DOCTOR, tuple(severe)))
    return flags


def amber(a: Answers) -> list[Flag]:
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


def info(a: Answers) -> list[Flag]:
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
