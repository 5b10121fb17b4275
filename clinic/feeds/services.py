"""Building a practitioner's calendar feed, and its secret URL.

The feed holds the practitioner's booked consults from 30 days back onward, each with the
same UID and SEQUENCE as the invites emailed about it, so calendars that have both show one
event. Patients appear by initials unless the clinic opts in to full names; no health details.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from clinic.extensions import db
from clinic.links import absolute_url, hash_token, link_token, new_link_salt
from clinic.models import Appointment, ClinicSettings, Practitioner, Status
from clinic.notify.compose import clinic_mailbox
from clinic.notify.events import Version, consult_event
from clinic.notify.ics import Person, feed_calendar

PURPOSE = "calendar-feed"
HISTORY = timedelta(days=30)
SHOWN = (Status.CONFIRMED.value, Status.COMPLETED.value, Status.NO_SHOW.value)


def feed_url(practitioner: Practitioner) -> str:
    """The feed's address, creating its secret on first use (the caller commits)."""
    if not practitioner.calendar_salt:
        _new_secret(practitioner)
    return absolute_url(f"/calendar/{link_token(practitioner.calendar_salt, PURPOSE)}.ics")


def rotate(practitioner: Practitioner) -> str:
    """A new address; the old one stops working at once (the caller commits)."""
    _new_secret(practitioner)
    return feed_url(practitioner)


def practitioner_for(token: str) -> Practitioner | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        sa.select(Practitioner).where(Practitioner.calendar_token_hash == hash_token(token))
    )


def initials(name: str) -> str:
    """'Jo Patient' -> 'J. P.'"""
    return " ".join(f"{part[0].upper()}." for part in name.split() if part[:1].isalpha())


def feed_bytes(practitioner: Practitioner, settings: ClinicSettings, now: datetime) -> bytes:
    consults = db.session.scalars(
        sa.select(Appointment)
        .where(
            Appointment.practitioner_id == practitioner.id,
            Appointment.status.in_(SHOWN),
            Appointment.starts_at >= now - HISTORY,
        )
        .options(selectinload(Appointment.patient), selectinload(Appointment.consult_type))
        .order_by(Appointment.starts_at)
    ).all()
    organizer = clinic_mailbox(settings)
    events = []
    for appointment in consults:
        patient = appointment.patient  # None once the patient's data has been erased
        if patient is None:
            summary = appointment.consult_type.name
        else:
            who = patient.name if settings.feed_full_names else initials(patient.name)
            summary = f"{appointment.consult_type.name}: {who}"
        event = consult_event(
            appointment,
            settings,
            organizer=Person(organizer.email, organizer.name),
            attendee=Person(practitioner.email, practitioner.name),
            version=Version.current(appointment, appointment.updated_at),
            summary=summary,
        )
        staff_link = absolute_url(f"/staff/consults/{appointment.reference}")
        events.append(replace(event, description=f"{event.description}\nDetails: {staff_link}"))
    return feed_calendar(events, f"{settings.name}: {practitioner.name}")


def _new_secret(practitioner: Practitioner) -> None:
    practitioner.calendar_salt = new_link_salt()
    practitioner.calendar_token_hash = hash_token(link_token(practitioner.calendar_salt, PURPOSE))
