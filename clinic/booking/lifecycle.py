"""A booked consult's life after booking: moved, cancelled, marked completed or no-show, noted;
by the patient through their secret link or by staff through its reference.

Every change is one transaction that starts the same way (``_lock``: the write transaction,
then the practitioner's row locked, as a new booking does), so a move can never land on a
time someone else has just taken. A move keeps the consult's calendar UID and raises its
SEQUENCE; the emails a change causes are written to the outbox in the same transaction, and
staff changes are audited inside it. Patients may change a consult online until the clinic's
cut-off before it starts; staff may move or cancel it until it ends, and mark it once it starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from clinic.availability.loading import availabilities
from clinic.availability.open_times import (
    consult_type,
    nearby_times,
    rules_for,
    why_not,
)
from clinic.booking.services import (
    NotBookable,
    SlotTaken,
    around,
    check_bookable_window,
    commit_or_taken,
    expire_lapsed_holds,
    find_by_token,
)
from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, lock_rows
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.formatting import stored_zone, when_label
from clinic.core.models import (
    Appointment,
    ClinicSettings,
    ConsultNote,
    Practitioner,
    StaffUser,
    Status,
)
from clinic.notify.outbox import drop_reminders, notify_cancelled, notify_rescheduled
from clinic.own_calendars.push import consult_changed
from clinic.scheduling.slots import slot_at

OUTCOMES = (Status.COMPLETED.value, Status.NO_SHOW.value)
REFERENCE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}")


class TooLate(ClinicError):
    """The consult starts too soon for the patient to change it online."""

    status = 409


class NotChangeable(ClinicError):
    """The consult is cancelled or over: there is nothing to change."""

    status = 409


class ConsultNotFound(ClinicError, LookupError):
    """No booked consult has that reference."""

    status = 404


class Refused(ClinicError):
    """The consult's state does not allow what staff asked (a plain-language reason)."""

    status = 409


# --- the rules ---


def change_deadline(appointment: Appointment, settings: ClinicSettings) -> datetime:
    """Until when the patient may reschedule or cancel online."""
    return appointment.starts_at - timedelta(minutes=settings.change_cutoff_minutes)


def can_change(appointment: Appointment, settings: ClinicSettings, now: datetime) -> bool:
    """Moved or cancelled by the patient: booked, and before the clinic's cut-off."""
    return appointment.status == Status.CONFIRMED and now < change_deadline(appointment, settings)


def can_move(appointment: Appointment, now: datetime) -> bool:
    """Moved or cancelled by staff: booked and not yet over."""
    return appointment.status == Status.CONFIRMED and now < appointment.ends_at


def can_mark(appointment: Appointment, now: datetime) -> bool:
    """Marked completed or no-show: booked (or already marked) and started."""
    return appointment.status in (Status.CONFIRMED, *OUTCOMES) and now >= appointment.starts_at


def find_consult(reference: str) -> Appointment | None:
    """The consult staff can see under ``reference``: never a hold or a lapsed hold."""
    if not REFERENCE.fullmatch(reference):
        return None  # not one we could have made (and nothing odd reaches the database)
    found = db.session.scalar(sa.select(Appointment).where(Appointment.reference == reference))
    if found is None or found.status in (Status.HELD, Status.EXPIRED):
        return None
    return found


# --- the patient, through their link ---


def reschedule(token: str, new_start: datetime, now: datetime) -> Appointment:
    """Move the consult behind ``token`` to ``new_start``, with the same practitioner."""
    appointment = _lock(lambda: find_by_token(token, now))
    _check_changeable(appointment, now)
    if new_start == appointment.starts_at:
        db.session.rollback()
        return appointment
    move(appointment, new_start, now)
    commit_or_taken(appointment.practitioner_id, new_start, now)
    return appointment


def cancel(token: str, reason: str, now: datetime) -> Appointment:
    """Cancel the consult behind ``token``. Cancelling twice is harmless."""
    appointment = _lock(lambda: find_by_token(token, now))
    if appointment.status == Status.CANCELLED:
        db.session.rollback()
        return appointment
    _check_changeable(appointment, now)
    mark_cancelled(appointment, reason, now)
    db.session.commit()
    return appointment


# --- staff, through the consult's reference ---


