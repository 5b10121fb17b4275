"""The benchmark's own data: a clinic, practitioners in several zones, and consult history.

Nothing is downloaded and nothing random is left to chance: the same arguments give the same
rows. History goes in with bulk inserts, so 100,000 past consults take seconds, not minutes.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr
from datetime import UTC, datetime, time, timedelta
from itertools import cycle
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    ConsultType,
    ExternalBusy,
    HoursOverride,
    HoursOverrideRange,
    Patient,
    Practitioner,
    Status,
    TimeOff,
)
from tests.support import factories
from tests.support.apps import make_app, migrate
from tests.support.own_calendars import connect_feed

ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "America/Los_Angeles", "UTC")
WEEKDAYS_9_TO_5 = [(d, time(9), time(17)) for d in range(5)]
# Past consults as a real clinic has them: staff don't always mark them, so some stay confirmed.
PAST_STATUSES = (
    Status.COMPLETED.value,
    Status.CONFIRMED.value,
    Status.NO_SHOW.value,
    Status.CANCELLED.value,
)
BATCH = 5_000


def migrated(url: str) -> None:
    """Migrates ``url``, keeping Alembic's progress lines out of the benchmark's output."""
    lines = io.StringIO()
    try:
        with redirect_stderr(lines):
            migrate(url)
    except Exception:
        sys.stderr.write(lines.getvalue())
        raise


def app_for(url: str, **extra):
    """The app on ``url`` with the test configuration (mail to the log, no real secrets)."""
    return make_app(url, **extra)


def seed_clinic(url: str, practitioners: int, hours=WEEKDAYS_9_TO_5, **settings) -> list[int]:
    """The clinic's settings, the free consult, and ``practitioners`` working ``hours``."""
    app = app_for(url)
    with app.app_context():
        factories.clinic(**settings)
        ids = [
            factories.practitioner(hours=hours, timezone=zone).id
            for zone, _ in zip(cycle(ZONES), range(practitioners), strict=False)
        ]
        db.session.remove()
        db.engine.dispose()
    return ids


