"""What a patient is told after an answer that needs care: which panels show, with which numbers.

Three kinds of answer speak to the patient at once (the flag's alert kind): "emergency" (stop
and call the emergency number now; the page does not invite them to go on), "self_harm"
(crisis lines, then they may carry on) and "see_doctor" (see a doctor soon). The numbers come
from the patient's country: the one they chose, else the one their time zone is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from clinic.core.models import Appointment
from clinic.intake.crisis_help import CrisisHelp, crisis_help
from clinic.intake.crisis_lines import country_for_zone
from clinic.intake.questionnaire import Section, current_answers
from clinic.intake.scoring import EMERGENCY, SEE_DOCTOR, SELF_HARM, alerts_for_choice, score

# The panels a patient can be shown, most pressing first.
PANEL_KINDS = (EMERGENCY, SELF_HARM, SEE_DOCTOR)


@dataclass(frozen=True)
class PatientHelp:
    shown: frozenset[str]  # the panels shown when the page opens
    help: CrisisHelp


def patient_country(appointment: Appointment) -> str:
    """The country chosen on the intake, else the one the patient's time zone is in ("")."""
    intake = appointment.intake
    chosen = intake.answers.get("country") if intake else None
    if isinstance(chosen, str) and chosen:
        return "" if chosen == "other" else chosen
    return country_for_zone(appointment.patient_timezone)


def panels_for(answers: Mapping[str, object]) -> frozenset[str]:
    """The panels these answers call for."""
    return score(current_answers(answers)).alerts & frozenset(PANEL_KINDS)


def patient_help(appointment: Appointment) -> PatientHelp:
    answers = appointment.intake.answers if appointment.intake else {}
    return PatientHelp(panels_for(answers), crisis_help(patient_country(appointment)))


@cache  # the questionnaire is fixed: worked out once per section, not on every page
def choice_panels(part: Section) -> dict[tuple[str, str], str]:
    """(question id, choice value) -> the panel that choice opens on its own, for the script."""
    marked = {}
    for q in part.questions:
        for c in q.choices:
            kinds = alerts_for_choice(q.id, c.value)
            first = next((kind for kind in PANEL_KINDS if kind in kinds), None)
            if first:
                marked[(q.id, c.value)] = first
    return marked
