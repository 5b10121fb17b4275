"""Intake alerts in plain words, for staff pages (the template filters of the same names).

A kind says why staff should look, in the words the front desk may see: never an answer.
"""

from __future__ import annotations

from clinic.models import AlertAction, AlertKind

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


def alert_kind(kind: str) -> str:
    return ALERT_KINDS.get(kind, kind.replace("_", " "))


def alert_action(action: str) -> str:
    return DONE.get(action, action.replace("_", " "))