def add_past_consults(url: str, practitioner_ids: list[int], count: int, now: datetime) -> None:
    """``count`` finished consults before ``now``, back to back on each practitioner's days."""
    app = app_for(url)
    with app.app_context():
        kind = db.session.scalar(sa.select(ConsultType.id))
        offset = db.session.scalar(sa.select(sa.func.count(Appointment.id)))  # adds further back
        patients = max(1, count // 4)  # returning patients: four consults each
        _insert(
            Patient,
            (
                {"name": f"Past Patient {i}", "email": f"past{i}@example.com", "created_at": now}
                for i in range(offset, offset + patients)
            ),
        )
        first_patient = db.session.scalar(sa.select(sa.func.max(Patient.id))) - patients + 1
        _insert(
            Appointment,
            (
                _past(i, practitioner_ids, first_patient + i % patients, kind, now)
                for i in range(offset, offset + count)
            ),
        )
        db.session.remove()
        db.engine.dispose()


def _past(i: int, practitioner_ids: list[int], patient_id: int, kind: int, now: datetime) -> dict:
    per_day = 16  # every half hour of an eight-hour day
    who = practitioner_ids[i % len(practitioner_ids)]
    n = i // len(practitioner_ids)
    day = now.date() - timedelta(days=1 + n // per_day)
    starts = datetime.combine(day, time(9), UTC) + timedelta(minutes=30 * (n % per_day))
    return {
        "reference": f"P{i:09d}",
        "practitioner_id": who,
        "consult_type_id": kind,
        "patient_id": patient_id,
        "status": PAST_STATUSES[i % len(PAST_STATUSES)],
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=20),
        "patient_timezone": "UTC",
        "calendar_uid": f"past-{i}@bench.clinic.test",
        "link_salt": "",
        "manage_token_hash": f"past-{i:059d}",
        "source": "web",
        "created_at": starts - timedelta(days=7),
        "updated_at": starts,
    }


def _insert(model, rows) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(sa.insert(model), batch)
            batch = []
    if batch:
        db.session.execute(sa.insert(model), batch)
    db.session.commit()


def add_booked_consults(
    url: str, practitioner_ids: list[int], days: int, per_day: int, now: datetime
) -> None:
    """Confirmed consults ahead: ``per_day`` a day for each practitioner, for ``days`` days."""
    app = app_for(url)
    with app.app_context():
        kind = db.session.scalar(sa.select(ConsultType.id))
        offset = db.session.scalar(sa.select(sa.func.count(Appointment.id)))
        rows = []
        for d in range(1, days + 1):
            day = now.date() + timedelta(days=d)
            for who in practitioner_ids:
                for k in range(per_day):
                    i = offset + len(rows)
                    starts = datetime.combine(day, time(0), UTC) + timedelta(hours=3 * k + who % 3)
                    row = _past(i, practitioner_ids, None, kind, now)
                    row.update(
                        reference=f"B{i:09d}",
                        practitioner_id=who,
                        status=Status.CONFIRMED.value,
                        starts_at=starts,
                        ends_at=starts + timedelta(minutes=20),
                        calendar_uid=f"booked-{i}@bench.clinic.test",
                        manage_token_hash=f"booked-{i:057d}",
                    )
                    rows.append(row)
        _insert(Appointment, rows)
        db.session.remove()
        db.engine.dispose()


def add_overrides_and_time_off(url: str, practitioner_ids: list[int], days: int, now: datetime):
    """For ``days`` ahead: each practitioner works 10:00-15:00 (their zone) every seventh day
    and is off 09:00-12:00 UTC every tenth; the whole clinic closes one day three weeks out."""
    app = app_for(url)
    with app.app_context():
        for who in practitioner_ids:
            for d in range(1 + who % 7, days, 7):
                db.session.add(
                    HoursOverride(
                        practitioner_id=who,
                        day=now.date() + timedelta(days=d),
                        ranges=[HoursOverrideRange(start_time=time(10), end_time=time(15))],
                    )
                )
            for d in range(1 + who % 10, days, 10):
                start = datetime.combine(now.date() + timedelta(days=d), time(9), UTC)
                db.session.add(
                    TimeOff(
                        practitioner_id=who, starts_at=start, ends_at=start + timedelta(hours=3)
                    )
                )
        closed = datetime.combine(now.date() + timedelta(days=21), time(0), UTC)
        db.session.add(TimeOff(starts_at=closed, ends_at=closed + timedelta(days=1)))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


# A busy own calendar, in the practitioner's zone: a half-hour lunch meeting at 12:00 (inside
# weekday hours of 9 to 5), then 21 half-hour events every 40 minutes from 17:30 to 08:00 the
# next morning (outside them, buffer included): 22 a day, every day of the week.
BUSY_PER_DAY = 22


def add_external_busy(url: str, practitioner_id: int, count: int, now: datetime) -> None:
    """A calendar of the practitioner's connected (an ICS feed, as the staff page connects
    one) and ``count`` busy times read from it, 22 a day from today: 2,000 fill 91 days."""
    app = app_for(url)
    with app.app_context():
        connection = connect_feed(practitioner_id)
        zone = ZoneInfo(db.session.get(Practitioner, practitioner_id).timezone)
        _insert(
            ExternalBusy,
            (_busy(i, connection, practitioner_id, zone, now) for i in range(count)),
        )
        db.session.remove()
        db.engine.dispose()


def _busy(i: int, connection: int, practitioner_id: int, zone: ZoneInfo, now: datetime) -> dict:
    day, k = divmod(i, BUSY_PER_DAY)
    local = now.astimezone(zone).date() + timedelta(days=day)
    if k == 0:
        starts = datetime.combine(local, time(12), zone)
    else:
        starts = datetime.combine(local, time(17, 30), zone) + timedelta(minutes=40 * (k - 1))
    ends = starts + timedelta(minutes=30)  # wall-clock times, made UTC only now
    return {
        "connection_id": connection,
        "practitioner_id": practitioner_id,
        "starts_at": starts.astimezone(UTC),
        "ends_at": ends.astimezone(UTC),
        "key": f"{i:032x}",
    }


FEED_STATUSES = (Status.COMPLETED.value, Status.NO_SHOW.value)
FIRST_NAMES = ("Jo", "Sam", "Alex", "Maria", "Wei", "Priya", "Tom", "Ana", "Kofi", "Lena")
LAST_NAMES = ("Patient", "Roe", "Okafor", "García", "Chen", "Shah", "Brown", "Silva", "Berg")


def add_feed_consults(url: str, practitioner_id: int, count: int, now: datetime) -> None:
    """``count`` consults in one practitioner's calendar feed: from 29 days back onward,
    sixteen a day (every half hour from 09:00 UTC), finished before ``now`` and confirmed
    after. Patients are returning ones (four consults each) with varied names."""
    app = app_for(url)
    with app.app_context():
        kind = db.session.scalar(sa.select(ConsultType.id))
        first_patient = (db.session.scalar(sa.select(sa.func.max(Patient.id))) or 0) + 1
        patients = max(1, count // 4)
        _insert(
            Patient,
            (
                {
                    "name": f"{FIRST_NAMES[i % 10]} {LAST_NAMES[i % 9]}-{i}",
                    "email": f"feed{i}@example.com",
                    "created_at": now,
                }
                for i in range(patients)
            ),
        )
        _insert(
            Appointment,
            (
                _feed(i, practitioner_id, first_patient + i % patients, kind, now)
                for i in range(count)
            ),
        )
        db.session.remove()
        db.engine.dispose()


def _feed(i: int, practitioner_id: int, patient_id: int, kind: int, now: datetime) -> dict:
    row = _past(i, [practitioner_id], patient_id, kind, now)
    day = now.date() - timedelta(days=29) + timedelta(days=i // 16)
    starts = datetime.combine(day, time(9), UTC) + timedelta(minutes=30 * (i % 16))
    row.update(
        reference=f"F{i:09d}",
        status=FEED_STATUSES[i % 2] if starts < now else Status.CONFIRMED.value,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=20),
        calendar_uid=f"feed-{i}@bench.clinic.test",
        manage_token_hash=f"feed-{i:059d}",
        sequence=i % 3,
        updated_at=min(starts, now),
    )
    return row


def add_consults_with_emails(url: str, practitioner_ids: list[int], count: int, now) -> set[str]:
    """``count`` consults booked a week or more ahead, each with its emails in the outbox.

    Written as a booking writes them (``notify_booked``: the patient's and the practitioner's
    invite, due now, and reminders due later), in one transaction. Returns the invites'
    Message-IDs.
    """
    from clinic.core.clinic_settings import clinic_settings
    from clinic.core.links import hash_token, link_token
    from clinic.core.models import OutboxMessage, Practitioner
    from clinic.notify.outbox import Kind, notify_booked

    app = app_for(url)
    with app.app_context():
        settings = clinic_settings()
        kind = db.session.scalar(sa.select(ConsultType.id))
        people = [db.session.get(Practitioner, who) for who in practitioner_ids]
        first_day = now.date() + timedelta(days=7)
        consults = []
        for i in range(count):
            who = people[i % len(people)]
            n = i // len(people)
            starts = datetime.combine(first_day + timedelta(days=n // 16), time(9), UTC)
            starts += timedelta(minutes=30 * (n % 16))
            salt = f"{i:064x}"
            consult = Appointment(
                reference=f"E{i:09d}",
                practitioner=who,
                consult_type_id=kind,
                patient=Patient(name=f"Mail Patient {i}", email=f"mail{i}@example.com"),
                status=Status.CONFIRMED.value,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=20),
                patient_timezone=ZONES[i % len(ZONES)],
                calendar_uid=f"mail-{i}@bench.clinic.test",
                sequence=0,
                link_salt=salt,
                manage_token_hash=hash_token(link_token(salt)),
                source="web",
            )
            db.session.add(consult)
            consults.append(consult)
        db.session.flush()
        for consult in consults:
            notify_booked(consult, settings, now)
        db.session.commit()
        ids = set(
            db.session.scalars(
                sa.select(OutboxMessage.message_id).where(OutboxMessage.kind == Kind.BOOKED)
            )
        )
        db.session.remove()
        db.engine.dispose()
    return ids
