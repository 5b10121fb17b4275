"""Composing an outbox message: subject, text and HTML from ``templates/email/``, and invite.

Composed when sent, from the facts the message recorded when it was written (its payload)
and the rows as they are now (names, video link). The patient's manage link is derived
afresh (``clinic.core.links``), so it is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from clinic.calendar.events import Version, consult_event
from clinic.calendar.ics import Person, consult_calendar
from clinic.core.clinic_settings import clinic_settings
from clinic.core.formatting import duration_label, short_when, when_label
from clinic.core.links import absolute_url, link_token, manage_url
from clinic.core.models import Appointment, ClinicSettings, OutboxMessage
from clinic.notify.mime import Invite, Mailbox, build_email
from clinic.notify.outbox import NOTICES, PATIENT, PRACTITIONER, STAFF, Kind

# The iTIP METHOD each kind of message carries; reminders carry no invite.
METHODS = {Kind.BOOKED: "REQUEST", Kind.RESCHEDULED: "REQUEST", Kind.CANCELLED: "CANCEL"}


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    invite: Invite | None


def clinic_mailbox(settings: ClinicSettings) -> Mailbox:
    """Who the clinic's emails come from, and who organises every invite."""
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return Mailbox(address, name or settings.name)


def compose(
    message: OutboxMessage, link: str | None = None, settings: ClinicSettings | None = None
) -> Composed:
    """The message's content. ``link`` replaces the patient's manage link (e.g. in logs).

    ``settings``: the clinic's settings when the caller has them already (one query fewer).
    """
    appointment = message.appointment
    settings = settings or clinic_settings()
    if message.kind in NOTICES:
        return _notice(message, settings)
    assert appointment is not None, "every other message is written about a consult"
    version = Version.from_payload(message.payload, cancelled=message.kind == Kind.CANCELLED)
    to_patient = message.audience == PATIENT
    patient, practitioner = appointment.patient, appointment.practitioner
    patient_zone = ZoneInfo(appointment.patient_timezone)
    clinic_zone, practitioner_zone = ZoneInfo(settings.timezone), ZoneInfo(practitioner.timezone)
    if to_patient:
        own_zone, other_zone, other_label = patient_zone, clinic_zone, "Clinic time"
    elif message.audience == PRACTITIONER:
        own_zone, other_zone, other_label = practitioner_zone, patient_zone, "Patient's time"
    else:  # staff alerts: the clinic's time, and the practitioner's beside it
        own_zone, other_zone, other_label = clinic_zone, practitioner_zone, "Practitioner's time"
    own_label = "Your time" if message.audience != STAFF else "Clinic time"
    previous = message.payload.get("previous_start")
    context = dict(
        message=message,
        to_patient=to_patient,
        settings=settings,
        appointment=appointment,
        patient=patient,
        practitioner=practitioner,
        version=version,
        when=short_when(version.start, own_zone),
        times=_times(version.start, own_zone, own_label, other_zone, other_label),
        previous_times=(
            _times(datetime.fromisoformat(previous), own_zone, own_label, other_zone, other_label)
            if previous
            else []
        ),
        video_link=practitioner.meeting_url(appointment.reference),
        manage_link=_manage_link(appointment, link) if to_patient else None,
        intake_link=_intake_link(appointment, message, link) if to_patient else None,
        staff_link=absolute_url(f"/staff/consults/{appointment.reference}"),
        cutoff_hours=duration_label(settings.change_cutoff_minutes),
        minutes_before=message.payload.get("minutes_before"),
        reason=message.payload.get("reason", ""),
        raised=_raised(message.payload, clinic_zone),
    )
    subject = render_template(f"email/{message.kind}.subject.txt", **context)
    return Composed(
        subject=" ".join(subject.split()),
        text=render_template(f"email/{message.kind}.txt", **context),
        html=render_template(f"email/{message.kind}.html", **context),
        invite=_invite(message, appointment, settings, version),
    )


def as_email(
    message: OutboxMessage,
    composed: Composed,
    date: datetime,
    settings: ClinicSettings | None = None,
) -> EmailMessage:
    settings = settings or clinic_settings()
    return build_email(
        sender=clinic_mailbox(settings),
        recipient=Mailbox(message.recipient, message.recipient_name),
        subject=composed.subject,
        text=composed.text,
        html=composed.html,
        message_id=message.message_id,
        date=date,
        reply_to=settings.contact_email,
        invite=composed.invite,
    )


def _notice(message: OutboxMessage, settings: ClinicSettings) -> Composed:
    """A message to staff about no one consult (a calendar that stopped working): its
    facts are in its payload; times in the clinic's zone."""
    zone = ZoneInfo(settings.timezone)
    payload = message.payload
    since = datetime.fromisoformat(payload["since"]) if payload.get("since") else None
    context = dict(
        message=message,
        settings=settings,
        payload=payload,
        since=when_label(since, zone) if since else "",
        staff_link=absolute_url("/staff/calendar"),
    )
    subject = render_template(f"email/{message.kind}.subject.txt", **context)
    return Composed(
        subject=" ".join(subject.split()),
        text=render_template(f"email/{message.kind}.txt", **context),
        html=render_template(f"email/{message.kind}.html", **context),
        invite=None,
    )


def _invite(
    message: OutboxMessage, appointment: Appointment, settings: ClinicSettings, version: Version
) -> Invite | None:
    method = METHODS.get(message.kind)
    if method is None:
        return None
    organizer = clinic_mailbox(settings)
    summary = None
    if message.audience != PATIENT and appointment.patient is not None:
        summary = f"{appointment.consult_type.name}: {appointment.patient.name}"
    event = consult_event(
        appointment,
        settings,
        organizer=Person(organizer.email, organizer.name),
        attendee=Person(message.recipient, message.recipient_name),
        version=version,
        summary=summary,
    )
    return Invite(consult_calendar(event, method), method)


def _manage_link(appointment: Appointment, replacement: str | None) -> str | None:
    """The patient's manage link; none for consults booked before links had a salt."""
    if not appointment.link_salt:
        return None
    return replacement or manage_url(appointment.link_salt)


def _intake_link(
    appointment: Appointment, message: OutboxMessage, replacement: str | None
) -> str | None:
    """The questionnaire link, offered in every email until the intake is done."""
    intake = appointment.intake
    if (
        not appointment.link_salt
        or message.kind == Kind.CANCELLED
        or (intake is not None and intake.completed_at is not None)
    ):
        return None
    return replacement or absolute_url(f"/intake/{link_token(appointment.link_salt)}")


def _raised(payload: dict, zone: ZoneInfo) -> str | None:
    """When an escalated alert was raised, in the clinic's zone (staff emails only)."""
    raised_at = payload.get("raised_at")
    return when_label(datetime.fromisoformat(raised_at), zone) if raised_at else None


def _times(
    start: datetime, own: ZoneInfo, own_label: str, other: ZoneInfo, other_label: str
) -> list[tuple[str, str]]:
    """The start in the reader's zone, and in the other zone beside it when that differs."""
    times = [(own_label, when_label(start, own))]
    if other.key != own.key:
        times.append((other_label, when_label(start, other)))
    return times
