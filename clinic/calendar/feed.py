"""Building a practitioner's calendar feed, its secret URL, and its validators.

The feed holds the practitioner's booked consults from 30 days back onward, each with the
same UID and SEQUENCE as the invites emailed about it, so calendars that have both show one
event. Patients appear by initials unless the clinic opts in to full names; no health details.

Calendar apps poll the feed every few minutes, so a poll that changes nothing is answered
without building it: one query reads every fact the feed is made of (a ``Feed``); the feed's
bytes are a function of that ``Feed`` alone, so a keyed hash of it is the ETag, and the time a
fingerprint was first served is the Last-Modified.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import icalendar
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import OperationalError

from clinic.calendar import events, ics
from clinic.calendar.events import description
from clinic.calendar.ics import ConsultEvent, Person, feed_calendar
from clinic.core import models
from clinic.core.database import begin_write, rowcount
from clinic.core.extensions import db
from clinic.core.links import absolute_url, hash_token, link_token, new_link_salt
from clinic.core.models import (
    Appointment,
    ClinicSettings,
    ConsultType,
    Patient,
    Practitioner,
    Status,
    meeting_url,
)
from clinic.notify.compose import clinic_mailbox

PURPOSE = "calendar-feed"
HISTORY = timedelta(days=30)
STAMP_WAIT_MS = 200  # longest a poll waits to record its Last-Modified
SHOWN = (Status.CONFIRMED.value, Status.COMPLETED.value, Status.NO_SHOW.value)
# Part of every fingerprint: the code that turns facts into bytes, so that a new version of
# it (a new description, say) changes every ETag without anyone remembering to.
LAYOUT = hashlib.sha256(
    b"".join(
        Path(source).read_bytes()
        for source in (ics.__file__, events.__file__, models.__file__, __file__)
    )
).hexdigest()


class Consult(NamedTuple):
    """One consult's facts, as the feed query reads them (no ORM objects)."""

    calendar_uid: str
    sequence: int
    updated_at: datetime
    starts_at: datetime
    ends_at: datetime
    status: str
    reference: str
    kind: str
    patient: str | None  # None once the patient's data has been erased


@dataclass(frozen=True)
class Feed:
    """Everything a feed's bytes are made of; ``feed_bytes`` reads nothing else."""

    title: str
    full_names: bool
    organizer: Person
    practitioner: Person
    meeting_link: str
    staff_link: str  # a consult's staff page, less its reference
    consults: tuple[Consult, ...]


@dataclass(frozen=True)
class Current:
    feed: Feed
    etag: str
    last_modified: datetime | None  # None when it could not be recorded


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


def current(practitioner: Practitioner, settings: ClinicSettings, now: datetime) -> Current:
    """The feed as of ``now`` and its validators, recording a new fingerprint (commits)."""
    feed = read_feed(practitioner, settings, now)
    etag = fingerprint(feed)
    return Current(feed, etag, _first_served(practitioner, etag, now))


