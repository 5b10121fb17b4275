"""Rescheduling and cancelling a booked consult (the manage link). Each call is one transaction.

A reschedule takes the same locks and the same checks as a new booking (invariant 1), keeps
the consult's calendar UID and raises its SEQUENCE (invariant 4); the emails it causes are
written in the same transaction (invariant 3).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from clinic.availability.open_times import availabilities, consult_type, rules_for
from clinic.booking.services import (
    NotBookable,
    SlotTaken,
    around,
    check_bookable_window,
    commit_or_taken,
    expire_lapsed_holds,
    find_by_token,
    nearby_times,
    why_not,
)
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, lock_rows
from clinic.core.extensions import db
from clinic.core.models import Appointment, ClinicSettings, Practitioner, Status
from clinic.notify.outbox import notify_cancelled, notify_rescheduled
from clinic.scheduling.slots import slot_at

__all__ = [
    "NotBookable",
    "SlotTaken",
    "TooLate",
    "NotChangeable",
    "cancel",
    "mark_cancelled",
    "move",
    "reschedule",
]


class TooLate(Exception):
    """The consult starts too soon to change it online."""


class NotChangeable(Exception):
    """The consult is cancelled or over: there is nothing to change."""


def change_deadline(appointment: Appointment, settings: ClinicSettings) -> datetime:
    """Until when the patient may reschedule or cancel online."""
    return appointment.starts_at - timedelta(minutes=settings.change_cutoff_minutes)


def can_change(appointment: Appointment, settings: ClinicSettings, now: datetime) -> bool:
    return appointment.status == Status.CONFIRMED and now < change_deadline(appointment, settings)


def reschedule(token: str, new_start: datetime, now: datetime) -> Appointment:
    """Move the consult behind ``token`` to ``new_start``, with the same practitioner."""
    appointment = _lock(token, now)
    _check_changeable(appointment, now)
    if new_start == appointment.starts_at:
        db.session.rollback()
        return appointment
    move(appointment, new_start, now)
    commit_or_taken(appointment.practitioner_id, new_start, now)
    return appointment


def move(appointment: Appointment, new_start: datetime, now: datetime) -> None:
    """Inside the write transaction, with the practitioner locked: move the consult to
    ``new_start`` if the practitioner is free then, and write the updated invites.

    The caller commits (``commit_or_taken``). Rolls back and raises ``SlotTaken`` or
    ``NotBookable`` when the time cannot be had.
    """
    settings, kind = clinic_settings(), consult_type()
    rules = rules_for(settings, kind)
    check_bookable_window(new_start, now, rules)
    practitioner_id = appointment.practitioner_id
    expire_lapsed_holds([practitioner_id], now)
    [availability] = availabilities(
        [appointment.practitioner], around(new_start), now, ignore_appointment=appointment.id
    )
    if slot_at(availability, rules, new_start, now) is None:
        reason = why_not([availability], rules, new_start, now)
        nearby = nearby_times(practitioner_id, new_start, now, rules, [availability])
        db.session.rollback()
        if reason is None:
            raise SlotTaken(nearby)
        raise NotBookable(reason)
    previous = appointment.starts_at
    appointment.starts_at = new_start
    appointment.ends_at = new_start + rules.duration
    appointment.sequence += 1
    appointment.updated_at = now
    notify_rescheduled(appointment, settings, previous, now)


def cancel(token: str, reason: str, now: datetime) -> Appointment:
    """Cancel the consult behind ``token``. Cancelling twice is harmless."""
    appointment = _lock(token, now)
    if appointment.status == Status.CANCELLED:
        db.session.rollback()
        return appointment
    _check_changeable(appointment, now)
    mark_cancelled(appointment, reason, now)
    db.session.commit()
    return appointment


def mark_cancelled(appointment: Appointment, reason: str, now: datetime) -> None:
    """Inside the write transaction: cancel the consult and write the cancellations (both
    people get a METHOD:CANCEL; pending reminders are dropped). The caller commits."""
    appointment.status = Status.CANCELLED.value
    appointment.cancelled_at = now
    appointment.cancel_reason = reason.strip()[:500]
    appointment.sequence += 1
    appointment.updated_at = now
    notify_cancelled(appointment, now)


def _lock(token: str, now: datetime) -> Appointment:
    """Begin the write transaction; the consult behind ``token``, its practitioner locked."""
    begin_write()
    appointment = find_by_token(token, now)
    lock_rows(Practitioner, [appointment.practitioner_id])
    db.session.refresh(appointment)
    return appointment


def _check_changeable(appointment: Appointment, now: datetime) -> None:
    """Roll back and refuse unless the consult is booked and outside the change window."""
    if appointment.status != Status.CONFIRMED:
        db.session.rollback()
        raise NotChangeable("This consult is no longer booked, so it can't be changed.")
    if not can_change(appointment, clinic_settings(), now):
        db.session.rollback()
        raise TooLate("This consult starts too soon to change online.")
