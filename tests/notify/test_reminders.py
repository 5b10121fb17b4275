"""Reminder emails: written at booking, moved by a reschedule, dropped by a cancellation,
never sent for a consult that has started, and due at absolute instants across DST changes.

Every service call and worker run gets ``now`` explicitly, so nothing here sleeps or depends
on today's date (except the end-to-end SMTP test, whose manage link is opened for real).
Without ``MAIL_SERVER`` the worker marks messages ``logged`` instead of ``sent``: for timing
it is enough to see which reminder rows stop being ``pending`` at which ``now``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.booking import lifecycle as changes
from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.formatting import short_when, when_label
from clinic.core.models import OutboxMessage
from clinic.notify import delivery
from clinic.notify.compose import compose
from clinic.notify.delivery import deliver_due
from tests.support import factories
from tests.support.apps import running_app

NOW = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
START = datetime(2026, 10, 23, 15, 0, tzinfo=UTC)  # three days after NOW
SECOND = timedelta(seconds=1)
DAY, HOUR = timedelta(hours=24), timedelta(hours=1)
PATIENT = "jo@example.com"


def open_clinic(hours=factories.ALL_DAY, practitioner_zone="UTC", **settings):
    """Clinic settings plus one practitioner (Dr Ada Lane); returns the practitioner."""
    factories.clinic(**settings)
    return factories.practitioner(hours=hours, name="Dr Ada Lane", timezone=practitioner_zone)


def book(practitioner, start=START, now=NOW, zone="Europe/London"):
    return services.book(
        practitioner.id,
        start,
        ZoneInfo(zone),
        services.PatientDetails("Jo Patient", PATIENT),
        now,
        "clinic.test",
    )


def reminders(appointment_id: int, status: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    stmt = sa.select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment_id, OutboxMessage.kind == "reminder"
    )
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return list(db.session.scalars(stmt.order_by(OutboxMessage.next_attempt_at)))


def due_times(appointment_id: int, status: str = "pending") -> list[datetime]:
    return [m.next_attempt_at for m in reminders(appointment_id, status)]


def sent_reminders(appointment_id: int) -> list[OutboxMessage]:
    """Reminders that went out (to SMTP or, with no mail server, to the log)."""
    return [m for m in reminders(appointment_id) if m.status in ("sent", "logged", "sending")]


# --- written at booking -------------------------------------------------------------------


def test_booking_writes_reminders_24_hours_and_1_hour_before(app):
    """Two reminders to the patient (none to the practitioner), due exactly 24 h and 1 h
    before the start, each recording the start it reminds of."""
    appointment, _ = book(open_clinic())

    rows = reminders(appointment.id)

    assert [m.next_attempt_at for m in rows] == [START - DAY, START - HOUR]
    assert [m.payload["minutes_before"] for m in rows] == [1440, 60]
    for row in rows:
        assert row.status == "pending" and row.attempts == 0
        assert row.audience == "patient" and row.recipient == PATIENT
        assert row.payload["starts_at"] == START.isoformat()
        assert row.payload["sequence"] == appointment.sequence


@pytest.mark.parametrize(
    "starts_in, expected",
    [
        (timedelta(days=3), [1440, 60]),
        (timedelta(hours=24, minutes=30), [1440, 60]),
        (timedelta(hours=24), [60]),  # the 24-hour reminder would be due right now
        (timedelta(hours=5), [60]),
        (timedelta(minutes=90), [60]),
        (timedelta(minutes=60), []),  # booked at the minimum notice: both are past or now
    ],
)
def test_no_reminder_is_written_for_a_time_already_past(app, starts_in, expected):
    """Only reminders whose due time is still ahead of the booking are written."""
    start = NOW + starts_in
    appointment, _ = book(open_clinic(), start=start)

    rows = reminders(appointment.id)

    assert [m.payload["minutes_before"] for m in rows] == expected
    assert [m.next_attempt_at for m in rows] == [start - timedelta(minutes=m) for m in expected]
    assert all(m.next_attempt_at > NOW for m in rows)


@pytest.mark.parametrize(
    "setting, expected",
    [("120", [120]), ("60, 2880,1440", [2880, 1440, 60]), ("", [])],
)
def test_reminder_offsets_follow_the_setting(app, setting, expected):
    """``reminder_minutes`` decides how many reminders there are and when: "120" gives one,
    2 hours before; an empty setting gives none."""
    appointment, _ = book(open_clinic(reminder_minutes=setting))

    assert due_times(appointment.id) == [START - timedelta(minutes=m) for m in expected]


# --- delivered at their time --------------------------------------------------------------


def test_a_reminder_goes_at_its_due_time_and_not_a_second_before(app):
    """The worker leaves each reminder alone until its due instant, then sends it."""
    appointment, _ = book(open_clinic())
    assert deliver_due(NOW).logged == 2  # the confirmation and the practitioner's notice

    for due in (START - DAY, START - HOUR):
        assert deliver_due(due - SECOND).total == 0
        assert due in due_times(appointment.id)
        report = deliver_due(due)
        assert (report.logged, report.total) == (1, 1)
        [gone] = [m for m in reminders(appointment.id) if m.next_attempt_at == due]
        assert gone.status == "logged"
    assert due_times(appointment.id) == []


# --- moved and dropped --------------------------------------------------------------------


def test_a_reschedule_moves_the_reminders(app):
    """Rescheduling drops the pending reminders and writes new ones for the new start; the
    worker, run at the old due times, sends nothing; the new ones go at their own time."""
    appointment, token = book(open_clinic())
    new_start = datetime(2026, 10, 26, 11, 0, tzinfo=UTC)
    moved_at = NOW + HOUR

    changes.reschedule(token, new_start, moved_at)

    dropped = reminders(appointment.id, "dropped")
    assert [m.next_attempt_at for m in dropped] == [START - DAY, START - HOUR]
    assert all("moved" in m.last_error for m in dropped)
    fresh = reminders(appointment.id, "pending")
    assert [m.next_attempt_at for m in fresh] == [new_start - DAY, new_start - HOUR]
    assert all(m.payload["starts_at"] == new_start.isoformat() for m in fresh)
    assert all(m.payload["sequence"] == 1 for m in fresh)

    assert deliver_due(moved_at).logged == 4  # booked and rescheduled, to both
    for when in (START - DAY, START - HOUR, START, new_start - DAY - SECOND):
        assert deliver_due(when).total == 0, when
    assert sent_reminders(appointment.id) == []
    assert deliver_due(new_start - DAY).logged == 1
    assert deliver_due(new_start - HOUR).logged == 1
    assert [m.next_attempt_at for m in sent_reminders(appointment.id)] == [
        new_start - DAY,
        new_start - HOUR,
    ]
    assert len(reminders(appointment.id, "dropped")) == 2


def test_moving_a_consult_closer_writes_only_the_reminders_still_ahead(app):
    """Moved to 5 hours from now, the consult gets only its 1-hour reminder."""
    appointment, token = book(open_clinic())
    new_start = NOW + timedelta(hours=5)

    changes.reschedule(token, new_start, NOW)

    assert due_times(appointment.id) == [new_start - HOUR]
    assert due_times(appointment.id, "dropped") == [START - DAY, START - HOUR]


def test_a_reminder_claimed_before_a_reschedule_is_dropped_when_sent(app):
    """A worker claims the 24-hour reminder, the patient moves the consult, then the worker
    gets to it: the reminder names the old time, so it is dropped, not sent."""
    appointment, token = book(open_clinic())
    deliver_due(NOW)
    due = START - DAY
    claimed = delivery._claim(due, "worker-a", lease_until=due + timedelta(minutes=15))
    assert claimed == [m.id for m in reminders(appointment.id) if m.next_attempt_at == due]

    changes.reschedule(token, START + timedelta(days=2), due)
    report = delivery._deliver(claimed, due, "worker-a")

    assert (report.dropped, report.total) == (1, 1)
    [row] = [m for m in reminders(appointment.id) if m.id == claimed[0]]
    assert row.status == "dropped" and row.last_error == "The consult was moved."


def test_a_cancellation_drops_the_reminders(app):
    """Cancelling drops both pending reminders; running the worker after their due times and
    the start sends only the booking and cancellation messages."""
    appointment, token = book(open_clinic())

    changes.cancel(token, "", NOW + HOUR)

    assert due_times(appointment.id, "dropped") == [START - DAY, START - HOUR]
    assert all("cancelled" in m.last_error for m in reminders(appointment.id))
    assert deliver_due(NOW + HOUR).logged == 4  # booked and cancelled, to both
    for when in (START - DAY, START - HOUR, START + HOUR):
        assert deliver_due(when).total == 0
    assert sent_reminders(appointment.id) == []


@pytest.mark.parametrize("late", [timedelta(0), timedelta(minutes=5), timedelta(days=2)])
def test_no_reminder_for_a_consult_that_has_started(app, late):
    """If the worker was down until the consult started, the reminders still pending are
    dropped at send time ("already started"), not sent."""
    appointment, _ = book(open_clinic())
    deliver_due(NOW)

    report = deliver_due(START + late)

    assert (report.dropped, report.total) == (2, 2)
    rows = reminders(appointment.id)
    assert {m.status for m in rows} == {"dropped"}
    assert all(m.last_error == "The consult has already started." for m in rows)


def test_a_reminder_too_late_to_be_useful_is_dropped_and_the_next_one_still_goes(app):
    """A worker back 10 hours before the start: the 24-hour reminder has lost more than half
    its notice, so it is dropped rather than sent just before the 1-hour one; the 1-hour
    reminder still goes at its own time. Up to half its notice late, a reminder still goes."""
    appointment, _ = book(open_clinic())
    deliver_due(NOW)  # the confirmations

    back = START - 10 * HOUR
    report = deliver_due(back)

    assert (report.dropped, report.total) == (1, 1)
    [day_before] = reminders(appointment.id, "dropped")
    assert day_before.next_attempt_at == START - DAY
    assert day_before.last_error.startswith("Too late to be useful")
    assert deliver_due(START - HOUR - SECOND).total == 0
    assert deliver_due(START - HOUR).logged == 1

    second, _ = book(factories.practitioner(name="Dr Ben Ode"), start=START + 2 * HOUR, zone="UTC")
    deliver_due(NOW)
    half_late = START + 2 * HOUR - DAY / 2  # exactly half its notice left: still useful
    assert deliver_due(half_late).logged == 1
    assert [m.status for m in reminders(second.id)] == ["logged", "pending"]


# --- across a daylight-saving change ------------------------------------------------------


@pytest.mark.parametrize(
    "zone, old_local, new_local, day_before_local, label",
    [
        pytest.param(
            # New York leaves EDT on Sunday 1 November 2026, 02:00.
            "America/New_York",
            datetime(2026, 10, 30, 10, 0),  # Friday, EDT (14:00 UTC)
            datetime(2026, 11, 1, 10, 0),  # Sunday after the change, EST (15:00 UTC)
            datetime(2026, 10, 31, 11, 0),  # Saturday 11:00 EDT: 24 h before, not 10:00
            "Sunday 1 November 2026, 10:00 AM America/New_York (EST)",
            id="new-york-sunday",
        ),
        pytest.param(
            "America/New_York",
            datetime(2026, 10, 30, 10, 0),
            datetime(2026, 11, 2, 10, 0),  # Monday: 24 h before is Sunday, already EST
            datetime(2026, 11, 1, 10, 0),
            "Monday 2 November 2026, 10:00 AM America/New_York (EST)",
            id="new-york-monday",
        ),
        pytest.param(
            # London leaves BST on Sunday 25 October 2026, 02:00 local.
            "Europe/London",
            datetime(2026, 10, 23, 10, 0),  # Friday, BST (09:00 UTC)
            datetime(2026, 10, 25, 10, 0),  # Sunday after the change, GMT (10:00 UTC)
            datetime(2026, 10, 24, 11, 0),  # Saturday 11:00 BST
            "Sunday 25 October 2026, 10:00 AM Europe/London (GMT)",
            id="london-sunday",
        ),
    ],
)
def test_a_reschedule_across_a_dst_change_keeps_reminders_absolute(
    app, zone, old_local, new_local, day_before_local, label
):
    """A consult moved from before the clocks go back to after: its 24-hour reminder is due
    exactly 24 h (absolute) before the new start, which on the day before the change is an
    hour later on the wall clock; the reminders for the old time never go."""
    tz = ZoneInfo(zone)
    practitioner = open_clinic(
        hours=[(d, time(8), time(18)) for d in range(7)],
        practitioner_zone=zone,
        timezone=zone,
    )
    now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    old = old_local.replace(tzinfo=tz).astimezone(UTC)
    new = new_local.replace(tzinfo=tz).astimezone(UTC)
    appointment, token = book(practitioner, start=old, now=now, zone=zone)
    assert due_times(appointment.id) == [old - DAY, old - HOUR]

    changes.reschedule(token, new, now)

    day_before, hour_before = due_times(appointment.id)
    assert day_before == new - DAY and hour_before == new - HOUR
    assert day_before == day_before_local.replace(tzinfo=tz).astimezone(UTC)
    assert day_before.astimezone(tz).time() == day_before_local.time()
    assert hour_before.astimezone(tz).time() == time(9, 0)
    assert due_times(appointment.id, "dropped") == [old - DAY, old - HOUR]

    deliver_due(now)
    same_wall_time = (new_local - DAY).replace(tzinfo=tz).astimezone(UTC)
    checks = [old - DAY, old - HOUR, old, same_wall_time, day_before - SECOND]
    for when in sorted(c for c in checks if c < day_before):
        assert deliver_due(when).total == 0, when
    assert sent_reminders(appointment.id) == []

    assert deliver_due(day_before).logged == 1
    [reminder] = sent_reminders(appointment.id)
    assert reminder.next_attempt_at == day_before
    assert when_label(new, tz) == label
    assert label in compose(reminder).text
    assert deliver_due(hour_before).logged == 1
    assert len(sent_reminders(appointment.id)) == 2


# --- end to end, through a real SMTP server -----------------------------------------------


@pytest.fixture
def mailing_app(database_url, backend, sink):
    """The app sending through the SMTP sink on loopback."""
    with running_app(database_url, backend, **sink.config()) as app:
        yield app


def test_a_reminder_email_arrives_at_its_time_with_the_link_and_no_invite(mailing_app, sink):
    """Over real SMTP: the 24-hour reminder arrives at its due time (not a second before),
    gives the time in the patient's zone and the clinic's, carries the working manage link,
    and attaches no calendar invite."""
    practitioner = open_clinic(timezone="America/New_York")
    now = datetime.now(UTC)
    start = factories.next_grid_time(days_ahead=3, hour=15)
    appointment, token = book(practitioner, start=start, now=now, zone="Asia/Kolkata")
    assert deliver_due(now).sent == 2
    assert len(sink.messages_to(PATIENT)) == 1  # the confirmation

    assert deliver_due(start - DAY - SECOND).total == 0
    assert len(sink.messages_to(PATIENT)) == 1
    assert deliver_due(start - DAY).sent == 1

    inbox = sink.messages_to(PATIENT)
    assert len(inbox) == 2
    reminder = inbox[-1]
    kolkata = ZoneInfo("Asia/Kolkata")
    # The stdlib folds this subject onto a continuation line; unfolded, it reads as below.
    assert str(reminder["Subject"]).strip() == (
        f"Reminder: your consult with Dr Ada Lane, {short_when(start, kolkata)}"
    )
    text = reminder.get_body(("plain",)).get_content()
    html = reminder.get_body(("html",)).get_content()
    link = f"{mailing_app.config['CLINIC_BASE_URL']}/manage/{token}"
    assert link in text and link in html
    assert f"Your time: {when_label(start, kolkata)}" in text
    assert f"Clinic time: {when_label(start, ZoneInfo('America/New_York'))}" in text
    assert appointment.reference in text
    content_types = {part.get_content_type() for part in reminder.walk()}
    assert "text/calendar" not in content_types and "application/ics" not in content_types
    assert list(reminder.iter_attachments()) == []
    assert not any(part.get_content_disposition() == "attachment" for part in reminder.walk())

    page = mailing_app.test_client().get(f"/manage/{token}")
    assert page.status_code == 200 and appointment.reference in page.text
