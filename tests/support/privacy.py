"""Shared by the privacy commands' tests: a clinic with two patients, and the database as text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.accounts.services import authenticate
from clinic.booking import lifecycle as changes
from clinic.booking import services
from clinic.booking.lifecycle import add_note
from clinic.core.extensions import db
from clinic.core.links import link_token
from clinic.core.models import Appointment, Patient, Practitioner, StaffUser
from clinic.intake.services import save_section
from tests.support import factories
from tests.support.staff import seed_staff_clinic

JO_NAME, JO_EMAIL, JO_PHONE = "Jo Patient", "jo@example.com", "+1 555 0100"
JO_CONCERN = "Sleeping badly since spring"  # an intake answer (tests/support/staff.py)
JO_NOTE = "Jo asked for a morning slot next time"
JO_CANCEL_REASON = "Moving house, and my anxiety is worse"
SAM_NAME, SAM_EMAIL, SAM_PHONE = "Sam Other", "sam@example.com", "+44 20 7946 0000"
SAM_CONCERN = "Headaches after long shifts"
SAM_NOTE = "Sam prefers email to phone"


@dataclass
class Seeded:
    booked: str  # Jo's upcoming consult, with intake answers (a red flag) and a staff note
    booked_token: str
    cancelled: str  # Jo's consult they cancelled, with a reason
    past: str  # Jo's consult ten days ago, completed
    sam: str  # another patient's consult, with intake answers and a note


def seed_two_patients() -> Seeded:
    """The staff clinic (tests/support/staff.py) plus more of Jo, and Sam with Dr Ben."""
    booked = seed_staff_clinic()
    now = datetime.now(UTC)
    admin = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "admin"))
    ada, ben = db.session.scalars(sa.select(Practitioner).order_by(Practitioner.id)).all()
    add_note(booked, JO_NOTE, admin, now, address="192.0.2.1")
    booked_token = _token_of(booked)
    second, token = services.book(
        ada.id,
        factories.next_grid_time(days_ahead=4, hour=15),
        ZoneInfo("Europe/London"),
        services.PatientDetails(JO_NAME, "JO@Example.com", JO_PHONE),  # the same patient
        now,
        "clinic.test",
    )
    changes.cancel(token, JO_CANCEL_REASON, now)
    jo = db.session.scalar(sa.select(Patient).where(Patient.email == JO_EMAIL))
    past = factories.appointment(
        ada,
        factories.next_grid_time(days_ahead=-10, hour=14),
        status="completed",
        patient=jo,
        patient_timezone="Europe/London",
    )
    sam, sam_token = services.book(
        ben.id,
        factories.next_grid_time(days_ahead=3, hour=15),
        ZoneInfo("Asia/Tokyo"),
        services.PatientDetails(SAM_NAME, SAM_EMAIL, SAM_PHONE),
        now,
        "clinic.test",
    )
    save_section(sam_token, "goals", {"goals_concerns": [SAM_CONCERN]}, now)
    add_note(sam.reference, SAM_NOTE, admin, now, address="192.0.2.1")
    authenticate(
        JO_EMAIL.upper(), "not a staff password", now, address="192.0.2.1"
    )  # a failed sign-in, audited
    return Seeded(booked, booked_token, second.reference, past.reference, sam.reference)


def _token_of(reference: str) -> str:
    """The link token the booking emailed (derived from the consult's salt)."""
    salt = db.session.scalar(
        sa.select(Appointment.link_salt).where(Appointment.reference == reference)
    )
    return link_token(salt)


def database_text() -> str:
    """Every value of every column of every table, as one lower-cased text to search."""
    db.session.rollback()  # read what is committed
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).mappings():
            parts.append(json.dumps(dict(row), default=str, ensure_ascii=False))
    return "\n".join(parts).lower()


def database_rows() -> dict[str, list[str]]:
    """Every row of every table, for "nothing changed" comparisons."""
    db.session.rollback()
    return {
        table.name: sorted(
            json.dumps(dict(row), default=str, sort_keys=True)
            for row in db.session.execute(sa.select(table)).mappings()
        )
        for table in db.metadata.sorted_tables
    }
