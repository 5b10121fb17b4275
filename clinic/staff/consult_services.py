"""What staff do to a consult: cancel, reschedule, record the outcome, add a note, book one,
acknowledge an intake alert.

Each public function is one transaction, audited inside it. Changes of time take the same
locks and checks as a patient's own booking (invariant 1) and write the same emails to the
outbox (invariant 3); staff are not bound by the patients' online change window.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.accounts.services import audit
from clinic.booking import lifecycle as changes
from clinic.booking import services
from clinic.booking.services import NotBookable, PatientDetails, SlotTaken, commit_or_taken
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, lock_rows
from clinic.core.extensions import db
from clinic.core.formatting import parse_zone, when_label
from clinic.core.models import (
    AlertAction,
    Appointment,
    ConsultNote,
    IntakeAlert,
    Practitioner,
    StaffUser,
    Status,
)
from clinic.notify.outbox import drop_reminders

__all__ = [
    "NotBookable",
    "SlotTaken",
    "AlertNotFound",
    "ConsultNotFound",
    "Refused",
    "acknowledge_alert",
    "add_note",
    "book_for_patient",
    "cancel",
    "record_outcome",
    "reschedule",
]

OUTCOMES = (Status.COMPLETED.value, Status.NO_SHOW.value)
REFERENCE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}")


class ConsultNotFound(LookupError):
    """No booked consult has that reference."""


class AlertNotFound(LookupError):
    """The consult has no alert with that id."""


class Refused(Exception):
    """The consult's state does not allow this (a plain-language reason)."""


def find_consult(reference: str) -> Appointment | None:
    """The consult staff can see under ``reference``: never a hold or a lapsed hold."""
    if not REFERENCE.fullmatch(reference):
        return None  # not one we could have made (and nothing odd reaches the database)
    found = db.session.scalar(sa.select(Appointment).where(Appointment.reference == reference))
    if found is None or found.status in (Status.HELD, Status.EXPIRED):
        return None
    return found


def can_move(appointment: Appointment, now: datetime) -> bool:
    """Moved or cancelled by staff: booked and not yet over."""
    return appointment.status == Status.CONFIRMED and now < appointment.ends_at


def can_mark(appointment: Appointment, now: datetime) -> bool:
    """Marked completed or no-show: booked (or already marked) and started."""
    return appointment.status in (Status.CONFIRMED, *OUTCOMES) and now >= appointment.starts_at


def cancel(reference: str, reason: str, user: StaffUser, now: datetime) -> Appointment:
    """Cancel a booked consult that has not ended; both people get the cancellation."""
    appointment = _lock(reference)
    if appointment.status != Status.CONFIRMED:
        _refuse("Only a booked consult can be cancelled; this one is " + _status(appointment))
    if not can_move(appointment, now):
        _refuse("This consult is over: mark it completed or no-show instead.")
    changes.mark_cancelled(appointment, reason, now)
    _audit("consult_cancelled", user, appointment, now)
    db.session.commit()
    return appointment


def reschedule(
    reference: str, new_start: datetime, user: StaffUser, now: datetime
) -> tuple[Appointment, datetime]:
    """Move a booked consult to a free time of the same practitioner; returns it and its
    previous start. Both people get the updated invite."""
    appointment = _lock(reference)
    if not can_move(appointment, now):
        _refuse("Only a booked consult that has not ended can be moved.")
    previous = appointment.starts_at
    if new_start == previous:
        _refuse("That is already the consult's time; nothing changed.")
    changes.move(appointment, new_start, now)
    zone = parse_zone(clinic_settings().timezone)
    _audit("consult_rescheduled", user, appointment, now, f"from {when_label(previous, zone)}")
    commit_or_taken(appointment.practitioner_id, new_start, now)
    return appointment, previous