def cancel_by_staff(
    reference: str, reason: str, user: StaffUser, now: datetime, *, address: str
) -> Appointment:
    """Cancel a booked consult that has not ended; both people get the cancellation."""
    appointment = _lock(lambda: _staff_find(reference))
    if appointment.status != Status.CONFIRMED:
        _refuse("Only a booked consult can be cancelled; this one is " + _status(appointment))
    if not can_move(appointment, now):
        _refuse("This consult is over: mark it completed or no-show instead.")
    mark_cancelled(appointment, reason, now)
    _audit("consult_cancelled", user, appointment, now, address=address)
    db.session.commit()
    return appointment


def reschedule_by_staff(
    reference: str, new_start: datetime, user: StaffUser, now: datetime, *, address: str
) -> tuple[Appointment, datetime]:
    """Move a booked consult to a free time of the same practitioner; returns it and its
    previous start. Both people get the updated invite."""
    appointment = _lock(lambda: _staff_find(reference))
    if not can_move(appointment, now):
        _refuse("Only a booked consult that has not ended can be moved.")
    previous = appointment.starts_at
    if new_start == previous:
        _refuse("That is already the consult's time; nothing changed.")
    move(appointment, new_start, now)
    zone = stored_zone(clinic_settings().timezone)
    detail = f"from {when_label(previous, zone)}"
    _audit("consult_rescheduled", user, appointment, now, address=address, detail=detail)
    commit_or_taken(appointment.practitioner_id, new_start, now)
    return appointment, previous


def record_outcome(
    reference: str, outcome: str, user: StaffUser, now: datetime, *, address: str
) -> Appointment:
    """Mark a consult that has started as completed or as a no-show (or correct that mark)."""
    if outcome not in OUTCOMES:
        raise Refused("Please choose completed or no-show.")
    appointment = _lock(lambda: _staff_find(reference))
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
    _audit(f"consult_{outcome}", user, appointment, now, address=address)
    db.session.commit()
    return appointment


def add_note(
    reference: str, body: str, user: StaffUser, now: datetime, *, address: str
) -> ConsultNote:
    begin_write()
    appointment = _staff_find(reference)
    note = ConsultNote(appointment=appointment, author=user, at=now, body=body.strip())
    db.session.add(note)
    _audit("note_added", user, appointment, now, address=address)
    db.session.commit()
    return note


# --- inside the write transaction (the caller commits) ---


def move(appointment: Appointment, new_start: datetime, now: datetime) -> None:
    """With the practitioner locked: move the consult to ``new_start`` if the practitioner is
    free then, and write the updated invites.

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
    consult_changed(appointment, now)


def mark_cancelled(appointment: Appointment, reason: str, now: datetime) -> None:
    """Cancel the consult and write the cancellations (both people get a METHOD:CANCEL;
    pending reminders are dropped). The caller commits."""
    appointment.status = Status.CANCELLED.value
    appointment.cancelled_at = now
    appointment.cancel_reason = reason.strip()[:500]
    appointment.sequence += 1
    appointment.updated_at = now
    notify_cancelled(appointment, now)
    consult_changed(appointment, now)


def _lock(find: Callable[[], Appointment]) -> Appointment:
    """Begin the write transaction; the consult ``find`` returns, its practitioner locked."""
    begin_write()
    appointment = find()
    lock_rows(Practitioner, [appointment.practitioner_id])
    db.session.refresh(appointment)
    return appointment


def _staff_find(reference: str) -> Appointment:
    appointment = find_consult(reference)
    if appointment is None:
        db.session.rollback()
        raise ConsultNotFound(reference)
    return appointment


def _check_changeable(appointment: Appointment, now: datetime) -> None:
    """Roll back and refuse unless the consult is booked and outside the change window."""
    if appointment.status != Status.CONFIRMED:
        db.session.rollback()
        raise NotChangeable("This consult is no longer booked, so it can't be changed.")
    if not can_change(appointment, clinic_settings(), now):
        db.session.rollback()
        raise TooLate("This consult starts too soon to change online.")


def _refuse(reason: str) -> None:
    db.session.rollback()
    raise Refused(reason)


def _status(appointment: Appointment) -> str:
    return appointment.status.replace("_", " ") + "."


def _audit(action: str, user: StaffUser, consult: Appointment, now: datetime, **kw: str) -> None:
    audit(action, user, subject=f"consult {consult.reference}", now=now, commit=False, **kw)
