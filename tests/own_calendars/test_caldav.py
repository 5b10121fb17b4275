"""A CalDAV account on a real server: Radicale, started on loopback with one user. Its events
block the right times; the consults booked, moved and cancelled appear, change and disappear
there; and Radicale stopped mid-run, then started again, loses and duplicates nothing."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import sqlalchemy as sa
from caldav.collection import Calendar
from caldav.davclient import DAVClient

from clinic.booking import lifecycle
from clinic.core.extensions import db
from clinic.core.links import uid_domain
from clinic.core.models import (
    AuditEvent,
    CalendarConnection,
    CalendarCopy,
    ExternalBusy,
    Practitioner,
)
from clinic.core.models.own_calendars import STALE
from clinic.own_calendars import connections, push
from clinic.own_calendars.caldav_account import account
from clinic.own_calendars.push import push_due
from clinic.own_calendars.sync import sync_connection
from clinic.privacy.erasure import erase_patient
from tests.support import factories
from tests.support.booking import book
from tests.support.own_calendars import DAV_CALENDARS, connect_account
from tests.support.radicale import PASSWORD, USER, Radicale, running_radicale


@pytest.fixture
def radicale(tmp_path):
    with running_radicale(tmp_path, work="Work", family="Family") as server:
        yield server


@pytest.fixture
def allow_loopback(app):
    app.config["CALENDAR_ALLOW_PRIVATE_HOSTS"] = True  # Radicale listens on loopback


def put_event(server: Radicale, calendar: str, uid: str, *events: str) -> None:
    """One resource holding ``events`` (a series and its overrides), each given as its
    lines less UID and DTSTAMP."""
    body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
    for lines in events:
        body += f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        body += "".join(f"{line.strip()}\r\n" for line in lines.strip().splitlines())
        body += "END:VEVENT\r\n"
    body += "END:VCALENDAR\r\n"
    with account(server.url, USER, PASSWORD, allow_private=True) as dav:
        response = dav.client.request(
            f"{server.calendar_url(calendar)}{uid}.ics",
            "PUT",
            body,
            {"Content-Type": "text/calendar"},
        )
        assert response.status in (201, 204), response.status


def stored_events(server: Radicale, calendar: str) -> dict[str, icalendar.Event]:
    """The calendar's events by UID, as the server holds them (fails on a UID held twice)."""
    with DAVClient(url=server.url, username=USER, password=PASSWORD) as client:
        objects = Calendar(client=client, url=server.calendar_url(calendar)).search(event=True)
        events = [
            event
            for obj in objects
            for event in icalendar.Calendar.from_ical(obj.data).walk("VEVENT")
        ]
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids)), f"an event is there twice: {uids}"
    return {str(event["UID"]): event for event in events}


def connect(
    server: Radicale,
    doctor_id: int,
    now: datetime,
    password: str = PASSWORD,
    allow_private: bool = True,
) -> CalendarConnection:
    return connections.add_account(
        doctor_id,
        "Phone",
        server.url,
        USER,
        password,
        None,
        now,
        address="192.0.2.10",
        allow_private=allow_private,
    )


def test_a_wrong_password_is_refused_beside_it_and_nothing_is_saved(app, radicale):
    with app.app_context():
        doctor = factories.practitioner()
        with pytest.raises(connections.ConnectionRefused) as refused:
            connect(radicale, doctor.id, datetime.now(UTC), password="wrong")
        assert refused.value.field == "password"
        assert "app password" in str(refused.value)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarConnection)) == 0


def test_loopback_is_refused_unless_allowed(app, radicale):
    with app.app_context():
        doctor = factories.practitioner()
        with pytest.raises(connections.ConnectionRefused) as refused:
            connect(radicale, doctor.id, datetime.now(UTC), allow_private=False)
        assert refused.value.field == "server_url"
        assert "private or local" in str(refused.value)


