"""Syncing an ICS feed served by a real HTTP server on loopback: the busy times stored are the
feed's, an unchanged feed is asked with its ETag and costs nothing, and every failure is
recorded on the connection while the last good busy times stay in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import CalendarConnection, ExternalBusy, Practitioner
from clinic.own_calendars.busy_times import read_busy
from clinic.own_calendars.sync import sync_connection, sync_due
from tests.support import factories
from tests.support.http_servers import http_server
from tests.support.own_calendars import connect_feed

FEED = (Path(__file__).parent / "feeds" / "google.ics").read_bytes()
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)  # the feed's events are in the weeks after


@pytest.fixture
def feed_server():
    with http_server() as server:
        server.pages["/cal.ics"] = (FEED, {"ETag": '"v1"', "Content-Type": "text/calendar"})
        yield server


@pytest.fixture
def allow_loopback(app):
    app.config["CALENDAR_ALLOW_PRIVATE_HOSTS"] = True  # the test's server is on loopback


def connect(url: str) -> tuple[int, int]:
    """A practitioner in London with an ICS connection to ``url``: (practitioner, connection)."""
    factories.clinic(horizon_days=60)
    doctor = factories.practitioner(timezone="Europe/London")
    return doctor.id, connect_feed(doctor.id, url, created_at=NOW)


def stored(connection_id: int) -> list[tuple[datetime, datetime]]:
    db.session.rollback()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(ExternalBusy.starts_at, ExternalBusy.ends_at)
            .where(ExternalBusy.connection_id == connection_id)
            .order_by(ExternalBusy.starts_at)
        )
    ]


def version(doctor_id: int) -> int:
    db.session.rollback()
    return db.session.get(Practitioner, doctor_id).schedule_version


def test_the_busy_times_stored_are_the_feeds(app, feed_server, allow_loopback):
    with app.app_context():
        doctor, connection = connect(feed_server.url + "/cal.ics")
        before = version(doctor)
        outcome = sync_connection(connection, NOW)
        assert outcome.ok and outcome.changed, outcome
        expected = read_busy(
            FEED, NOW - timedelta(days=1), NOW + timedelta(days=68), ZoneInfo("Europe/London")
        )
        assert stored(connection) == [(b.starts_at, b.ends_at) for b in expected.busy]
        assert len(stored(connection)) == 12  # the school runs to 15 April, and four others
        assert version(doctor) == before + 1  # cached free times are forgotten
        row = db.session.get(CalendarConnection, connection)
        assert row.last_success_at == NOW and row.last_error == "" and row.etag == '"v1"'


def test_an_unchanged_feed_is_asked_with_its_etag_and_changes_nothing(
    app, feed_server, allow_loopback
):
    with app.app_context():
        doctor, connection = connect(feed_server.url + "/cal.ics")
        sync_connection(connection, NOW)
        busy, before = stored(connection), version(doctor)
        later = NOW + timedelta(minutes=5)
        outcome = sync_connection(connection, later)
        assert outcome.ok and not outcome.changed
        assert feed_server.asked[-1].get("If-None-Match") == '"v1"'
        assert stored(connection) == busy and version(doctor) == before
        assert db.session.get(CalendarConnection, connection).last_success_at == later


def test_a_changed_feed_replaces_the_busy_times(app, feed_server, allow_loopback):
    with app.app_context():
        doctor, connection = connect(feed_server.url + "/cal.ics")
        sync_connection(connection, NOW)
        before = version(doctor)
        dentist_only = FEED.split(b"BEGIN:VEVENT")[0] + b"END:VCALENDAR\r\n"
        feed_server.pages["/cal.ics"] = (dentist_only, {"ETag": '"v2"'})
        assert sync_connection(connection, NOW + timedelta(minutes=5)).changed
        assert stored(connection) == [] and version(doctor) == before + 1


def test_a_loopback_feed_is_refused_unless_the_setting_allows_it(app, feed_server):
    with app.app_context():
        doctor, connection = connect(feed_server.url + "/cal.ics")
        outcome = sync_connection(connection, NOW)
        assert not outcome.ok and "private or local" in outcome.error
        assert feed_server.hits == []
        row = db.session.get(CalendarConnection, connection)
        assert row.failing_since == NOW and "private or local" in row.last_error


@pytest.mark.parametrize(
    ("status", "says"),
    [(401, "asked for a password"), (404, "no calendar at that address"), (500, "(500)")],
)
def test_an_error_is_recorded_and_the_last_good_busy_times_stay(
    app, feed_server, allow_loopback, status, says
):
    with app.app_context():
        doctor, connection = connect(feed_server.url + "/cal.ics")
        sync_connection(connection, NOW)
        good, before = stored(connection), version(doctor)
        feed_server.statuses["/cal.ics"] = status
        later = NOW + timedelta(minutes=5)
        outcome = sync_connection(connection, later)
        assert not outcome.ok and says in outcome.error
        assert stored(connection) == good and version(doctor) == before
        row = db.session.get(CalendarConnection, connection)
        assert row.last_success_at == NOW and row.failing_since == later
        assert says in row.last_error
        # A second failure keeps when the outage began; a success ends it.
        sync_connection(connection, later + timedelta(minutes=5))
        assert db.session.get(CalendarConnection, connection).failing_since == later
        del feed_server.statuses["/cal.ics"]
        assert sync_connection(connection, later + timedelta(minutes=10)).ok
        row = db.session.get(CalendarConnection, connection)
        assert row.failing_since is None and row.last_error == ""


def test_a_page_that_is_not_a_calendar_is_recorded_as_such(app, feed_server, allow_loopback):
    with app.app_context():
        feed_server.pages["/sign-in"] = (b"<!doctype html><title>Sign in</title>", {})
        _doctor, connection = connect(feed_server.url + "/sign-in")
        outcome = sync_connection(connection, NOW)
        assert not outcome.ok and "not a calendar" in outcome.error
        assert stored(connection) == []


def test_a_round_syncs_the_feeds_that_are_due_and_each_one_once(app, feed_server, allow_loopback):
    with app.app_context():
        _doctor, first = connect(feed_server.url + "/cal.ics")
        second_id = connect_feed(
            _doctor,
            feed_server.url + "/cal.ics",
            "Work",
            created_at=NOW,
            sync_due_at=NOW + timedelta(minutes=3),  # not yet
        )
        assert sync_due(NOW) == 1
        assert len(stored(first)) == 12 and stored(second_id) == []
        row = db.session.get(CalendarConnection, first)
        assert row.sync_due_at == NOW + timedelta(minutes=5)  # CALENDAR_SYNC_MINUTES
        assert sync_due(NOW + timedelta(minutes=1)) == 0  # nothing due
        assert sync_due(NOW + timedelta(minutes=5)) == 2
        assert len(feed_server.hits) == 3


def test_an_unchanged_feed_is_read_in_full_once_the_window_moves_past_its_last_read(
    app, feed_server, allow_loopback
):
    """A 304 keeps the busy times read for the old window: when the days move on past it (or
    the horizon grows), the feed is asked without its ETag and read for the whole window."""
    with app.app_context():
        _doctor, connection = connect(feed_server.url + "/cal.ics")
        sync_connection(connection, NOW)
        sync_connection(connection, NOW + timedelta(hours=1))
        assert feed_server.asked[-1].get("If-None-Match") == '"v1"'
        assert db.session.get(CalendarConnection, connection).covered_until == NOW + timedelta(
            days=61 + 7  # the horizon, a day, and a week read ahead
        )
        sync_connection(connection, NOW + timedelta(days=6))
        assert feed_server.asked[-1].get("If-None-Match") == '"v1"'  # still covered
        sync_connection(connection, NOW + timedelta(days=8))
        assert "If-None-Match" not in feed_server.asked[-1]
        covered = db.session.get(CalendarConnection, connection).covered_until
        assert covered == NOW + timedelta(days=8 + 68)
        sync_connection(connection, NOW + timedelta(days=8, hours=1))
        assert feed_server.asked[-1].get("If-None-Match") == '"v1"'
        db.session.execute(sa.text("UPDATE clinic_settings SET horizon_days = 90"))
        db.session.commit()
        sync_connection(connection, NOW + timedelta(days=8, hours=2))
        assert "If-None-Match" not in feed_server.asked[-1]


def test_a_calendar_that_fails_unexpectedly_is_recorded_and_the_round_goes_on(
    app, feed_server, allow_loopback
):
    with app.app_context():
        _doctor, broken = connect("http://a..b/cal.ics")  # the HTTP client can't parse it
        second_id = connect_feed(_doctor, feed_server.url + "/cal.ics", "Work", created_at=NOW)
        assert sync_due(NOW) == 2
        assert db.session.get(CalendarConnection, broken).failing_since == NOW
        assert len(stored(second_id)) == 12
