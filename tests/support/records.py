"""Shared by the tests of the staff console's lists: consults at New York times, table text."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from html import unescape
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Patient, Practitioner
from tests.support import factories

NEW_YORK = ZoneInfo("America/New_York")  # the zone of ``seed_staff_clinic``'s clinic


def today() -> date:
    return datetime.now(UTC).astimezone(NEW_YORK).date()


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A start at ``hour``:``minute`` New York time on ``day``, in UTC."""
    return datetime.combine(day, time(hour, minute), NEW_YORK).astimezone(UTC)


def person(email: str) -> Practitioner:
    db.session.rollback()  # a fresh snapshot: requests have written since (SQLite's WAL)
    return db.session.scalar(sa.select(Practitioner).where(Practitioner.email == email))


def consult(name: str, start: datetime, who: str = "ada@clinic.test", **overrides):
    """A consult (confirmed unless overridden) for a new patient called ``name``."""
    email = overrides.pop("email", re.sub(r"\W+", ".", name.lower()).strip(".") + "@example.com")
    return factories.appointment(
        person(who), start, patient=Patient(name=name, email=email), **overrides
    )


def rows(response) -> str:
    """The text of the results table only (the filter form also names people)."""
    found = re.search(r"<tbody>(.*?)</tbody>", response.text, re.S)
    return unescape(found.group(1)) if found else ""
