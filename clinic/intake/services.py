"""Saving intake answers, one section at a time. Each public function owns one transaction.

A section is checked whole before anything is stored: an unknown question, a value outside a
question's scale or an over-long text refuses the page with a message and changes nothing.
The first answer that signals risk (a RED flag) marks the consult urgent and writes an alert to
staff in the same transaction (DESIGN invariant 6); the alert carries no health details.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from clinic.booking.services import HoldNotFound, find_by_token
from clinic.database import begin_write
from clinic.extensions import db
from clinic.intake.questionnaire import SECTIONS, VERSION, InvalidAnswer, clean_answer, section
from clinic.intake.scoring import score
from clinic.models import Appointment, IntakeResponse, Status
from clinic.notify.outbox import notify_urgent_intake

__all__ = ["HoldNotFound", "IntakeClosed", "InvalidSubmission", "check_open", "save_section"]

# Form fields that are not answers.
FORM_FIELDS = frozenset({"csrf_token", "action"})


class IntakeClosed(Exception):
    """The consult is cancelled, over or has started: its intake can no longer change."""


@dataclass
class InvalidSubmission(Exception):
    """The page's answers were refused; ``errors`` maps question ids to messages."""

    message: str
    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def check_open(appointment: Appointment, now: datetime) -> None:
    """Raise ``IntakeClosed`` unless the consult is booked and has not started."""
    if appointment.status != Status.CONFIRMED:
        raise IntakeClosed("This consult is not booked, so its questionnaire is closed.")
    if now >= appointment.starts_at:
        raise IntakeClosed("Your consult has started, so the questionnaire can't be changed now.")


def next_section(section_id: str) -> str | None:
    ids = [s.id for s in SECTIONS]
    position = ids.index(section_id)
    return ids[position + 1] if position + 1 < len(ids) else None


def save_section(
    token: str, section_id: str, form: Mapping[str, Sequence[str]], now: datetime
) -> IntakeResponse:
    """Store the answers to one section (``form`` maps field names to lists of values)."""
    part = section(section_id)  # KeyError for an unknown section: the view answers 404
    begin_write()
    appointment = find_by_token(token, now)
    try:
        check_open(appointment, now)
        values = _clean(part, form)
    except (IntakeClosed, InvalidSubmission):
        db.session.rollback()
        raise
    response = appointment.intake
    if response is None:
        response = IntakeResponse(appointment=appointment, version=VERSION, started_at=now)
        db.session.add(response)
    answers = dict(response.answers or {})
    for question_id, value in values.items():
        if value is None:
            answers.pop(question_id, None)
        else:
            answers[question_id] = value
    response.answers = answers
    response.version = VERSION
    done = list(response.sections_done or [])
    if section_id not in done:
        done.append(section_id)
    response.sections_done = done
    response.updated_at = now
    if response.completed_at is None and {s.id for s in SECTIONS} <= set(done):
        response.completed_at = now
    if score(answers).urgent and response.urgent_at is None:
        # Flagged once and kept: a later change of answer does not quietly clear it.
        response.urgent_at = now
        appointment.urgent = True
        notify_urgent_intake(appointment, now)
    db.session.commit()
    return response


def _clean(part, form: Mapping[str, Sequence[str]]) -> dict[str, object]:
    known = {q.id for q in part.questions}
    unknown = set(form) - known - FORM_FIELDS
    if unknown:
        raise InvalidSubmission(
            "We didn't recognise part of this form. Please reload the page and try again."
        )
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for question in part.questions:
        raw = list(form.get(question.id, []))
        given: str | list[str] = raw if question.kind == "multi" else (raw[0] if raw else "")
        if question.kind != "multi" and len(raw) > 1:
            errors[question.id] = "Please give one answer to this question."
            continue
        try:
            values[question.id] = clean_answer(question, given)
        except InvalidAnswer as problem:
            errors[question.id] = str(problem)
    if errors:
        raise InvalidSubmission("Some answers need another look; see the messages below.", errors)
    return values
