"""Demo data: a clinic with two practitioners in different zones and weekday hours, staff
accounts, and a few booked consults over the coming days."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.accounts.services import create_staff
from clinic.availability.open_times import DEFAULT_CONSULT, active_practitioners, open_times
from clinic.booking import services
from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.models import ClinicSettings, ConsultType, Practitioner, WorkingHours
from clinic.intake.services import save_section
from clinic.scheduling import Interval

WEEKDAYS = range(5)
# Demo staff accounts (development only; the README lists them). Each can sign in at /staff;
# each practitioner has one, so whoever an intake alert goes to can open it.
DEMO_PASSWORD = "demo-password-123"
DEMO_STAFF = (
    ("admin@riverbend.example", "admin", "Alex Admin"),
    ("maya.okafor@riverbend.example", "practitioner", "Dr. Maya Okafor, ND"),
    ("sam.whitfield@riverbend.example", "practitioner", "Sam Whitfield"),
    ("desk@riverbend.example", "frontdesk", "Front Desk"),
)


def _hours(*ranges: tuple[int, str, str]) -> list[WorkingHours]:
    return [
        WorkingHours(weekday=d, start_time=time.fromisoformat(a), end_time=time.fromisoformat(b))
        for d, a, b in ranges
    ]


def ensure_consult_type() -> ConsultType:
    kind = db.session.scalar(sa.select(ConsultType).where(ConsultType.slug == DEFAULT_CONSULT))
    if kind is None:
        kind = ConsultType(
            slug=DEFAULT_CONSULT, name="Free 20-minute virtual consult", duration_minutes=20
        )
        db.session.add(kind)
    return kind


def seed_demo() -> bool:
    """Create the demo clinic if the database has none; True when something was created."""
    if db.session.get(ClinicSettings, 1) is not None:
        return False
    db.session.add(
        ClinicSettings(
            id=1,
            name="Riverbend Integrative Health",
            timezone="America/New_York",
            contact_email="hello@riverbend.example",
            contact_phone="+1 555 0100",
            min_notice_minutes=120,
            horizon_days=60,
            buffer_minutes=10,
            slot_step_minutes=30,
            hold_minutes=10,
            daily_cap=8,
        )
    )
    ensure_consult_type()
    okafor = Practitioner(
        name="Dr. Maya Okafor, ND",
        email="maya.okafor@riverbend.example",
        timezone="America/New_York",
        title="Naturopathic doctor",
        bio="Looks at how stress, sleep, digestion and immunity affect one another.",
        meeting_link="https://meet.riverbend.example/okafor-{reference}",
    )
    okafor.hours = _hours(
        *[(d, "09:00", "12:00") for d in WEEKDAYS], *[(d, "13:00", "17:00") for d in WEEKDAYS]
    )
    whitfield = Practitioner(
        name="Sam Whitfield",
        email="sam.whitfield@riverbend.example",
        timezone="Europe/London",
        title="Solution-focused hypnotherapist",
        bio="Helps people manage stress and anxiety and find their balance again.",
        meeting_link="https://meet.riverbend.example/whitfield-{reference}",
    )
    whitfield.hours = _hours(
        *[(d, "10:00", "13:00") for d in range(4)],
        *[(d, "14:00", "18:00") for d in range(4)],
        (4, "09:00", "13:00"),
    )
    db.session.add_all([okafor, whitfield])
    db.session.commit()
    for email, role, name in DEMO_STAFF:
        create_staff(email, role, DEMO_PASSWORD, name=name)
    _book_demo_consults(utc_now())
    return True


DEMO_PATIENTS = (
    ("Jordan Lee", "America/Chicago"),
    ("Priya Shah", "Europe/London"),
    ("Tomás Rivera", "America/New_York"),
    ("Amelia Brooks", "Australia/Sydney"),
    ("Noah Kim", "America/Los_Angeles"),
    ("Grace Osei", "Africa/Accra"),
)


def _book_demo_consults(now: datetime) -> None:
    """A few consults over the coming days, so the staff console has a schedule to show. The
    first has an intake answered, with an answer that flags it for urgent review."""
    window = Interval(now, now + timedelta(days=10))
    times = open_times(active_practitioners(), None, window, now)
    for index, (name, zone) in enumerate(DEMO_PATIENTS):
        if index * 7 >= len(times):
            break
        choice = times[index * 7]
        email = name.split()[0].lower() + "@example.com"
        _appointment, token = services.book(
            choice.practitioner_ids[0],
            choice.start,
            ZoneInfo(zone),
            services.PatientDetails(name, email),
            now,
            "riverbend.example",
            source="web",
        )
        if index == 0:
            save_section(token, "about", {"consent_share": ["yes"]}, now)
            save_section(token, "goals", {"goals_concerns": ["Poor sleep and low energy"]}, now)
            save_section(token, "mood", {"phq9_1": ["2"], "phq9_9": ["1"]}, now)
