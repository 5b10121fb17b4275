"""Demo data: a clinic with two practitioners in different zones and weekday hours."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa

from clinic.booking.availability import DEFAULT_CONSULT
from clinic.extensions import db
from clinic.models import ClinicSettings, ConsultType, Practitioner, WorkingHours
from clinic.staff.accounts import create_staff

WEEKDAYS = range(5)
# Demo staff accounts (development only; the README lists them). Each can sign in at /staff.
DEMO_PASSWORD = "demo-password-123"
DEMO_STAFF = (
    ("admin@riverbend.example", "admin", "Alex Admin"),
    ("maya.okafor@riverbend.example", "practitioner", "Dr. Maya Okafor, ND"),
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
    return True
