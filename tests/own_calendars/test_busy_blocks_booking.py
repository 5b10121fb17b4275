"""Busy times read from a practitioner's own calendar take their time off the booking page and
the API, buffer included, and a time a sync has since made busy is refused under the booking
lock, even after it was offered (the cached free times move with the schedule version)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Appointment, ExternalBusy
from tests.support import factories
from tests.support.api import body
from tests.support.booking import fill_details, hold
from tests.support.own_calendars import connect_feed

NOW = datetime.now(UTC)


@pytest.fixture
def doctor(app):
    with app.app_context():
        factories.clinic()  # a 10-minute buffer, starts every 30 minutes, all-day hours
        return factories.practitioner(name="Dr Ada Lane").id


def make_busy(doctor_id: int, start: datetime, end: datetime) -> None:
    """As a sync stores it: a connection of the practitioner's, and a busy time of it."""
    db.session.add(
        ExternalBusy(
            connection_id=connect_feed(doctor_id),
            practitioner_id=doctor_id,
            starts_at=start,
            ends_at=end,
            key="k" * 32,
        )
    )
    db.session.commit()


def offered(client, day) -> set[str]:
    slots = client.get(f"/api/v1/slots?timezone=UTC&from={day}&to={day}").get_json()["slots"]
    return {s["start_utc"] for s in slots}


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_busy_time_and_its_buffer_are_not_offered(app, client, doctor):
    dentist = factories.next_grid_time(days_ahead=2, hour=12)
    day = dentist.date()
    with app.app_context():
        assert z(dentist) in offered(client, day)  # asked once: the free times are now cached
        make_busy(doctor, dentist, dentist + timedelta(minutes=45))
    now_offered = offered(client, day)
    assert z(dentist) not in now_offered
    assert z(dentist + timedelta(minutes=30)) not in now_offered  # overlaps the busy time
    # 11:30-11:50 ends only 10 minutes (the buffer) before 12:00: free. 12:45 + 10 minutes
    # of buffer reaches 12:55, so 13:00 is the next free start.
    assert z(dentist - timedelta(minutes=30)) in now_offered
    assert z(dentist + timedelta(minutes=60)) in now_offered
    page = client.get(f"/book?tz=UTC&date={day}")
    assert page.status_code == 200


def test_a_time_made_busy_after_it_was_offered_is_refused(app, client, doctor):
    school_run = factories.next_grid_time(days_ahead=3, hour=9)
    assert z(school_run) in offered(client, school_run.date())
    with app.app_context():
        make_busy(doctor, school_run - timedelta(minutes=5), school_run + timedelta(minutes=5))
    # Refused as a time just taken is, with the nearest free times offered instead.
    response = client.post("/api/v1/bookings", json=body(school_run, practitioner=doctor))
    assert response.status_code == 409, response.get_json()
    held = hold(client, school_run, practitioner=str(doctor), tz="UTC")
    assert held.status_code == 409
    with app.app_context():
        taken = sa.select(sa.func.count()).where(Appointment.status.in_(["held", "confirmed"]))
        assert db.session.scalar(taken) == 0


def test_a_time_already_held_is_kept_for_the_patient(app, client, doctor):
    """A hold is the patient's: a busy time synced over it while they type their details
    does not take it back (as time off added over it would not); the consult then lands in
    the practitioner's calendar, where they can see the clash."""
    start = factories.next_grid_time(days_ahead=4, hour=15)
    held = hold(client, start, practitioner=str(doctor), tz="UTC")
    assert held.status_code == 303, held.text
    details_page = held.headers["Location"]
    with app.app_context():
        make_busy(doctor, start, start + timedelta(hours=1))
    sent = fill_details(client, details_page)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/done")