def record_outcome(reference: str, outcome: str, user: StaffUser, now: datetime) -> Appointment:
    """Mark a consult that has started as completed or as a no-show (or correct that mark)."""
    if outcome not in OUTCOMES:
        raise Refused("Please choose completed or no-show.")
    appointment = _lock(reference)
    if not can_mark(appointment, now):
        if appointment.status not in (Status.CONFIRMED, *OUTCOMES):
            _refuse("Only a booked consult can be marked; this one is " + _status(appointment))
        _refuse("This consult has not started yet, so it can't be marked yet.")
    if appointment.status == outcome:
        db.session.rollback()
        return appointment
    appointment.status = outcome
    appointment.updated_at = now
    drop_reminders(appointment, "The consult has taken place.")
    _audit(f"consult_{outcome}", user, appointment, now)
    db.session.commit()
    return appointment


def add_note(reference: str, body: str, user: StaffUser, now: datetime) -> ConsultNote:
    begin_write()
    appointment = find_consult(reference)
    if appointment is None:
        db.session.rollback()
        raise ConsultNotFound(reference)
    note = ConsultNote(appointment=appointment, author=user, at=now, body=body.strip())
    db.session.add(note)
    _audit("note_added", user, appointment, now)
    db.session.commit()
    return note


MAX_ROW_ID = 2**63 - 1  # the largest id a database row can have


def acknowledge_alert(
    reference: str, alert_id: int, action: str, note: str, user: StaffUser, now: datetime
) -> IntakeAlert:
    """Record that ``user`` took on one of the consult's alerts and what they did; an
    acknowledged alert no longer escalates. Once per alert: a second time changes nothing."""
    if not 0 < alert_id <= MAX_ROW_ID:  # a number no row can have (and SQLite can't bind)
        raise AlertNotFound(alert_id)
    if action not in {a.value for a in AlertAction}:
        raise Refused("Please choose what was done.")
    note = (note or "").strip()
    if len(note) > 500:
        raise Refused("Please keep the note under 500 characters.")
    begin_write()
    alert = db.session.scalar(
        sa.select(IntakeAlert)
        .join(IntakeAlert.appointment)
        .where(IntakeAlert.id == alert_id, Appointment.reference == reference)
        .with_for_update(of=IntakeAlert)  # against a second acknowledgement or an escalation
    )
    if alert is None or find_consult(reference) is None:
        db.session.rollback()
        raise AlertNotFound(alert_id)
    if alert.acknowledged_at is not None:
        who = alert.acknowledged_by
        name = (who.name or who.email) if who else "a former staff member"
        when = when_label(alert.acknowledged_at, parse_zone(clinic_settings().timezone))
        _refuse(f"This alert was already acknowledged by {name} on {when}; nothing changed.")
    alert.acknowledged_at = now
    alert.acknowledged_by = user
    alert.action = action
    alert.note = note
    # The alert's id, never its kind: the audit log outlives an erasure, and the kind says why.
    _audit("alert_acknowledged", user, alert.appointment, now, f"alert {alert.id}, {action}")
    db.session.commit()
    return alert


def book_for_patient(
    practitioner_id: int | None,
    start: datetime,
    patient_zone: ZoneInfo,
    details: PatientDetails,
    user: StaffUser,
    now: datetime,
    uid_domain: str,
) -> Appointment:
    """Book a consult on a patient's behalf (a phone call); the patient gets the usual emails."""
    appointment, _token = services.book(
        practitioner_id,
        start,
        patient_zone,
        details,
        now,
        uid_domain,
        source="staff",
        before_commit=lambda booked: _audit("consult_booked", user, booked, now),
    )
    return appointment


def _lock(reference: str) -> Appointment:
    """Begin the write transaction: the consult, its practitioner locked (invariant 1)."""
    begin_write()
    appointment = find_consult(reference)
    if appointment is None:
        db.session.rollback()
        raise ConsultNotFound(reference)
    lock_rows(Practitioner, [appointment.practitioner_id])
    db.session.refresh(appointment)
    return appointment


def _refuse(reason: str) -> None:
    db.session.rollback()
    raise Refused(reason)


def _status(appointment: Appointment) -> str:
    return appointment.status.replace("_", " ") + "."


def _audit(
    action: str, user: StaffUser, appointment: Appointment, now: datetime, detail: str = ""
) -> None:
    audit(
        action,
        user,
        subject=f"consult {appointment.reference}",
        detail=detail,
        now=now,
        commit=False,
    )
