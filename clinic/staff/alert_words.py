"""Intake alerts in plain words, for staff pages (the template filters of the same names).

A kind says why staff should look, never an answer; still, it comes from the answers, so only
staff who may read the consult's intake see it. The front desk and other practitioners see
how urgent the alert is, which is what they need to act on it.
"""

from __future__ import annotations

from flask_login import current_user

from clinic.accounts.access import can_read_intake
from clinic.core.models import URGENT_ALERT_KINDS, AlertAction, AlertKind, Appointment

ALERT_KINDS = {
    AlertKind.EMERGENCY.value: "Possible emergency now",
    AlertKind.SELF_HARM.value: "Possible risk of self-harm",
    AlertKind.SEE_DOCTOR.value: "Should see a doctor soon",
    AlertKind.HIGH_SCORE.value: "High questionnaire score",
    AlertKind.ITEM9_SKIPPED.value: "Self-harm question left blank",
}
ALERT_ACTIONS = {
    AlertAction.CALLED.value: "Called the patient",
    AlertAction.EMAILED.value: "Emailed the patient",
    AlertAction.REFERRED.value: "Referred",
    AlertAction.OTHER.value: "Something else (say what in the note)",
}
# How an acknowledgement reads afterwards ("Acknowledged by Ann: called the patient").
DONE = {
    AlertAction.CALLED.value: "called the patient",
    AlertAction.EMAILED.value: "emailed the patient",
    AlertAction.REFERRED.value: "referred",
    AlertAction.OTHER.value: "something else",
}


# What staff who may not read the intake see in place of the kind.
URGENT_WORDS = "Intake needs review now"
REVIEW_WORDS = "Intake needs review soon"


def alert_kind(kind: str, appointment: Appointment | None = None) -> str:
    """The kind in words; given the consult, only if the signed-in user may read its intake."""
    if appointment is not None and not can_read_intake(current_user, appointment):
        return URGENT_WORDS if kind in URGENT_ALERT_KINDS else REVIEW_WORDS
    return ALERT_KINDS.get(kind, kind.replace("_", " "))


def alert_action(action: str) -> str:
    return DONE.get(action, action.replace("_", " "))
