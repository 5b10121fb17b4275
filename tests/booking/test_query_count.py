"""The number of SQL statements behind a slots request, and behind a booking, is a constant.

It must not grow with the days shown, the practitioners asked about, the consults booked or
past, one-day overrides or time off.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Appointment, HoursOverride, HoursOverrideRange, Status
from tests.support import factories
from tests.support.queries import api_booking_statements, statements_for, web_booking_statements

ZONES = ("UTC", "Europe/London", "Asia/Tokyo", "America/New_York", "Australia/Sydney")
# Days ahead of every booking here: both reminders (a day and an hour before) are still due.
BOOKING_DAY = 5


def override(practitioner_id: int, day, ranges) -> None:
    db.session.add(
        HoursOverride(
            practitioner_id=practitioner_id,
            day=day,
            ranges=[HoursOverrideRange(start_time=a, end_time=b) for a, b in ranges],
        )
    )


@pytest.fixture
def clinic(app):
    factories.clinic()
    people = [factories.practitioner(timezone=tz) for tz in ("UTC", "Europe/London", "Asia/Tokyo")]
    start = factories.next_grid_time(days_ahead=1)
    for i in range(20):
        factories.appointment(people[i % 3], start + timedelta(days=i, hours=i % 5))
    factories.time_off(start + timedelta(days=3), start + timedelta(days=4), people[0].id)
    override(people[1].id, start.date() + timedelta(days=2), [])
    override(
        people[1].id, start.date() + timedelta(days=5), [(time(9), time(12)), (time(13), time(0))]
    )
    db.session.commit()
    return people


def test_api_slots_statements_do_not_grow_with_days_or_practitioners(client, clinic):
    day = factories.next_grid_time().date()
    one_week_one = statements_for(
        client, f"/api/v1/slots?practitioner={clinic[0].id}&from={day}&to={day + timedelta(6)}"
    )
    two_months_any = statements_for(
        client, f"/api/v1/slots?from={day}&to={day + timedelta(days=59)}"
    )
    assert one_week_one == two_months_any
    # Settings, consult type, practitioners, then one each for hours, overrides, time off,
    # consults and the busy times of the practitioners' own calendars.
    assert one_week_one <= 8


def test_booking_page_statements_do_not_grow_with_practitioners(client, clinic):
    one = statements_for(client, f"/book?practitioner={clinic[0].id}")
    every = statements_for(client, "/book")
    for _ in range(5):
        factories.practitioner()
    more = statements_for(client, "/book")
    assert one == every == more


def book_both_ways(client, practitioner: str, hour: int, label: str) -> dict[str, object]:
    """Statements behind an API booking at ``hour`` and a web booking half an hour later."""
    start = factories.next_grid_time(days_ahead=BOOKING_DAY, hour=hour)
    counts = {
        "api": api_booking_statements(client, practitioner, start, f"api-{label}@example.com"),
        "web": web_booking_statements(
            client, practitioner, start + timedelta(minutes=30), f"web-{label}@example.com"
        ),
    }
    # The test's own session may have read before these bookings: on SQLite it must leave
    # that snapshot to see them, and to write at all.
    db.session.rollback()
    return counts


def grow(first_practitioner) -> None:
    """Nine more practitioners; around the booking day, consults, overrides and time off for
    each; past consults behind them. The hours 10:00 to 19:00 UTC stay free."""
    people = [first_practitioner] + [
        factories.practitioner(timezone=ZONES[i % len(ZONES)]) for i in range(9)
    ]
    day = factories.next_grid_time(days_ahead=BOOKING_DAY, hour=0)
    for person in people:
        for offset in range(-3, 4):  # the booking's week: busy before and after the free hours
            for hour in (1, 3, 5, 7, 20, 22):
                factories.appointment(person, day + timedelta(days=offset, hours=hour))
        for days_ago in range(1, 7):
            start = factories.next_grid_time(days_ahead=-days_ago, hour=9)
            factories.appointment(person, start, status=Status.COMPLETED.value)
        for offset in (-2, -1, 1, 2):
            override(person.id, (day + timedelta(days=offset)).date(), [(time(8), time(18))])
        override(person.id, day.date(), [(time(0), time(9)), (time(9, 30), time(0))])
        factories.time_off(
            day + timedelta(days=1, hours=1), day + timedelta(days=1, hours=6), person.id
        )
    factories.time_off(day - timedelta(days=2), day - timedelta(days=1, hours=20))  # the clinic's
    db.session.commit()


def test_booking_statements_do_not_grow_with_the_clinic(client, app):
    factories.clinic()
    first = factories.practitioner()
    small = {
        "any": book_both_ways(client, "any", 10, "a"),
        "one": book_both_ways(client, str(first.id), 12, "b"),
    }
    grow(first)
    grown = {
        "any": book_both_ways(client, "any", 14, "c"),
        "one": book_both_ways(client, str(first.id), 16, "d"),
    }
    assert grown == small


def test_booking_statements_do_not_grow_with_the_patients_history(client, app):
    factories.clinic()
    doctor = factories.practitioner()
    book_both_ways(client, str(doctor.id), 10, "returning")  # the patient's first consults
    returning = book_both_ways(client, str(doctor.id), 12, "returning")
    patients = {  # the two returning patients, the API's and the web's
        a.patient.email: a.patient for a in db.session.scalars(sa.select(Appointment))
    }
    for patient in patients.values():
        for days_ago in range(1, 31):
            start = factories.next_grid_time(days_ahead=-days_ago, hour=9)
            factories.appointment(doctor, start, patient=patient, status=Status.COMPLETED.value)
    assert book_both_ways(client, str(doctor.id), 14, "returning") == returning