def read_feed(practitioner: Practitioner, settings: ClinicSettings, now: datetime) -> Feed:
    organizer = clinic_mailbox(settings)
    rows = db.session.execute(
        sa.select(
            Appointment.calendar_uid,
            Appointment.sequence,
            Appointment.updated_at,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.status,
            Appointment.reference,
            ConsultType.name,
            Patient.name,
        )
        .join(ConsultType, ConsultType.id == Appointment.consult_type_id)
        .outerjoin(Patient, Patient.id == Appointment.patient_id)
        .where(
            Appointment.practitioner_id == practitioner.id,
            Appointment.status.in_(SHOWN),
            Appointment.starts_at >= now - HISTORY,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return Feed(
        title=f"{settings.name}: {practitioner.name}",
        full_names=settings.feed_full_names,
        organizer=Person(organizer.email, organizer.name),
        practitioner=Person(practitioner.email, practitioner.name),
        meeting_link=practitioner.meeting_link,
        staff_link=absolute_url("/staff/consults/"),
        consults=tuple(Consult._make(row) for row in rows),
    )


def fingerprint(feed: Feed) -> str:
    """The feed's ETag: a hash of everything its bytes are made of, keyed with the secret key
    so that a copy of the database cannot be used to test guesses at patients' names."""
    key = current_app.config["SECRET_KEY"].encode()
    message = repr((LAYOUT, icalendar.__version__, feed)).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def feed_bytes(feed: Feed) -> bytes:
    return feed_calendar([_event(feed, consult) for consult in feed.consults], feed.title)


def stored_copy(appointment: Appointment, settings: ClinicSettings) -> bytes:
    """The consult as the practitioner's own CalDAV calendar keeps it: the event the feed
    shows (the same UID, SEQUENCE, title and text), less organizer and attendees."""
    practitioner, patient = appointment.practitioner, appointment.patient
    feed = Feed(
        title="",
        full_names=settings.feed_full_names,
        organizer=Person("", ""),
        practitioner=Person(practitioner.email, practitioner.name),
        meeting_link=practitioner.meeting_link,
        staff_link=absolute_url("/staff/consults/"),
        consults=(),
    )
    consult = Consult(
        appointment.calendar_uid,
        appointment.sequence,
        appointment.updated_at,
        appointment.starts_at,
        appointment.ends_at,
        appointment.status,
        appointment.reference,
        appointment.consult_type.name,
        patient.name if patient is not None else None,
    )
    return ics.stored_calendar(_event(feed, consult))


def _event(feed: Feed, consult: Consult) -> ConsultEvent:
    if consult.patient is None:
        summary = consult.kind
    else:
        who = consult.patient if feed.full_names else initials(consult.patient)
        summary = f"{consult.kind}: {who}"
    link = meeting_url(feed.meeting_link, consult.reference)
    text = description(consult.kind, feed.practitioner.name, consult.reference, link)
    return ConsultEvent(
        uid=consult.calendar_uid,
        sequence=consult.sequence,
        stamp=consult.updated_at,
        start=consult.starts_at,
        end=consult.ends_at,
        summary=summary,
        description=f"{text}\nDetails: {feed.staff_link}{consult.reference}",
        location=link,
        organizer=feed.organizer,
        attendee=feed.practitioner,
        cancelled=consult.status == Status.CANCELLED,
    )


def _first_served(practitioner: Practitioner, etag: str, now: datetime) -> datetime | None:
    """When the feed was first served as ``etag``: its Last-Modified (whole seconds).

    A new fingerprint is stamped with ``now``, but at least a second after the one before, so
    a Last-Modified only ever grows and an If-Modified-Since sent back can never cover a later
    change, whatever the app processes' clocks say. The write is a compare-and-set on the
    previous stamp, so of two requests racing with different contents neither is lost. None
    when the database would not take the write within ``STAMP_WAIT_MS`` (bookings holding the
    lock): the feed is then served without a Last-Modified rather than kept waiting.
    """
    practitioner_id = practitioner.id
    stored, previous = practitioner.feed_fingerprint, practitioner.feed_changed_at
    try:
        for _ in range(3):
            if stored == etag:
                return previous
            stamp = now.replace(microsecond=0)
            if previous is not None:
                stamp = max(stamp, previous + timedelta(seconds=1))
            begin_write(wait_ms=STAMP_WAIT_MS)
            written = rowcount(
                db.session.execute(
                    sa.update(Practitioner)
                    .where(
                        Practitioner.id == practitioner_id,
                        Practitioner.feed_changed_at.is_not_distinct_from(previous),
                    )
                    .values(feed_fingerprint=etag, feed_changed_at=stamp)
                    .execution_options(synchronize_session=False)
                )
            )
            if written:
                db.session.commit()
                return stamp
            latest = db.session.execute(
                sa.select(Practitioner.feed_fingerprint, Practitioner.feed_changed_at).where(
                    Practitioner.id == practitioner_id
                )
            ).first()
            db.session.rollback()
            if latest is None:
                break
            stored, previous = latest
    except OperationalError:
        db.session.rollback()
    return None


def _new_secret(practitioner: Practitioner) -> None:
    practitioner.calendar_salt = new_link_salt()
    practitioner.calendar_token_hash = hash_token(link_token(practitioner.calendar_salt, PURPOSE))
