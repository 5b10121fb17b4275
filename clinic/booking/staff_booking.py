"""A consult booked by staff on a patient's behalf: a phone call to the front desk."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from clinic.booking import services
from clinic.booking.services import PatientDetails
from clinic.core.audit import audit
from clinic.core.models import Appointment, StaffUser


def book_for_patient(
    practitioner_id: int | None,
    start: datetime,
    patient_zone: ZoneInfo,
    details: PatientDetails,
    user: StaffUser,
    now: datetime,
    uid_domain: str,
    *,
    address: str,
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
        before_commit=lambda booked: audit(
            "consult_booked",
            user,
            subject=f"consult {booked.reference}",
            now=now,
            commit=False,
            address=address,
        ),
    )
    return appointment