def test_an_account_lists_its_calendars_and_all_count_as_busy_at_first(app, radicale):
    with app.app_context():
        doctor = factories.practitioner()
        connection = connect(radicale, doctor.id, datetime.now(UTC))
        names = sorted(name for _, name in connection.calendars)
        assert names == ["Family", "Work"]
        assert sorted(connection.busy_calendars) == sorted(u for u, _ in connection.calendars)
        assert connection.push_calendar == ""
        assert connection.secret and PASSWORD.encode() not in connection.secret
        audit = db.session.scalars(sa.select(AuditEvent)).all()
        assert [a.action for a in audit] == ["calendar_connected"]
        assert PASSWORD not in audit[0].detail and audit[0].address == "192.0.2.10"


def test_events_in_the_chosen_calendars_block_the_right_times(app, radicale, allow_loopback):
    now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    with app.app_context():
        factories.clinic(horizon_days=30)
        doctor = factories.practitioner(timezone="Europe/London")
        # Weekly on Thursdays at 08:30 London time, across the change to summer time on
        # 29 March; the 2 April one moved to 16:00, the 9 April one cancelled.
        put_event(
            radicale,
            "work",
            "school-run",
            """
            DTSTART;TZID=Europe/London:20260319T083000
            DTEND;TZID=Europe/London:20260319T091500
            RRULE:FREQ=WEEKLY;COUNT=5
            EXDATE;TZID=Europe/London:20260409T083000
            """,
            """
            RECURRENCE-ID;TZID=Europe/London:20260402T083000
            DTSTART;TZID=Europe/London:20260402T160000
            DTEND;TZID=Europe/London:20260402T164500
            """,
        )
        put_event(
            radicale,
            "work",
            "lunch",
            "DTSTART:20260324T120000Z\nDTEND:20260324T130000Z\nTRANSP:TRANSPARENT",
        )
        put_event(
            radicale,
            "work",
            f"c1@{uid_domain()}",
            "DTSTART:20260325T100000Z\nDTEND:20260325T102000Z",
        )
        put_event(
            radicale, "family", "birthday", "DTSTART;VALUE=DATE:20260327\nDTEND;VALUE=DATE:20260328"
        )
        connection = connect(radicale, doctor.id, now)
        work = next(url for url, name in connection.calendars if name == "Work")
        connections.choose_calendars(connection, [work], "", None, now, address="")
        outcome = sync_connection(connection.id, now)
        assert outcome.ok, outcome
        busy = db.session.execute(
            sa.select(ExternalBusy.starts_at, ExternalBusy.ends_at).order_by(ExternalBusy.starts_at)
        ).all()
    utc = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    assert [tuple(b) for b in busy] == [
        (utc(2026, 3, 26, 8, 30), utc(2026, 3, 26, 9, 15)),  # GMT
        (utc(2026, 4, 2, 15, 0), utc(2026, 4, 2, 15, 45)),  # BST, moved to the afternoon
        (utc(2026, 4, 16, 7, 30), utc(2026, 4, 16, 8, 15)),  # BST
    ]  # not the free lunch, the consult written by this site, nor the Family calendar


def receiving(server: Radicale, doctor_id: int, now: datetime) -> CalendarConnection:
    """An account whose Work calendar is busy and receives the practitioner's consults."""
    connection = connect(server, doctor_id, now)
    work = next(url for url, name in connection.calendars if name == "Work")
    connections.choose_calendars(connection, [work], work, None, now, address="")
    return connection


def copies_waiting(doctor_id: int) -> tuple[int, str]:
    db.session.rollback()
    [status] = connections.statuses([doctor_id], datetime.now(UTC), timedelta(hours=24))[doctor_id]
    return status.copies_waiting, status.copy_error


