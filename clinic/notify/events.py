"""Turns a consult row into the calendar event every invite and download is built from."""

from __future__ import annotations

from datetime import datetime

from clinic.models import Appointment, ClinicSettings
from clinic.notify.ics import ConsultEvent, Person


def consult_event(
    appointment: Appointment, settings: ClinicSettings, mailbox: str, stamp: datetime
) -> ConsultEvent:
    """The consult as seen by the patient: the clinic organises, the patient attends."""
    practitioner = appointment.practitioner
    link = practitioner.meeting_url(appointment.reference)
    lines = [
        f"{appointment.consult_type.name} with {practitioner.name}.",
        f"Booking reference: {appointment.reference}",
    ]
    if link:
        lines.append(f"Join the video call: {link}")
    lines.append(
        "This is not an emergency service. In an emergency call your local emergency number."
    )
    patient = appointment.patient
    return ConsultEvent(
        uid=appointment.calendar_uid,
        sequence=appointment.sequence,
        stamp=stamp,
        start=appointment.starts_at,
        end=appointment.ends_at,
        summary=f"{appointment.consult_type.name} with {practitioner.name} ({settings.name})",
        description="\n".join(lines),
        location=link,
        organizer=Person(settings.contact_email or mailbox, settings.name),
        attendee=Person(patient.email if patient else mailbox, patient.name if patient else ""),
        cancelled=appointment.status == "cancelled",
    )
