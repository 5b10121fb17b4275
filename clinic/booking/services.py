"""Holding, confirming and booking consults. Each public function owns one transaction.

Invariant 1 (no double booking): every write happens inside ``begin_write()`` with the
practitioners involved locked, and re-checks the time against the database before inserting.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from clinic.availability.loading import availabilities
from clinic.availability.open_times import (
    active_practitioners,
    consult_type,
    nearby_times,
    rules_for,
    why_not,
)
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, lock_rows
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.links import LINK_LIFETIME_AFTER_CONSULT, hash_token, link_token, new_link_salt
from clinic.core.models import Appointment, Patient, Practitioner, Status
from clinic.notify.outbox import notify_booked
from clinic.own_calendars.push import consult_changed
from clinic.scheduling import Availability, Interval, OpenTime, Rules
from clinic.scheduling.slots import slot_at

_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


class SlotTaken(ClinicError):
    """The time was free a moment ago but someone else has it now."""

    status = 409

    def __init__(self, alternatives: list[OpenTime]):
        super().__init__("That time was just taken.")
        self.alternatives = alternatives


class NotBookable(ClinicError):
    """The time is not one the clinic offers (past, too soon, outside hours...)."""

    status = 422


class HoldNotFound(ClinicError):
    """No held or booked consult matches the link."""

    status = 404


class LinkExpired(HoldNotFound):
    """The link belongs to a consult that ended more than 30 days ago."""

    status = 410


@dataclass(frozen=True)
class PatientDetails:
    name: str
    email: str
    phone: str = ""
    marketing_opt_in: bool = False


def new_reference() -> str:
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def hold_slot(
    practitioner_id: int | None,
    start: datetime,
    patient_zone: ZoneInfo,
    now: datetime,
    uid_domain: str,
) -> tuple[Appointment, str]:
    """Keep ``start`` for the patient for the hold period; returns the row and its link token."""
    begin_write()
    appointment, token = _claim(practitioner_id, start, patient_zone, now, uid_domain)
    hold = timedelta(minutes=clinic_settings().hold_minutes)
    appointment.hold_expires_at = now + hold
    commit_or_taken(practitioner_id, start, now)
    return appointment, token


def book(
    practitioner_id: int | None,
    start: datetime,
    patient_zone: ZoneInfo,
    details: PatientDetails,
    now: datetime,
    uid_domain: str,
    source: str = "api",
    before_commit: Callable[[Appointment], None] | None = None,
) -> tuple[Appointment, str]:
    """Book ``start`` outright (no hold): the API's path and a staff member's.

    ``before_commit`` may add rows of its own (an audit entry) to the booking's transaction.
    """
    begin_write()
    appointment, token = _claim(practitioner_id, start, patient_zone, now, uid_domain)
    appointment.source = source
    _confirm(appointment, details, now)
    if before_commit is not None:
        before_commit(appointment)
    commit_or_taken(practitioner_id, start, now)
    return appointment, token


def confirm_hold(token: str, details: PatientDetails, now: datetime) -> Appointment:
    """Turn the held time behind ``token`` into a confirmed consult.

    A hold that lapsed is still honoured when nobody has taken the time since.
    Submitting twice is harmless: an already confirmed consult is returned as it is.
    """
    begin_write()
    appointment = find_by_token(token, now)
    lock_rows(Practitioner, [appointment.practitioner_id])
    expire_lapsed_holds([appointment.practitioner_id], now)
    db.session.refresh(appointment)
    if appointment.status == Status.CONFIRMED:
        db.session.rollback()
        return appointment
    if appointment.status not in (Status.HELD, Status.EXPIRED):
        db.session.rollback()
        raise HoldNotFound("This booking can no longer be completed.")
    if not appointment.is_active(now):
        settings, kind = clinic_settings(), consult_type()
        rules = rules_for(settings, kind)
        avails = availabilities(
            [appointment.practitioner], around(appointment.starts_at), now, appointment.id
        )
        if slot_at(avails[0], rules, appointment.starts_at, now) is None:
            alternatives = nearby_times(None, appointment.starts_at, now, rules)
            db.session.commit()
            raise SlotTaken(alternatives)
    _confirm(appointment, details, now)
    commit_or_taken(appointment.practitioner_id, appointment.starts_at, now)
    return appointment


def find_by_token(token: str, now: datetime) -> Appointment:
    """The consult behind a link token; links stop working 30 days after the consult."""
    if not token or len(token) > 100:
        raise HoldNotFound("This link is not valid.")
    found = db.session.scalar(
        sa.select(Appointment).where(Appointment.manage_token_hash == hash_token(token))
    )
    if found is None:
        raise HoldNotFound("This link is not valid.")
    if now > found.ends_at + LINK_LIFETIME_AFTER_CONSULT:
        raise LinkExpired("This link has expired: the consult was more than 30 days ago.")
    return found


def around(start: datetime) -> Interval:
    """The stretch of time loaded to check ``start`` and to offer times near it."""
    return Interval(start - timedelta(days=3), start + timedelta(days=3))


def _claim(
    practitioner_id: int | None,
    start: datetime,
    patient_zone: ZoneInfo,
    now: datetime,
    uid_domain: str,
) -> tuple[Appointment, str]:
    """Inside the write transaction: choose who is free at ``start`` and add a held row."""
    settings, kind = clinic_settings(), consult_type()
    rules = rules_for(settings, kind)
    check_bookable_window(start, now, rules)
    practitioners = active_practitioners(practitioner_id)
    if not practitioners:
        db.session.rollback()
        raise NotBookable("That practitioner is not taking bookings.")
    lock_rows(Practitioner, [p.id for p in practitioners])
    expire_lapsed_holds([p.id for p in practitioners], now)
    avails = availabilities(practitioners, around(start), now)
    free = [av for av in avails if slot_at(av, rules, start, now) is not None]
    if not free:
        reason = why_not(avails, rules, start, now)
        alternatives = nearby_times(practitioner_id, start, now, rules, avails)
        db.session.rollback()
        if reason is None:
            raise SlotTaken(alternatives)
        raise NotBookable(reason)
    chosen = min(free, key=lambda av: (_consults_that_day(av, start), av.practitioner_id))
    salt = new_link_salt()
    token = link_token(salt)
    appointment = Appointment(
        reference=new_reference(),
        practitioner_id=chosen.practitioner_id,
        consult_type_id=kind.id,
        status=Status.HELD.value,
        starts_at=start,
        ends_at=start + rules.duration,
        patient_timezone=patient_zone.key,
        calendar_uid=f"{uuid.uuid4()}@{uid_domain}",
        link_salt=salt,
        manage_token_hash=hash_token(token),
        created_at=now,
        updated_at=now,
    )
    db.session.add(appointment)
    return appointment, token


def commit_or_taken(practitioner_id: int | None, start: datetime, now: datetime) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        # The database's own guard (PostgreSQL's exclusion constraint) caught an overlap.
        db.session.rollback()
        settings, kind = clinic_settings(), consult_type()
        raise SlotTaken(
            nearby_times(practitioner_id, start, now, rules_for(settings, kind))
        ) from None


def _confirm(appointment: Appointment, details: PatientDetails, now: datetime) -> None:
    email = details.email.strip().lower()
    # Locked, so an erasure or purge deleting this patient either waits for the booking or has
    # finished (and a new patient row is made).
    patient = db.session.scalar(
        sa.select(Patient).where(Patient.email == email).limit(1).with_for_update()
    )
    if patient is None:
        patient = Patient(email=email, created_at=now)
        db.session.add(patient)
    patient.name = details.name
    patient.phone = details.phone or patient.phone
    patient.marketing_opt_in = details.marketing_opt_in
    appointment.patient = patient
    appointment.status = Status.CONFIRMED.value
    appointment.hold_expires_at = None
    appointment.privacy_consent_at = now
    appointment.not_emergency_ack_at = now
    appointment.updated_at = now
    notify_booked(appointment, clinic_settings(), now)
    consult_changed(appointment, now)


def expire_lapsed_holds(practitioner_ids: list[int], now: datetime) -> None:
    """Release holds whose time ran out, so the exclusion constraint no longer counts them."""
    db.session.execute(
        sa.update(Appointment)
        .where(
            Appointment.practitioner_id.in_(practitioner_ids),
            Appointment.status == Status.HELD.value,
            Appointment.hold_expires_at <= now,
        )
        .values(status=Status.EXPIRED.value)
        # Lapsed holds stopped counting when they lapsed: no free time changes now.
        .execution_options(schedule_unchanged=True)
    )


def _consults_that_day(av: Availability, start: datetime) -> int:
    day = start.astimezone(av.zone).date()
    return sum(1 for b in av.busy if b.start.astimezone(av.zone).date() == day)


def check_bookable_window(start: datetime, now: datetime, rules: Rules) -> None:
    """Refuse times in the past, inside the minimum notice or beyond the horizon."""
    problem = None
    if start <= now:
        problem = "That time has already passed."
    elif start < now + rules.min_notice:
        problem = "That time is too soon to book; please choose a later time."
    elif start > now + rules.horizon:
        problem = "That time is too far ahead to book yet."
    if problem:
        db.session.rollback()
        raise NotBookable(problem)
