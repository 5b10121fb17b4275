"""Saving intake answers, one section at a time. Each public function owns one transaction.

A section is checked whole before anything is stored: an unknown question, a value outside a
question's scale or an over-long text refuses the page with a message and changes nothing.

Every save is kept as an ``IntakeRevision`` (append-only); ``IntakeResponse.answers`` holds
the latest value of each question. A flag is kept, with the answer that raised it, the first
time it is raised (``IntakeFlagRaised``), so changing an answer never erases the reason for
it. Each kind of alert is raised once per consult, in the same transaction (invariant 6:
crisis answers are never silent); alerts carry no health details.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from clinic.booking.services import HoldNotFound, find_by_token
from clinic.core.database import begin_write, lock_rows
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import (
    AlertKind,
    Appointment,
    AuditEvent,
    IntakeFlagRaised,
    IntakeResponse,
    IntakeRevision,
    Status,
)
from clinic.intake.alerts import raise_alert
from clinic.intake.questionnaire import (
    PRE_CONSULT,
    VERSION,
    InvalidAnswer,
    Section,
    asked,
    clean_answer,
    current_answers,
    question,
    section,
)
from clinic.intake.scoring import Scores, score
from clinic.intake.summary import answer_text

__all__ = [
    "HoldNotFound",
    "IntakeClosed",
    "InvalidSubmission",
    "Item9Prompt",
    "check_open",
    "save_section",
]

# Form fields that are not answers. ``item9_prompted`` says the patient has seen the gentle
# prompt about a blank PHQ-9 item 9, so a blank now is their choice.
PROMPTED_FIELD = "item9_prompted"
FORM_FIELDS = frozenset({"csrf_token", "action", PROMPTED_FIELD})
ITEM9 = "phq9_9"


class IntakeClosed(ClinicError):
    """The consult is cancelled, over or has started: its intake can no longer change."""

    status = 409


@dataclass
class InvalidSubmission(ClinicError):
    """The page's answers were refused; ``errors`` maps question ids to messages."""

    status = 422

    message: str
    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class Item9Prompt(ClinicError):
    """PHQ-9 item 9 was left blank: ask once, gently, before saving the page without it."""

    status = 422


def check_open(appointment: Appointment, now: datetime) -> None:
    """Raise ``IntakeClosed`` unless the consult is booked and has not started."""
    if appointment.status != Status.CONFIRMED:
        raise IntakeClosed("This consult is not booked, so its questionnaire is closed.")
    if now >= appointment.starts_at:
        raise IntakeClosed("Your consult has started, so the questionnaire can't be changed now.")


def save_section(
    token: str, section_id: str, form: Mapping[str, Sequence[str]], now: datetime
) -> IntakeResponse:
    """Store the answers to one section (``form`` maps field names to lists of values)."""
    part = section(section_id)  # KeyError for an unknown section: the view answers 404
    begin_write()
    appointment = find_by_token(token, now)
    lock_rows(Appointment, [appointment.id])  # one save at a time per consult (revisions)
    try:
        check_open(appointment, now)
        values = _clean(part, form)
        if _needs_item9_prompt(part, values, form):
            raise Item9Prompt()
    except (IntakeClosed, InvalidSubmission, Item9Prompt):
        db.session.rollback()
        raise
    response = appointment.intake
    if response is None:
        response = IntakeResponse(
            appointment=appointment, version=VERSION, started_at=now, answers={}
        )
        db.session.add(response)
        db.session.flush()
    answers = dict(response.answers or {})
    for question_id, value in values.items():
        if value is None:
            answers.pop(question_id, None)
        else:
            answers[question_id] = value
    revision = _append_revision(response, part, values, now)
    response.answers = answers
    response.version = VERSION
    if "country" in values:
        country = values["country"]  # a choice: a string, or None when unanswered
        response.country = country if isinstance(country, str) and country != "other" else ""
    done = list(response.sections_done or [])
    if section_id not in done:
        done.append(section_id)
    response.sections_done = done
    response.updated_at = now
    # Complete while every part the answers call for is saved: a later answer that calls for a
    # new part (a higher PHQ-2) makes it incomplete again, so emails offer the link again.
    if {s.id for s in asked(PRE_CONSULT, answers)} <= set(done):
        response.completed_at = response.completed_at or now
    else:
        response.completed_at = None
    counted = current_answers(answers)
    scores = score(counted, _saved_in_this_version(response))
    _keep_flags(response, scores, counted, revision, now)
    for kind in sorted(scores.alerts):
        raise_alert(appointment, AlertKind(kind), now)
    if scores.urgent and response.urgent_at is None:
        # Flagged once and kept: a later change of answer does not quietly clear it.
        response.urgent_at = now
    db.session.add(
        AuditEvent(
            at=now,
            action="intake_saved",
            subject=f"consult {appointment.reference}",
            # The revision's number only: which parts were saved can say why (the ASQ is asked
            # after item 9), and the audit log outlives an erasure.
            detail=f"revision {revision.number}",
        )
    )
    db.session.commit()
    return response


