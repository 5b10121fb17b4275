"""Everything the clinic holds about one patient, as a JSON-ready dict (a subject access request).

What is stored is exported: details, every consult with its intake answers (the question's
words beside each value), the staff notes on it and the emails sent to the patient (kind,
times, status; never the bodies, which are composed when sent and not kept). Scores and bands
are not stored, so they are not exported; the consult's "urgent" mark is. Times are ISO 8601
in the clinic's zone, with the offset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import Appointment, IntakeResponse, OutboxMessage, Patient
from clinic.intake.questionnaire import SECTIONS
from clinic.intake.questionnaire import VERSION as CURRENT_VERSION
from clinic.intake.summary import answer_text
from clinic.privacy.records import consults_of, messages_to, normalise_email, patients_with_email

FORMAT = "clinic-patient-export/1"


class PatientNotFound(ClinicError, LookupError):
    """No patient has that email address."""

    status = 404


def export_patient(email: str, now: datetime, write: Callable[[dict], None]) -> int:
    """Build the export, hand it to ``write`` and audit it; returns the number of consults.

    ``write`` runs before the audit row is committed: if it fails, nothing is recorded.
    The audit names the patient's id only, never the email or the data. No staff user: the
    export is a command run on the server.
    """
    begin_write()  # reads, then writes the audit row: take SQLite's write lock first
    patients = patients_with_email(email)
    if not patients:
        db.session.rollback()
        raise PatientNotFound("No patient has that email address; nothing was exported.")
    settings = clinic_settings()
    zone = ZoneInfo(settings.timezone)
    consults = consults_of([p.id for p in patients])
    emails = _emails(email, [c.id for c in consults])
    data = {
        "format": FORMAT,
        "clinic": settings.name,
        "exported_at": _iso(now, zone),
        "times_zone": settings.timezone,
        "email": normalise_email(email),
        "details": [_details(p, zone) for p in patients],
        "consults": [_consult(c, zone, emails.get(c.id, [])) for c in consults],
        "other_emails": [_email(m, zone) for m in emails.get(None, [])],
    }
    try:
        write(data)
    except BaseException:
        db.session.rollback()
        raise
    subject = ", ".join(f"patient {p.id}" for p in patients)[:120]
    audit("patient_exported", None, subject=subject, now=now, commit=False, address="")
    db.session.commit()
    return len(consults)


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat()


def _details(patient: Patient, zone: ZoneInfo) -> dict:
    return {
        "name": patient.name,
        "email": patient.email,
        "phone": patient.phone,
        "marketing_opt_in": patient.marketing_opt_in,
        "first_booked_at": _iso(patient.created_at, zone),
    }


def _consult(c: Appointment, zone: ZoneInfo, emails: list[OutboxMessage]) -> dict:
    return {
        "reference": c.reference,
        "starts_at": _iso(c.starts_at, zone),
        "ends_at": _iso(c.ends_at, zone),
        "your_time_zone": c.patient_timezone,
        "practitioner": c.practitioner.name,
        "consult_type": c.consult_type.name,
        "status": c.status,
        "source": c.source,
        "booked_at": _iso(c.created_at, zone),
        "privacy_notice_accepted_at": _iso(c.privacy_consent_at, zone),
        "cancelled_at": _iso(c.cancelled_at, zone),
        "cancel_reason": c.cancel_reason,
        "marked_urgent": c.urgent,
        "intake": _intake(c.intake, zone) if c.intake is not None else None,
        "staff_notes": [{"at": _iso(n.at, zone), "text": n.body} for n in c.notes],
        "intake_alerts": [
            {
                "kind": a.kind,
                "raised_at": _iso(a.raised_at, zone),
                "acknowledged_at": _iso(a.acknowledged_at, zone),
                "what_was_done": a.action,
                "note": a.note,
            }
            for a in c.alerts
        ],
        "emails": [_email(m, zone) for m in emails],
    }


def _intake(intake: IntakeResponse, zone: ZoneInfo) -> dict:
    """The answers in questionnaire order, each with its question's words.

    The words come from the questionnaire in the code (``question_texts_version``); an answer
    whose question it no longer has is kept with its id and value, and no words.
    """
    return {
        "questionnaire_version": intake.version,
        "question_texts_version": CURRENT_VERSION,
        "started_at": _iso(intake.started_at, zone),
        "updated_at": _iso(intake.updated_at, zone),
        "completed_at": _iso(intake.completed_at, zone),
        "marked_urgent_at": _iso(intake.urgent_at, zone),
        "parts_done": list(intake.sections_done or []),
        "answers": _answer_lines(intake.answers or {}),
        # Every save as it was made, oldest first: the answers are never overwritten.
        "revisions": [
            {
                "number": r.number,
                "part": r.section_id,
                "saved_at": _iso(r.saved_at, zone),
                "answers": _answer_lines({k: v for k, v in r.answers.items() if v is not None}),
                "left_blank": sorted(k for k, v in r.answers.items() if v is None),
            }
            for r in intake.revisions
        ],
        "flags_raised": [
            {
                "level": f.level,
                "message": f.message,
                "raised_by": f.reason,
                "raised_at": _iso(f.raised_at, zone),
            }
            for f in intake.flags_raised
        ],
    }


def _answer_lines(stored: dict) -> list[dict]:
    answers = dict(stored)
    lines = []
    for part in SECTIONS:
        for q in part.questions:
            if q.id in answers:
                value = answers.pop(q.id)
                lines.append(_line(part.title, q.id, q.text, answer_text(q, value), value))
    lines += [_line(None, qid, None, str(value), value) for qid, value in sorted(answers.items())]
    return lines


def _line(part: str | None, qid: str, text: str | None, answer: str, value: object) -> dict:
    return {"part": part, "question_id": qid, "question": text, "answer": answer, "value": value}


def _emails(email: str, consult_ids: list[int]) -> dict[int | None, list[OutboxMessage]]:
    """Messages to the patient, by consult id (None: not about one of their consults)."""
    by_consult: dict[int | None, list[OutboxMessage]] = {}
    for message in db.session.scalars(
        sa.select(OutboxMessage)
        .where(messages_to(email, consult_ids))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ):
        key = message.appointment_id if message.appointment_id in consult_ids else None
        by_consult.setdefault(key, []).append(message)
    return by_consult


def _email(message: OutboxMessage, zone: ZoneInfo) -> dict:
    return {
        "kind": message.kind,
        "to": message.recipient,
        "written_at": _iso(message.created_at, zone),
        "sent_at": _iso(message.sent_at, zone),
        "status": message.status,
    }
