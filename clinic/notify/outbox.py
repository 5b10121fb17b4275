"""Writing emails to the outbox, inside the caller's transaction (invariant 3 in ARCHITECTURE.md).

Nothing here commits: a booking, a reschedule or a cancellation and the emails it causes are
saved together or not at all. Workers deliver them later (``clinic.notify.delivery``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import make_msgid

import sqlalchemy as sa

from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.models import Appointment, ClinicSettings, OutboxMessage, OutboxStatus, Status


class Kind:
    BOOKED = "booked"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    REMINDER = "reminder"
    URGENT_INTAKE = "urgent_intake"
    INTAKE_REVIEW = "intake_review"
    ALERT_ESCALATED = "alert_escalated"
    CALENDAR_FAILING = "calendar_failing"


# Messages about no one consult: composed from their payload alone.
NOTICES = frozenset({Kind.CALENDAR_FAILING})


PATIENT = "patient"
PRACTITIONER = "practitioner"
STAFF = "staff"


def notify_booked(appointment: Appointment, settings: ClinicSettings, now: datetime) -> None:
    """Confirmation and invite to the patient, notice and invite to the practitioner."""
    _to_both(appointment, Kind.BOOKED, now)
    _schedule_reminders(appointment, settings, now)


def notify_rescheduled(
    appointment: Appointment, settings: ClinicSettings, previous_start: datetime, now: datetime
) -> None:
    """The updated invite to both; reminders move with the consult."""
    _to_both(appointment, Kind.RESCHEDULED, now, previous_start=previous_start.isoformat())
    drop_reminders(appointment, "The consult was moved; new reminders replace this one.")
    _schedule_reminders(appointment, settings, now)


def notify_cancelled(appointment: Appointment, now: datetime) -> None:
    """The cancellation (METHOD:CANCEL) to both; pending reminders are dropped."""
    _to_both(appointment, Kind.CANCELLED, now, reason=appointment.cancel_reason)
    drop_reminders(appointment, "The consult was cancelled.")


def notify_urgent_intake(appointment: Appointment, now: datetime) -> None:
    """Tell the practitioner and the front desk an intake needs urgent review.

    The alert says which consult, never why: no answers, scores or flags leave the site.
    """
    _to_staff(appointment, Kind.URGENT_INTAKE, now)


def notify_intake_review(appointment: Appointment, now: datetime) -> None:
    """Tell the practitioner and the front desk an intake needs review soon (not urgently).

    Like the urgent alert it names the consult, never why.
    """
    _to_staff(appointment, Kind.INTAKE_REVIEW, now)


def notify_alert_escalated(
    appointment: Appointment, recipients: list[tuple[str, str]], raised_at: datetime, now: datetime
) -> None:
    """Tell each of ``recipients`` (address, name) that nobody has taken on an urgent alert
    raised at ``raised_at``. Names the consult and when, never why."""
    payload = _snapshot(appointment, now, raised_at=raised_at.isoformat())
    for address, name in recipients:
        _add(appointment, Kind.ALERT_ESCALATED, STAFF, address, name, payload, now)


def notify_calendar_failing(
    recipients: list[tuple[str, str]], payload: dict, domain: str, now: datetime
) -> None:
    """Tell each of ``recipients`` (address, name) that a practitioner's own calendar stopped
    working: ``payload`` names it (label, practitioner, since, error), never its address."""
    for address, name in recipients:
        db.session.add(
            OutboxMessage(
                appointment=None,
                kind=Kind.CALENDAR_FAILING,
                audience=STAFF,
                recipient=address,
                recipient_name=name[:120],
                payload=payload,
                message_id=make_msgid(idstring=Kind.CALENDAR_FAILING, domain=domain),
                status=OutboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


def drop_reminders(appointment: Appointment, why: str) -> None:
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.appointment_id == appointment.id,
            OutboxMessage.kind == Kind.REMINDER,
            OutboxMessage.status == OutboxStatus.PENDING.value,
        )
        .values(status=OutboxStatus.DROPPED.value, last_error=why)
    )


def _snapshot(appointment: Appointment, now: datetime, **extra: object) -> dict:
    """The facts of this version of the consult, as the message will describe them."""
    return {
        "sequence": appointment.sequence,
        "stamp": now.isoformat(),
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        **extra,
    }


def _to_both(appointment: Appointment, kind: str, now: datetime, **extra: object) -> None:
    payload = _snapshot(appointment, now, **extra)
    patient, practitioner = appointment.patient, appointment.practitioner
    if patient is not None:
        _add(appointment, kind, PATIENT, patient.email, patient.name, payload, now)
    _add(appointment, kind, PRACTITIONER, practitioner.email, practitioner.name, payload, now)


def _to_staff(appointment: Appointment, kind: str, now: datetime) -> None:
    """To the consult's practitioner, and to the clinic's contact address when it differs."""
    payload = _snapshot(appointment, now)
    practitioner = appointment.practitioner
    recipients = [(practitioner.email, practitioner.name)]
    settings = clinic_settings()
    if settings.contact_email.lower() not in ("", practitioner.email.lower()):
        recipients.append((settings.contact_email, settings.name))
    for address, name in recipients:
        _add(appointment, kind, STAFF, address, name, payload, now)


def _schedule_reminders(appointment: Appointment, settings: ClinicSettings, now: datetime) -> None:
    """A reminder at each configured offset that is still ahead (none for a too-close consult)."""
    patient = appointment.patient
    if patient is None:
        return
    for minutes in settings.reminder_offsets:
        due = appointment.starts_at - timedelta(minutes=minutes)
        if due <= now:
            continue
        payload = _snapshot(appointment, now, minutes_before=minutes)
        _add(appointment, Kind.REMINDER, PATIENT, patient.email, patient.name, payload, now, due)


def _add(
    appointment: Appointment,
    kind: str,
    audience: str,
    recipient: str,
    name: str,
    payload: dict,
    now: datetime,
    due: datetime | None = None,
) -> None:
    domain = appointment.calendar_uid.rpartition("@")[2] or "clinic.invalid"
    db.session.add(
        OutboxMessage(
            appointment=appointment,
            kind=kind,
            audience=audience,
            recipient=recipient,
            recipient_name=name[:120],
            payload=payload,
            message_id=make_msgid(idstring=kind, domain=domain),
            status=OutboxStatus.PENDING.value,
            attempts=0,
            next_attempt_at=due or now,
            created_at=now,
        )
    )


def why_unwanted(message: OutboxMessage, now: datetime) -> str:
    """Why a reminder should not go out any more ('' when it should)."""
    if message.kind != Kind.REMINDER:
        return ""
    appointment = message.appointment
    if appointment is None or appointment.status != Status.CONFIRMED:
        return "The consult is no longer booked."
    if appointment.starts_at <= now:
        return "The consult has already started."
    lead = timedelta(minutes=int(message.payload.get("minutes_before", 0)))
    if now > appointment.starts_at - lead / 2:
        # E.g. a worker back after an outage: a 24-hour reminder 3 hours before the start
        # only doubles the 1-hour one that follows.
        return "Too late to be useful: more than half its notice had passed."
    if appointment.starts_at != datetime.fromisoformat(message.payload["starts_at"]):
        return "The consult was moved."
    return ""
