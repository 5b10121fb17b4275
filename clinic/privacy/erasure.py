"""Erasing a patient on their request: their personal and health data go, the schedule stays.

The patient rows are deleted rather than anonymised: nothing else needs them once their
consults are parted from them, and a placeholder row would only be a row to explain. Each
consult row stays for the schedule's history (when, with whom, what became of it), parted from
the patient (``clinic.privacy.records.anonymise_consults``). A booked consult that has not ended
is cancelled first, since a patient who asked to be erased cannot keep a slot the clinic can
no longer tell them about: only the practitioner is emailed, with no patient named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from clinic.booking.lifecycle import mark_cancelled
from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, lock_rows, rowcount
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    CalendarCopy,
    OutboxMessage,
    Patient,
    Practitioner,
    Status,
)
from clinic.core.models.own_calendars import STALE
from clinic.privacy.records import (
    UNSENT,
    anonymise_consults,
    consults_of,
    counted,
    delete_health_records,
    forget_sign_in_attempts,
    messages_to,
    patients_with_email,
)

# The cancellation's reason, in the practitioner's email and on the consult: no patient named.
CANCEL_REASON = "Cancelled by the clinic at the patient's request."


class ErasureInterrupted(ClinicError, RuntimeError):
    """Something changed the patient's records at the same moment; nothing was erased."""

    status = 503


@dataclass(frozen=True)
class Cancelled:
    reference: str
    starts_at: datetime
    practitioner: str


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed (or, from a dry run, would remove)."""

    patients: int = 0
    consults: int = 0  # parted from the patient and kept
    cancelled: tuple[Cancelled, ...] = ()
    intakes: int = 0
    notes: int = 0
    emails: int = 0  # outbox messages to the patient, deleted
    unsent: int = 0  # of which a worker had yet to send
    sign_ins: int = 0  # audit subjects that held the email

    @property
    def found(self) -> bool:
        return any((self.patients, self.emails, self.sign_ins))

    def __str__(self) -> str:
        return (
            f"{counted(self.patients, 'patient record')}, {counted(self.consults, 'consult')} "
            f"anonymised and kept ({len(self.cancelled)} upcoming cancelled), "
            f"{counted(self.intakes, 'intake')}, {counted(self.notes, 'staff note')}, "
            f"{counted(self.emails, 'email')} to the patient ({self.unsent} not yet sent), "
            f"{counted(self.sign_ins, 'failed staff sign-in')} under the address"
        )


def erase_patient(email: str, now: datetime, *, dry_run: bool = False) -> Erasure:
    """Erase everything held under ``email`` (case-insensitive) in one audited transaction.

    With ``dry_run`` the same work is done and rolled back, so the counts are exact.
    Erasing an email with nothing left is harmless and writes nothing.
    """
    try:
        return _erase(email, now, dry_run)
    except IntegrityError:  # e.g. a booking under this email committed meanwhile
        db.session.rollback()
        raise ErasureInterrupted(
            "The patient's records changed while erasing (a new booking?); nothing was "
            "erased. Please run the command again."
        ) from None


def _erase(email: str, now: datetime, dry_run: bool) -> Erasure:
    """The erasure's one transaction. Foreign keys are checked statement by statement, so a
    clash with a booking committed meanwhile can surface at any write, not only the commit."""
    begin_write()
    patients = patients_with_email(email)
    consults = consults_of([p.id for p in patients])
    upcoming = _lock_upcoming(consults, now)
    ids = [c.id for c in consults]
    unsent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(messages_to(email, ids), OutboxMessage.status.in_(UNSENT))
    )
    emails = rowcount(db.session.execute(sa.delete(OutboxMessage).where(messages_to(email, ids))))
    intakes, notes = delete_health_records(ids)
    sign_ins = forget_sign_in_attempts(email)
    anonymise_consults(ids, clinic_settings().timezone)
    # Copies in practitioners' own calendars are written again, without the patient's name.
    # (A copy being written now stays due, and is written again once that is done.)
    written = CalendarCopy.written_sequence
    db.session.execute(
        sa.update(CalendarCopy)
        .where(CalendarCopy.appointment_id.in_(ids))
        .values(
            written_sequence=sa.case(
                (written.is_(None), sa.null()), else_=sa.literal(STALE, sa.Integer)
            ),
            due_at=now,
            attempts=0,
        )
    )
    cancelled = tuple(_cancel(c, now) for c in upcoming)
    if patients:
        db.session.execute(sa.delete(Patient).where(Patient.id.in_([p.id for p in patients])))
    result = Erasure(
        len(patients), len(ids), cancelled, intakes, notes, emails, unsent or 0, sign_ins
    )
    if dry_run or not result.found:
        db.session.rollback()
        return result
    subject = ", ".join(f"patient {p.id}" for p in patients) or "no patient record"
    audit(
        "patient_erased",
        None,
        subject=subject[:120],
        detail=str(result),
        now=now,
        commit=False,
        address="",
    )
    db.session.commit()
    return result


def _lock_upcoming(consults: list[Appointment], now: datetime) -> list[Appointment]:
    """The booked consults that have not ended, their practitioners locked (invariant 1)."""
    upcoming = [c for c in consults if c.status == Status.CONFIRMED and c.ends_at > now]
    if not upcoming:
        return []
    lock_rows(Practitioner, {c.practitioner_id for c in upcoming})
    for consult in upcoming:
        db.session.refresh(consult)
    return [c for c in upcoming if c.status == Status.CONFIRMED and c.ends_at > now]


def _cancel(consult: Appointment, now: datetime) -> Cancelled:
    """Cancel an already anonymised consult: the cancellation goes to the practitioner only."""
    consult.patient = None
    mark_cancelled(consult, CANCEL_REASON, now)
    return Cancelled(consult.reference, consult.starts_at, consult.practitioner.name)
