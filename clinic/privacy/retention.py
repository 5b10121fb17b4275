"""Retention: removing personal and health data once the consults it was for are long over.

For every consult that ended before the cut-off: its intake answers, staff notes and the
emails about it that are no longer waiting to go out are deleted; its cancellation reason
and urgent mark are cleared. Then every patient on record since before the cut-off with no
consult ending on or after it is erased as ``clinic.privacy.erasure`` would (row deleted,
consults kept, parted from them). Emails still waiting are left for the worker, except
those to an erased patient.

The audit log is kept unless ``audit_days`` is given: it is the record of who read and
changed health data, which is asked for long after the data itself is gone, so it has its
own, longer floor.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, rowcount
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import Appointment, AuditEvent, OutboxMessage, Patient
from clinic.notify.outbox import PATIENT
from clinic.privacy.records import UNSENT, anonymise_consults, counted, delete_health_records

# Manage links work for 30 days after a consult, and staff need the notes of recent ones.
MIN_DAYS = 30
# Audit events are the trail of access to health data: at least a year, whatever is asked.
MIN_AUDIT_DAYS = 365


class RetentionRefused(ClinicError, ValueError):
    """A period shorter than the floor (a plain-language reason)."""

    status = 422


@dataclass(frozen=True)
class Purge:
    intakes: int = 0
    notes: int = 0
    emails: int = 0
    reasons: int = 0  # consults whose cancellation reason or urgent mark was cleared
    patients: int = 0
    consults: int = 0  # consults parted from an erased patient
    audit_events: int = 0

    @property
    def total(self) -> int:
        return sum(astuple(self))

    def __str__(self) -> str:
        return (
            f"{counted(self.intakes, 'intake')}, {counted(self.notes, 'staff note')}, "
            f"{counted(self.emails, 'email')}, {counted(self.reasons, 'consult')} with a "
            f"cancellation reason or urgent mark cleared, {counted(self.patients, 'patient')} "
            f"erased ({counted(self.consults, 'consult')} anonymised and kept), "
            f"{counted(self.audit_events, 'audit event')}"
        )


def check_periods(days: int, audit_days: int | None) -> None:
    if days < MIN_DAYS:
        raise RetentionRefused(
            f"Please keep at least {MIN_DAYS} days: manage links work for {MIN_DAYS} days "
            "after a consult, and staff need the notes of recent consults. Nothing was removed."
        )
    if audit_days is not None and audit_days < MIN_AUDIT_DAYS:
        raise RetentionRefused(
            f"Please keep the audit log at least {MIN_AUDIT_DAYS} days: it is the record of "
            "who read and changed health data. Nothing was removed."
        )


def purge(
    days: int, now: datetime, *, audit_days: int | None = None, dry_run: bool = False
) -> Purge:
    """Remove what is older than ``days`` (and audit events older than ``audit_days``).

    One audited transaction; with ``dry_run`` the same work is rolled back, so the counts are
    exact. "Older" is measured from a consult's end and, for audit events, their time.
    """
    check_periods(days, audit_days)
    try:
        return _purge(days, now, audit_days, dry_run)
    except IntegrityError:  # a patient booked again meanwhile: try again later
        db.session.rollback()
        raise RetentionRefused(
            "A patient's records changed during the purge (a new booking?); nothing was "
            "removed. Please run the command again."
        ) from None


def _purge(days: int, now: datetime, audit_days: int | None, dry_run: bool) -> Purge:
    """The purge's one transaction (a foreign-key clash can surface at any write)."""
    cutoff = now - timedelta(days=days)
    begin_write()
    old = sa.select(Appointment.id).where(Appointment.ends_at < cutoff)
    intakes, notes = delete_health_records(old)
    emails = _delete(
        sa.delete(OutboxMessage).where(
            OutboxMessage.appointment_id.in_(old), OutboxMessage.status.not_in(UNSENT)
        )
    )
    reasons = rowcount(
        db.session.execute(
            sa.update(Appointment)
            .where(
                Appointment.id.in_(old),
                sa.or_(Appointment.cancel_reason != "", Appointment.urgent.is_(True)),
            )
            .values(cancel_reason="", urgent=False)
            .execution_options(schedule_unchanged=True)  # reasons and flags only
        )
    )
    patients, consults, to_them = _erase_patients_without_recent_consults(cutoff)
    audit_events = 0
    if audit_days is not None:
        audit_events = _delete(
            sa.delete(AuditEvent).where(AuditEvent.at < now - timedelta(days=audit_days))
        )
    result = Purge(intakes, notes, emails + to_them, reasons, patients, consults, audit_events)
    if dry_run:
        db.session.rollback()
        return result
    subject = f"older than {days} days" + (f", audit {audit_days}" if audit_days else "")
    audit(
        "data_purged", None, subject=subject, detail=str(result), now=now, commit=False, address=""
    )
    db.session.commit()
    return result


def _erase_patients_without_recent_consults(cutoff: datetime) -> tuple[int, int, int]:
    """(patients, consults kept, emails to them): patients whose every consult ended earlier."""
    recent = sa.select(Appointment.id).where(
        Appointment.patient_id == Patient.id, Appointment.ends_at >= cutoff
    )
    gone = sa.select(Patient.id).where(Patient.created_at < cutoff, ~recent.exists())
    consults = sa.select(Appointment.id).where(Appointment.patient_id.in_(gone))
    to_them = _delete(
        sa.delete(OutboxMessage).where(
            OutboxMessage.appointment_id.in_(consults), OutboxMessage.audience == PATIENT
        )
    )
    ids = list(db.session.scalars(consults))
    anonymise_consults(ids, clinic_settings().timezone)
    patients = _delete(sa.delete(Patient).where(Patient.id.in_(gone)))
    return patients, len(ids), to_them


def _delete(statement: sa.Delete) -> int:
    return rowcount(db.session.execute(statement.execution_options(synchronize_session=False)))