def test_consults_booked_moved_and_cancelled_appear_change_and_disappear(
    app, radicale, allow_loopback
):
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner(name="Dr Ada Lane")
        connection = receiving(radicale, doctor.id, datetime.now(UTC))
        start = factories.next_grid_time(days_ahead=3)
        consult, token = book(doctor, start)
        uid = consult.calendar_uid
        assert push_due(datetime.now(UTC)) == 1
        [event] = stored_events(radicale, "work").values()
        assert str(event["UID"]) == uid
        assert event["DTSTART"].dt == start and event["SEQUENCE"] == 0
        assert str(event["SUMMARY"]).endswith("J. P.")  # initials, as in the feed
        assert "ORGANIZER" not in event and "ATTENDEE" not in event  # no server-sent invites
        assert push_due(datetime.now(UTC)) == 0  # nothing left to do

        lifecycle.reschedule(token, start + timedelta(days=1), datetime.now(UTC))
        assert push_due(datetime.now(UTC)) == 1
        [event] = stored_events(radicale, "work").values()
        assert str(event["UID"]) == uid
        assert event["DTSTART"].dt == start + timedelta(days=1) and event["SEQUENCE"] == 1

        # The consult in the Work calendar is the site's own: it is not read back as busy.
        assert sync_connection(connection.id, datetime.now(UTC)).ok
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalBusy)) == 0

        lifecycle.cancel(token, "Feeling better", datetime.now(UTC))
        assert push_due(datetime.now(UTC)) == 1
        assert stored_events(radicale, "work") == {}
        assert copies_waiting(doctor.id) == (0, "")


def test_consults_already_booked_are_copied_when_a_calendar_is_chosen(
    app, radicale, allow_loopback
):
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner()
        first, _ = book(doctor, factories.next_grid_time(days_ahead=2))
        second, _ = book(doctor, factories.next_grid_time(days_ahead=4), email="sam@example.com")
        connection = connect(radicale, doctor.id, datetime.now(UTC))
        assert push_due(datetime.now(UTC)) == 0  # no calendar receives consults yet
        urls = {name: url for url, name in connection.calendars}
        now = datetime.now(UTC)
        connections.choose_calendars(connection, [], urls["Work"], None, now, address="")
        assert push_due(datetime.now(UTC)) == 2
        assert set(stored_events(radicale, "work")) == {first.calendar_uid, second.calendar_uid}
        # Another calendar chosen: the copies move there.
        connection = db.session.get(CalendarConnection, connection.id)
        connections.choose_calendars(connection, [], urls["Family"], None, now, address="")
        assert push_due(datetime.now(UTC)) == 2
        assert stored_events(radicale, "work") == {}
        assert set(stored_events(radicale, "family")) == {first.calendar_uid, second.calendar_uid}


def test_an_event_written_without_hearing_back_is_not_written_twice(app, radicale, allow_loopback):
    """The server stored the PUT but its answer was lost: the next try meets If-None-Match's
    412, reads the event's ETag, and writes over it: still one event."""
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner()
        receiving(radicale, doctor.id, datetime.now(UTC))
        consult, _ = book(doctor, factories.next_grid_time(days_ahead=2))
        put_event(
            radicale,
            "work",
            consult.calendar_uid,
            "DTSTART:20300101T100000Z\nDTEND:20300101T102000Z",
        )
        assert push_due(datetime.now(UTC)) == 1
        [event] = stored_events(radicale, "work").values()
        assert event["DTSTART"].dt == consult.starts_at  # the consult's time, not the stale one
        assert copies_waiting(doctor.id) == (0, "")


