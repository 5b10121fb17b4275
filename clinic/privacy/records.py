"""Where a patient's personal and health data lives, and how a consult is parted from it.

Shared by erasure (``clinic.privacy.erasure``) and retention (``clinic.privacy.retention``). Nothing
here commits: the caller's transaction takes the write lock first (``begin_write``).

Personal or health data sits in: the ``patient`` row (name, email, phone, marketing choice);
on each consult, ``patient_id``, ``patient_timezone``, ``cancel_reason`` (the patient's own
words), ``urgent`` (derived from intake answers) and the manage link's salt and hash;
``intake_response`` (the answers); ``consult_note`` (staff's words about the consult);
``outbox_message`` rows to the patient (their address and name) and the ``reason`` in the
payload of cancellations; ``audit_event`` subjects of failed staff sign-ins (the email typed).
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from clinic.core.database import rowcount
from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    AuditEvent,
    ConsultNote,
    IntakeAlert,
    IntakeResponse,
    OutboxMessage,
    OutboxStatus,
    Patient,
)
from clinic.notify.outbox import PATIENT, Kind

# An anonymised consult's manage-link hash: never 64 hex digits, so no token can match it.
DEAD_LINK_PREFIX = "erased-"
# Messages a worker may still send.
UNSENT = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
# What replaces a failed sign-in's subject when it held the erased email.
ERASED_SUBJECT = "[erased]"

ConsultIds = Collection[int] | sa.Select


def counted(number: int, singular: str, plural: str = "") -> str:
    """'1 intake', '2 intakes', '0 staff notes': for the commands' reports and audit details."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def patients_with_email(email: str) -> list[Patient]:
    """Every patient row for ``email``, matched case-insensitively (rows are not unique)."""
    return list(
        db.session.scalars(
            sa.select(Patient)
            .where(sa.func.lower(Patient.email) == normalise_email(email))
            .order_by(Patient.id)
        )
    )


def consults_of(patient_ids: Collection[int]) -> list[Appointment]:
    if not patient_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Appointment)
            .where(Appointment.patient_id.in_(patient_ids))
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def messages_to(email: str, consult_ids: ConsultIds) -> sa.ColumnElement[bool]:
    """Outbox rows addressed to the patient: on their consults, or to their address."""
    return sa.or_(
        sa.and_(OutboxMessage.appointment_id.in_(consult_ids), OutboxMessage.audience == PATIENT),
        sa.and_(
            sa.func.lower(OutboxMessage.recipient) == normalise_email(email),
            OutboxMessage.audience == PATIENT,  # not a practitioner's or the clinic's mail
        ),
    )


def delete_health_records(consult_ids: ConsultIds) -> tuple[int, int]:
    """Delete the intake answers (their revisions and kept flags go with them), the intake
    alerts (their kind says why) and staff notes of these consults: (intakes, notes)."""
    db.session.execute(sa.delete(IntakeAlert).where(IntakeAlert.appointment_id.in_(consult_ids)))
    intakes = rowcount(
        db.session.execute(
            sa.delete(IntakeResponse).where(IntakeResponse.appointment_id.in_(consult_ids))
        )
    )
    notes = rowcount(
        db.session.execute(
            sa.delete(ConsultNote).where(ConsultNote.appointment_id.in_(consult_ids))
        )
    )
    return intakes, notes


def anonymise_consults(consult_ids: ConsultIds, clinic_zone: str) -> None:
    """Part these consults from their patient; times, practitioner and status stay.

    The patient's zone becomes the clinic's (pages still need one), the manage and intake
    link stops working, and messages about the consult still waiting for a worker go to the
    practitioner only (the patient's are deleted by the caller) with no cancellation reason.
    """
    db.session.execute(
        sa.update(Appointment)
        .where(Appointment.id.in_(consult_ids))
        .values(
            patient_id=None,
            patient_timezone=clinic_zone,
            cancel_reason="",
            urgent=False,
            link_salt="",
            manage_token_hash=sa.literal(DEAD_LINK_PREFIX) + sa.cast(Appointment.id, sa.String),
        )
        # The patient's details go; the consult's time and status stay as they were.
        .execution_options(synchronize_session="fetch", schedule_unchanged=True)
    )
    cancellations = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.appointment_id.in_(consult_ids), OutboxMessage.kind == Kind.CANCELLED
        )
    )
    for message in cancellations:
        if message.payload.get("reason"):
            message.payload = {**message.payload, "reason": ""}  # a new dict: JSON is not tracked


def forget_sign_in_attempts(email: str) -> int:
    """Blank the audit subjects that hold ``email`` (failed staff sign-ins); the events stay.

    Sign-in subjects keep the typed email's first 120 characters, so those are compared.
    """
    return rowcount(
        db.session.execute(
            sa.update(AuditEvent)
            .where(sa.func.lower(AuditEvent.subject) == normalise_email(email)[:120])
            .values(subject=ERASED_SUBJECT)
        )
    )
