"""Turns a consult row into the calendar event every invite and download is built from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clinic.calendar.ics import ConsultEvent, Person
from clinic.core.models import Appointment, ClinicSettings, Status


@dataclass(frozen=True)
class Version:
    """One version of a consult, as an invite describes it (RFC 5546: SEQUENCE, DTSTAMP)."""

    sequence: int
    stamp: datetime
    start: datetime
    end: datetime
    cancelled: bool = False

    @classmethod
    def current(cls, appointment: Appointment, stamp: datetime) -> Version:
        return cls(
            sequence=appointment.sequence,
            stamp=stamp,
            start=appointment.starts_at,
            end=appointment.ends_at,
            cancelled=appointment.status == Status.CANCELLED,
        )

    @classmethod
    def from_payload(cls, payload: dict, cancelled: bool) -> Version:
        """The version an outbox message recorded when it was written."""
        return cls(
            sequence=int(payload["sequence"]),
            stamp=datetime.fromisoformat(payload["stamp"]),
            start=datetime.fromisoformat(payload["starts_at"]),
            end=datetime.fromisoformat(payload["ends_at"]),
            cancelled=cancelled,
        )


def consult_event(
    appointment: Appointment,
    settings: ClinicSettings,
    organizer: Person,
    attendee: Person,
    version: Version,
    summary: str | None = None,
) -> ConsultEvent:
    """The consult as one calendar event: the clinic organises, ``attendee`` attends."""
    practitioner = appointment.practitioner
    link = practitioner.meeting_url(appointment.reference)
    return ConsultEvent(
        uid=appointment.calendar_uid,
        sequence=version.sequence,
        stamp=version.stamp,
        start=version.start,
        end=version.end,
        summary=summary
        or f"{appointment.consult_type.name} with {practitioner.name} ({settings.name})",
        description=description(
            appointment.consult_type.name, practitioner.name, appointment.reference, link
        ),
        location=link,
        organizer=organizer,
        attendee=attendee,
        cancelled=version.cancelled,
    )


def description(kind: str, practitioner: str, reference: str, link: str) -> str:
    """The event's text, alike in invites, downloads and feeds. ``link``: the video call's."""
    lines = [f"{kind} with {practitioner}.", f"Booking reference: {reference}"]
    if link:
        lines.append(f"Join the video call: {link}")
    lines.append(
        "This is not an emergency service. In an emergency call your local emergency number."
    )
    return "\n".join(lines)