def test_radicale_stopped_mid_run_then_started_loses_and_duplicates_nothing(
    app, radicale, allow_loopback
):
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner()
        receiving(radicale, doctor.id, datetime.now(UTC))
        moved_start = factories.next_grid_time(days_ahead=2)
        moved, moved_token = book(doctor, moved_start)
        gone, gone_token = book(
            doctor, factories.next_grid_time(days_ahead=3), email="b@example.com"
        )
        assert push_due(datetime.now(UTC)) == 2

        radicale.stop()
        now = datetime.now(UTC)
        lifecycle.reschedule(moved_token, moved_start + timedelta(hours=2), now)
        lifecycle.cancel(gone_token, "", now)
        new, _ = book(doctor, factories.next_grid_time(days_ahead=4), email="c@example.com")
        now = datetime.now(UTC)
        assert push_due(now) == 3  # each tried, each failed
        waiting, error = copies_waiting(doctor.id)
        assert waiting == 3 and "Couldn't reach 127.0.0.1" in error
        assert push_due(now + timedelta(seconds=30)) == 0  # they wait a minute before trying again

        radicale.start()
        assert push_due(now + timedelta(minutes=2)) == 3
        events = stored_events(radicale, "work")
        assert set(events) == {moved.calendar_uid, new.calendar_uid}  # the cancelled one gone
        assert events[moved.calendar_uid]["DTSTART"].dt == moved_start + timedelta(hours=2)
        assert events[moved.calendar_uid]["SEQUENCE"] == 1
        assert copies_waiting(doctor.id) == (0, "")
        assert push_due(now + timedelta(hours=2)) == 0
        rows = db.session.scalars(sa.select(CalendarCopy).order_by(CalendarCopy.id)).all()
        assert [(r.uid, r.written_sequence) for r in rows] == [
            (moved.calendar_uid, 1),
            (gone.calendar_uid, None),
            (new.calendar_uid, 0),
        ]
        assert db.session.get(Practitioner, doctor.id) is not None


def test_an_erased_patient_leaves_the_copies_of_their_consults_without_a_name(
    app, radicale, allow_loopback
):
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner()
        now = datetime.now(UTC)
        past = factories.appointment(
            doctor, now - timedelta(hours=2), status="completed", calendar_uid="past@clinic.test"
        )
        past.patient.email = "pat@example.com"
        db.session.commit()
        coming, _ = book(doctor, factories.next_grid_time(days_ahead=2), email="pat@example.com")
        receiving(radicale, doctor.id, now)
        assert push_due(datetime.now(UTC)) == 2
        events = stored_events(radicale, "work")
        assert str(events["past@clinic.test"]["SUMMARY"]).endswith("J. P.")  # booked as Jo

        erase_patient("pat@example.com", datetime.now(UTC))
        assert push_due(datetime.now(UTC)) == 2
        events = stored_events(radicale, "work")
        assert set(events) == {"past@clinic.test"}  # the coming consult was cancelled
        summary = str(events["past@clinic.test"]["SUMMARY"])
        assert "J. P." not in summary and summary == "Free 20-minute virtual consult"


def test_a_revoked_password_or_a_stopped_server_is_shown_and_the_busy_times_stay(
    app, radicale, allow_loopback
):
    now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    with app.app_context():
        factories.clinic(horizon_days=30)
        doctor = factories.practitioner()
        put_event(radicale, "work", "dentist", "DTSTART:20260325T100000Z\nDTEND:20260325T110000Z")
        connection = connect(radicale, doctor.id, now)
        assert sync_connection(connection.id, now).ok
        kept = db.session.scalars(sa.select(ExternalBusy.starts_at)).all()
        assert len(kept) == 1

        (radicale.folder / "users").write_text(f"{USER}:a-new-password\n")  # revoked
        outcome = sync_connection(connection.id, now + timedelta(minutes=5))
        assert not outcome.ok and "refused the user name or app password" in outcome.error
        radicale.stop()
        outcome = sync_connection(connection.id, now + timedelta(minutes=10))
        assert not outcome.ok and "Couldn't reach 127.0.0.1" in outcome.error
        db.session.rollback()
        row = db.session.get(CalendarConnection, connection.id)
        assert row.failing_since == now + timedelta(minutes=5) and row.last_success_at == now
        assert db.session.scalars(sa.select(ExternalBusy.starts_at)).all() == kept