def _saved_in_this_version(response: IntakeResponse) -> set[str]:
    """The parts saved under the current questionnaire (this save's included): a mood page
    saved before the blank item 9 prompt existed was never prompted, so it is no skip."""
    return set(
        db.session.scalars(
            sa.select(IntakeRevision.section_id).where(
                IntakeRevision.response_id == response.id, IntakeRevision.version == VERSION
            )
        )
    )


def _needs_item9_prompt(part: Section, values: Mapping[str, object], form) -> bool:
    asks_item9 = any(q.id == ITEM9 for q in part.questions)
    return asks_item9 and values.get(ITEM9) is None and not form.get(PROMPTED_FIELD)


def _append_revision(
    response: IntakeResponse, part: Section, values: Mapping[str, object], now: datetime
) -> IntakeRevision:
    last = db.session.scalar(
        sa.select(sa.func.max(IntakeRevision.number)).where(
            IntakeRevision.response_id == response.id
        )
    )
    revision = IntakeRevision(
        response_id=response.id,
        number=(last or 0) + 1,
        section_id=part.id,
        version=VERSION,
        answers=dict(values),
        saved_at=now,
    )
    db.session.add(revision)
    return revision


def _keep_flags(
    response: IntakeResponse,
    scores: Scores,
    answers: Mapping[str, object],
    revision: IntakeRevision,
    now: datetime,
) -> None:
    """Record each flag the first time it is raised, with the answers that raised it."""
    known = set(
        db.session.scalars(
            sa.select(IntakeFlagRaised.code).where(IntakeFlagRaised.response_id == response.id)
        )
    )
    for flag in scores.flags:
        if flag.code in known:
            continue
        db.session.add(
            IntakeFlagRaised(
                response_id=response.id,
                code=flag.code,
                level=flag.level,
                message=flag.message[:300],
                reason=_reason(flag.questions, answers),
                revision=revision.number,
                raised_at=now,
            )
        )


def _reason(question_ids: Sequence[str], answers: Mapping[str, object]) -> str:
    """The answers behind a flag, in the questionnaire's words: 'Question: answer' per line."""
    lines = []
    for qid in question_ids:
        q = question(qid)
        value = answers.get(qid)
        shown = "(left blank)" if value in (None, "", []) else answer_text(q, value)
        lines.append(f"{q.text}: {shown}")
    return "\n".join(lines)


def _clean(part, form: Mapping[str, Sequence[str]]) -> dict[str, object]:
    known = {q.id for q in part.questions}
    unknown = set(form) - known - FORM_FIELDS
    if unknown:
        raise InvalidSubmission(
            "We didn't recognise part of this form. Please reload the page and try again."
        )
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for q in part.questions:
        raw = list(form.get(q.id, []))
        given: str | list[str] = raw if q.kind == "multi" else (raw[0] if raw else "")
        if q.kind != "multi" and len(raw) > 1:
            errors[q.id] = "Please give one answer to this question."
            continue
        try:
            values[q.id] = clean_answer(q, given)
        except InvalidAnswer as problem:
            errors[q.id] = str(problem)
    if errors:
        raise InvalidSubmission("Some answers need another look; see the messages below.", errors)
    return values
