"""Test data with overridable defaults. Everything is committed, as the app would see it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from clinic.availability.open_times import DEFAULT_CONSULT
from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    ClinicSettings,
    ConsultType,
    Patient,
    Practitioner,
    TimeOff,
    WorkingHours,
)

ALL_DAY = [(d, time(0), time(0)) for d in range(7)]


def clinic(**overrides) -> ClinicSettings:
    values = dict(
        id=1,
        name="Test Clinic",
        timezone="UTC",
        contact_email="hello@clinic.test",
        min_notice_minutes=60,
        horizon_days=60,
        buffer_minutes=10,
        slot_step_minutes=30,
        hold_minutes=10,
        daily_cap=None,
    )
    values.update(overrides)
    settings = ClinicSettings(**values)
    db.session.add(settings)
    db.session.add(
        ConsultType(
            slug=DEFAULT_CONSULT, name="Free 20-minute virtual consult", duration_minutes=20
        )
    )
    db.session.commit()
    return settings


def practitioner(hours=ALL_DAY, **overrides) -> Practitioner:
    """A practitioner; ``hours`` is a list of (weekday, start, end) in their own zone."""
    count = db.session.query(Practitioner).count() + 1
    values = dict(
        name=f"Practitioner {count}",
        email=f"p{count}@clinic.test",
        timezone="UTC",
        meeting_link="https://video.clinic.test/{reference}",
    )
    values.update(overrides)
    person = Practitioner(**values)
    person.hours = [WorkingHours(weekday=d, start_time=a, end_time=b) for d, a, b in hours]
    db.session.add(person)
    db.session.commit()
    return person


def time_off(start: datetime, end: datetime, practitioner_id: int | None = None) -> TimeOff:
    row = TimeOff(practitioner_id=practitioner_id, starts_at=start, ends_at=end)
    db.session.add(row)
    db.session.commit()
    return row


def appointment(practitioner: Practitioner, start: datetime, **overrides) -> Appointment:
    """A confirmed consult written directly (bypassing the booking checks)."""
    import secrets

    from clinic.booking.services import new_reference
    from clinic.core.links import hash_token, link_token, new_link_salt

    kind = db.session.query(ConsultType).filter_by(slug=DEFAULT_CONSULT).one()
    patient = Patient(name="Pat Example", email=f"{secrets.token_hex(4)}@example.com")
    salt = new_link_salt()
    values = dict(
        reference=new_reference(),
        practitioner_id=practitioner.id,
        consult_type_id=kind.id,
        patient=patient,
        status="confirmed",
        starts_at=start,
        ends_at=start + timedelta(minutes=20),
        patient_timezone="UTC",
        calendar_uid=f"{secrets.token_hex(8)}@clinic.test",
        link_salt=salt,
        manage_token_hash=hash_token(link_token(salt)),
    )
    values.update(overrides)
    row = Appointment(**values)
    db.session.add(row)
    db.session.commit()
    return row


def next_grid_time(days_ahead: int = 1, hour: int = 10) -> datetime:
    """A whole hour ``days_ahead`` from today in UTC: on the 30-minute grid of ALL_DAY hours."""
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour), UTC)


def next_weekday_grid_time(days_ahead: int = 1, hour: int = 10) -> datetime:
    """Like ``next_grid_time``, moved on to the first Monday to Friday from that day."""
    start = next_grid_time(days_ahead, hour)
    weekend_days_left = 7 - start.weekday() if start.weekday() >= 5 else 0
    return start + timedelta(days=weekend_days_left)