def copy_row(uid: str) -> CalendarCopy:
    db.session.rollback()
    return db.session.scalar(sa.select(CalendarCopy).where(CalendarCopy.uid == uid))


def test_a_copy_another_worker_holds_is_left_to_it_until_its_lease_runs_out(
    app, radicale, allow_loopback
):
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner()
        receiving(radicale, doctor.id, datetime.now(UTC))
        consult, _ = book(doctor, factories.next_grid_time(days_ahead=2))
        now = datetime.now(UTC)
        copy = copy_row(consult.calendar_uid)
        copy.leased_until = now + timedelta(minutes=5)  # another worker is writing it
        db.session.commit()
        assert push_due(now) == 0 and stored_events(radicale, "work") == {}
        assert push_due(now + timedelta(minutes=6)) == 1  # that worker died: taken again
        assert set(stored_events(radicale, "work")) == {consult.calendar_uid}


def test_a_change_made_while_a_copy_is_written_has_it_written_again(app):
    """What a worker wrote may predate the change (a new time, an erased name): it records
    the copy as stale and leaves it due; and a worker that lost its lease records nothing."""
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner()
        connection = connect_account(doctor.id, push_calendar=DAV_CALENDARS[0][0])
        consult, _ = book(doctor, factories.next_grid_time(days_ahead=2))
        copy = copy_row(consult.calendar_uid)
        claim = push.Claim(copy.id, copy.due_at, copy.due_at + timedelta(minutes=5))
        copy.leased_until, copy.connection_id = claim.lease, connection
        db.session.commit()
        lifecycle_change = copy.due_at + timedelta(seconds=1)
        copy.due_at = lifecycle_change  # the consult changed while the worker wrote it
        db.session.commit()
        push._done(claim, "https://dav.example.com/ada/work/x.ics", '"e1"', 0)
        row = copy_row(consult.calendar_uid)
        assert row.written_sequence == STALE and row.due_at == lifecycle_change
        assert row.leased_until is None and row.href.endswith("x.ics")

        late = push.Claim(row.id, row.due_at, row.due_at + timedelta(minutes=5))
        push._done(late, "", "", None)  # never held: nothing recorded
        assert copy_row(consult.calendar_uid).href.endswith("x.ics")


def test_a_calendar_the_account_may_not_change_is_said_so(app, radicale, allow_loopback):
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner()
        connection = receiving(radicale, doctor.id, datetime.now(UTC))
        db.session.execute(  # a calendar of another user's: read-only to this account
            sa.update(CalendarConnection)
            .where(CalendarConnection.id == connection.id)
            .values(push_calendar=radicale.url + "someone/shared/")
        )
        db.session.commit()
        book(doctor, factories.next_grid_time(days_ahead=2))
        assert push_due(datetime.now(UTC)) == 1
        waiting, error = copies_waiting(doctor.id)
        assert waiting == 1 and "would not let this account change that calendar" in error


def test_a_server_that_cant_be_reached_is_asked_once_a_round(app, allow_loopback):
    """The rest of its copies wait for the next round without keeping the thread (and the
    busy times read after it) waiting on the same server again."""
    accepted = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def refuse() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()  # hangs up without a word

    threading.Thread(target=refuse, daemon=True).start()
    try:
        with app.app_context():
            factories.clinic()
            doctor = factories.practitioner()
            connect_account(
                doctor.id,
                server_url=f"http://127.0.0.1:{port}/",
                push_calendar=f"http://127.0.0.1:{port}/ada/work/",
            )
            for days in (2, 3, 4):
                book(doctor, factories.next_grid_time(days_ahead=days), email=f"{days}@x.org")
            assert push_due(datetime.now(UTC)) == 3
            waiting, error = copies_waiting(doctor.id)
            assert waiting == 3 and "127.0.0.1" in error
    finally:
        listener.close()
    assert len(accepted) == 1  # the first copy's one try; the other two waited without asking
