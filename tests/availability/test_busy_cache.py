"""Busy times from practitioners' own calendars are kept in memory by each practitioner's
busy version: a sync that changes them, a calendar removed, or a busy time written any other
way moves the version in the same transaction, so free times and bookings never use a kept
copy that is no longer the stored one; and a booking leaves the kept copy in use."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from clinic.availability.busy_cache import busy_cache
from clinic.availability.open_times import slot_cache
from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.models import CalendarConnection, ExternalBusy, Practitioner
from clinic.own_calendars import connections
from clinic.own_calendars.busy_times import Busy
from clinic.own_calendars.sync import _locked, _replace
from clinic.scheduling import Interval
from tests.support import factories
from tests.support.booking import book
from tests.support.own_calendars import connect_feed


@pytest.fixture
def doctor(app):
    with app.app_context():
        factories.clinic()
        return factories.practitioner().id


def offered(client, day) -> set[str]:
    with client.application.app_context():
        slot_cache().clear()  # free times worked out afresh: the busy times are what is tested
        client.application.extensions["clinic.web.kept_answers"].forget_all()
        client.application.extensions["clinic.web.versioned_answers"].clear()
    slots = client.get(f"/api/v1/slots?timezone=UTC&from={day}&to={day}").get_json()["slots"]
    return {s["start_utc"] for s in slots}


def z(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def synced(connection_id: int, busy: list[Busy]) -> None:
    """As a sync stores what it read: bulk statements under the practitioner's lock."""
    connection = _locked(connection_id)
    assert _replace(connection, busy)
    db.session.commit()


def busy_version(doctor_id: int) -> int:
    db.session.rollback()
    return db.session.get(Practitioner, doctor_id).busy_version


def test_a_sync_a_removal_and_a_booking_each_keep_the_kept_busy_times_true(app, client, doctor):
    dentist = factories.next_grid_time(days_ahead=2, hour=12)
    day = dentist.date()
    with app.app_context():
        home = connect_feed(doctor)
        before = busy_version(doctor)
    assert z(dentist) in offered(client, day)  # the empty busy times are now kept

    with app.app_context():
        synced(home, [Busy(dentist, dentist + timedelta(minutes=45), "k" * 32)])
        synced_version = busy_version(doctor)
        assert synced_version != before
    assert z(dentist) not in offered(client, day)

    with app.app_context():  # a booking changes the schedule, not the busy times
        later = factories.next_grid_time(days_ahead=2, hour=16)
        book(db.session.get(Practitioner, doctor), later)
        assert busy_version(doctor) == synced_version
        kept = busy_cache().kept([doctor])[(doctor, synced_version)]
        assert [b.start for b in kept] == [dentist]
    assert z(dentist) not in offered(client, day)

    with app.app_context():
        connection = db.session.get(CalendarConnection, home)
        connections.remove(connection, None, utc_now(), address="")
        assert busy_version(doctor) not in (before, synced_version)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalBusy)) == 0
    assert z(dentist) in offered(client, day)


def test_while_the_version_stands_the_kept_copy_is_what_is_used(app, client, doctor):
    """The rows are not read again while the version is the kept one: a copy put in by hand
    (which no real sync could make) is what the free times then leave out."""
    noon = factories.next_grid_time(days_ahead=3, hour=12)
    assert z(noon) in offered(client, noon.date())
    with app.app_context():
        version = busy_version(doctor)
        busy_cache().put(doctor, version, (Interval(noon, noon + timedelta(minutes=30)),))
    assert z(noon) not in offered(client, noon.date())
