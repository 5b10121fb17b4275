"""The manage link from every email: seeing, rescheduling and cancelling a consult over HTTP.

The routes use the real clock, so consults here are booked relative to ``datetime.now``.
CSRF stays on: every POST carries the token from a page the client fetched first.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.formatting import when_label
from clinic.core.links import link_token
from clinic.core.models import Appointment, OutboxMessage
from clinic.notify.compose import compose
from tests.support import factories
from tests.support.apps import csrf_token, running_app
from tests.support.booking import PATIENT_ZONE, book

CLINIC_ZONE = "America/New_York"
CLINIC_PHONE = "+1 555 0100"
CLINIC_EMAIL = "hello@clinic.test"
# 08:00-20:00 UTC every day: 15:00 is bookable, 22:00 is outside the hours.
WORKING_HOURS = [(d, time(8), time(20)) for d in range(7)]


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def doctor(app):
    factories.clinic(timezone=CLINIC_ZONE, contact_phone=CLINIC_PHONE)
    return factories.practitioner(hours=WORKING_HOURS, name="Dr Ada Lane")


def fresh(appointment_id: int) -> Appointment:
    """The row as the requests left it (ends the test's own snapshot first)."""
    db.session.rollback()
    return db.session.get(Appointment, appointment_id)


def outbox(appointment_id: int, kind: str | None = None) -> list[OutboxMessage]:
    db.session.rollback()
    stmt = sa.select(OutboxMessage).where(OutboxMessage.appointment_id == appointment_id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(stmt.order_by(OutboxMessage.id)))


def state(appointment_id: int) -> tuple:
    """Everything a refused request must leave alone: the consult and its whole outbox."""
    row = fresh(appointment_id)
    messages = [(m.id, m.kind, m.audience, m.status) for m in outbox(appointment_id)]
    return (
        row.status,
        row.starts_at,
        row.ends_at,
        row.sequence,
        row.cancel_reason,
        row.cancelled_at,
        tuple(messages),
    )


def offered_starts(html: str) -> set[datetime]:
    """The start times offered as buttons on a picker page."""
    return {datetime.fromisoformat(v) for v in re.findall(r'name="start" value="([^"]+)"', html)}


def alert(html: str) -> str:
    match = re.search(r'<div class="alert" role="alert">(.*?)</div>', html, re.S)
    assert match, "the page has no alert"
    return match.group(1)


def free_in_api(client, practitioner, day) -> set[datetime]:
    """Free starts for one UTC day from the public JSON API."""
    response = client.get(
        f"/api/v1/slots?timezone=UTC&from={day}&to={day}&practitioner={practitioner.id}"
    )
    assert response.status_code == 200
    return {datetime.fromisoformat(s["start_utc"]) for s in response.get_json()["slots"]}


def post_reschedule(client, token, start, tz=PATIENT_ZONE):
    page = client.get(f"/manage/{token}/reschedule")
    value = start if isinstance(start, str) else start.isoformat()
    return client.post(
        f"/manage/{token}/reschedule",
        data={"csrf_token": csrf_token(page.text), "tz": tz, "start": value},
    )


def any_csrf(client) -> str:
    """A valid CSRF token for this client's session, from a page that always has a form."""
    return csrf_token(client.get("/book").text)


class Controls(HTMLParser):
    """Form controls, buttons and labels of a page, to check every control is named."""

    def __init__(self, html: str):
        super().__init__()
        self.label_for: set[str] = set()
        self.fields: list[dict] = []
        self.buttons: list[str] = []
        self._button: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.fields.append(attrs)
        elif tag == "button":
            self._button = []

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.buttons.append(" ".join("".join(self._button).split()))
            self._button = None

    def handle_data(self, data):
        if self._button is not None:
            self._button.append(data)

    def unlabelled(self) -> list[dict]:
        return [
            f
            for f in self.fields
            if f.get("id") not in self.label_for
            and not f.get("aria-label")
            and not f.get("aria-labelledby")
        ]


# --- the manage page ----------------------------------------------------------------------


def test_the_manage_page_shows_the_consult_and_labelled_controls(client, doctor):
    """The link shows the time in the patient's zone (named) and in clinic time, the
    practitioner and reference, a way to reschedule and a form to cancel; every field and
    button is named, and the secret URL is neither cached nor sent on as a Referer."""
    start = factories.next_grid_time(days_ahead=3, hour=15)
    appointment, token = book(doctor, start)

    page = client.get(f"/manage/{token}")

    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    text = page.text
    assert "Your upcoming consult" in text
    assert appointment.reference in text
    # The patient's time names its zone: "... 3:00 PM Europe/London (GMT)".
    assert when_label(start, ZoneInfo(PATIENT_ZONE)) in text
    assert "Europe/London (" in text
    assert "Clinic time" in text and when_label(start, ZoneInfo(CLINIC_ZONE)) in text
    assert "Dr Ada Lane" in text
    assert f'href="/manage/{token}/reschedule"' in text and "Choose a new time" in text
    assert f'action="/manage/{token}/cancel"' in text
    controls = Controls(text)
    assert controls.unlabelled() == []
    assert [f["id"] for f in controls.fields] == ["reason"]
    assert '<label for="reason">Reason (optional)</label>' in text
    assert controls.buttons == ["Cancel my consult"]


def test_the_reschedule_picker_has_named_controls_and_offers_same_practitioner_times(
    client, doctor
):
    """The picker names its zone field and every time button (day and time), shows times in
    the patient's zone by default, and does not offer the consult's own (busy) time."""
    start = factories.next_grid_time(days_ahead=3, hour=15)
    _, token = book(doctor, start)
    day = start.astimezone(ZoneInfo(PATIENT_ZONE)).date()

    page = client.get(f"/manage/{token}/reschedule?day={day}")

    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Choose a new time with Dr Ada Lane" in page.text
    assert '<option selected value="Europe/London">' in page.text
    controls = Controls(page.text)
    assert controls.unlabelled() == []
    assert all(controls.buttons), "every button has text"
    assert start not in offered_starts(page.text)
    next_day = client.get(f"/manage/{token}/reschedule?day={day}&on={day + timedelta(days=1)}")
    assert start + timedelta(days=1) in offered_starts(next_day.text)
    slot_names = [b for b in controls.buttons if b.endswith(("AM", "PM"))]
    assert slot_names and all(re.match(r"\w+day \d+ \w+, \d+:\d\d [AP]M$", n) for n in slot_names)


# --- rescheduling -------------------------------------------------------------------------


def test_reschedule_through_the_pages_moves_the_consult(client, doctor):
    """GET the picker, pick a listed time, POST: the consult moves (same calendar UID,
    SEQUENCE + 1), both people get an updated invite in the outbox, reminders move with it,
    the old time becomes free and the new one busy."""
    old = factories.next_grid_time(days_ahead=3, hour=15)
    new = old + timedelta(days=1)
    appointment, token = book(doctor, old)
    uid, sequence = appointment.calendar_uid, appointment.sequence
    assert old not in free_in_api(client, doctor, old.date())
    assert new in free_in_api(client, doctor, new.date())

    picker = client.get(f"/manage/{token}/reschedule?day={old.date()}&on={new.date()}")
    assert new in offered_starts(picker.text)
    response = client.post(
        f"/manage/{token}/reschedule",
        data={"csrf_token": csrf_token(picker.text), "tz": PATIENT_ZONE, "start": new.isoformat()},
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/{token}")
    page = client.get(response.headers["Location"])
    assert f"Your consult is now on {when_label(new, ZoneInfo(PATIENT_ZONE))}" in page.text
    moved = fresh(appointment.id)
    assert moved.starts_at == new and moved.ends_at == new + timedelta(minutes=20)
    assert moved.sequence == sequence + 1
    assert moved.calendar_uid == uid
    assert moved.status == "confirmed"
    notices = outbox(appointment.id, "rescheduled")
    assert sorted(m.audience for m in notices) == ["patient", "practitioner"]
    for notice in notices:
        assert notice.status == "pending"
        assert notice.payload["starts_at"] == new.isoformat()
        assert notice.payload["previous_start"] == old.isoformat()
        assert notice.payload["sequence"] == sequence + 1
    reminders = outbox(appointment.id, "reminder")
    assert {(m.status, m.next_attempt_at) for m in reminders} == {
        ("dropped", old - timedelta(hours=24)),
        ("dropped", old - timedelta(hours=1)),
        ("pending", new - timedelta(hours=24)),
        ("pending", new - timedelta(hours=1)),
    }
    assert old in free_in_api(client, doctor, old.date())
    assert new not in free_in_api(client, doctor, new.date())
    again = client.get(f"/manage/{token}/reschedule?day={old.date()}")
    assert old in offered_starts(again.text) and new not in offered_starts(again.text)


def test_rescheduling_onto_a_taken_time_is_409_with_alternatives(client, doctor):
    """Another consult's time is refused with the nearest free times; nothing changes and no
    email is written."""
    mine = factories.next_grid_time(days_ahead=3, hour=15)
    theirs = factories.next_grid_time(days_ahead=4, hour=12)
    appointment, token = book(doctor, mine)
    factories.appointment(doctor, theirs)
    before = state(appointment.id)

    response = post_reschedule(client, token, theirs)

    assert response.status_code == 409
    box = alert(response.text)
    assert "That time was just taken" in box
    alternatives = offered_starts(box)
    assert theirs - timedelta(minutes=30) in alternatives
    assert theirs + timedelta(minutes=30) in alternatives
    assert theirs not in alternatives
    assert state(appointment.id) == before


@pytest.mark.parametrize(
    "start, message",
    [
        pytest.param(
            lambda: factories.next_grid_time(days_ahead=4, hour=22),
            "not one of the times we offer",
            id="outside-hours",
        ),
        pytest.param(
            lambda: factories.next_grid_time(days_ahead=4, hour=15) + timedelta(minutes=10),
            "not one of the times we offer",
            id="off-the-grid",
        ),
        pytest.param(
            lambda: factories.next_grid_time(days_ahead=-1, hour=15),
            "That time has already passed.",
            id="past",
        ),
        pytest.param(
            lambda: factories.next_grid_time(days_ahead=400, hour=15),
            "too far ahead",
            id="beyond-horizon",
        ),
        pytest.param(lambda: "next tuesday at ten", "Use a date and time like", id="garbage"),
        pytest.param(lambda: "2030-01-01T10:00:00", "Include the time zone offset", id="no-offset"),
        pytest.param(lambda: "", "Please choose a time.", id="empty"),
        # Valid ISO 8601, but before year 1 once turned into UTC: once a 500.
        pytest.param(lambda: "0001-01-01T00:00:00+05:00", "Use a date and time like", id="year-0"),
        pytest.param(
            lambda: "9999-12-31T23:59:59-05:00", "Use a date and time like", id="year-10k"
        ),
    ],
)
def test_rescheduling_to_a_time_not_offered_is_422_with_a_message(client, doctor, start, message):
    """Times outside the hours, off the grid, past, too far ahead or unreadable are refused
    with a message on the picker; the consult and its outbox stay as they were."""
    appointment, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    before = state(appointment.id)

    response = post_reschedule(client, token, start())

    assert response.status_code == 422
    assert message in alert(response.text)
    assert "Choose a new time with Dr Ada Lane" in response.text  # still a usable picker
    assert state(appointment.id) == before


def test_a_neighbours_time_and_its_buffer_are_refused(client, app):
    """Two consults: moving A onto B's exact time, or to grid times that only touch B's
    buffer (15 minutes here), is 409; the first time clear of the buffer is accepted."""
    factories.clinic(timezone=CLINIC_ZONE, buffer_minutes=15)
    doctor = factories.practitioner(hours=WORKING_HOURS, name="Dr Ada Lane")
    a, token_a = book(doctor, factories.next_grid_time(days_ahead=3, hour=15), "a@example.com")
    b_start = factories.next_grid_time(days_ahead=4, hour=15)
    b, _ = book(doctor, b_start, "b@example.com")
    before_a, before_b = state(a.id), state(b.id)

    for refused in (b_start, b_start - timedelta(minutes=30), b_start + timedelta(minutes=30)):
        response = post_reschedule(client, token_a, refused)
        assert response.status_code == 409, refused
        offered = offered_starts(alert(response.text))
        assert offered and all(abs(t - b_start) >= timedelta(minutes=60) for t in offered)
        assert state(a.id) == before_a

    response = post_reschedule(client, token_a, b_start + timedelta(minutes=60))
    assert response.status_code == 303
    assert fresh(a.id).starts_at == b_start + timedelta(minutes=60)
    assert state(b.id) == before_b


# --- cancelling ---------------------------------------------------------------------------


def test_cancel_with_a_reason(client, doctor):
    """Cancelling stores the reason, raises SEQUENCE, writes the cancellation for both people,
    drops pending reminders; the page then says so and offers booking again. A second
    cancel is harmless: no second round of emails."""
    appointment, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    sequence = appointment.sequence
    manage = client.get(f"/manage/{token}")
    token_csrf = csrf_token(manage.text)

    response = client.post(
        f"/manage/{token}/cancel",
        data={"csrf_token": token_csrf, "reason": "  Feeling better, thank you  "},
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/{token}")
    cancelled = fresh(appointment.id)
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == "Feeling better, thank you"
    assert cancelled.cancelled_at is not None
    assert cancelled.sequence == sequence + 1
    notices = outbox(appointment.id, "cancelled")
    assert sorted(m.audience for m in notices) == ["patient", "practitioner"]
    assert all(m.payload["sequence"] == sequence + 1 for m in notices)
    assert all(m.payload["reason"] == "Feeling better, thank you" for m in notices)
    reminders = outbox(appointment.id, "reminder")
    assert len(reminders) == 2 and {m.status for m in reminders} == {"dropped"}

    page = client.get(f"/manage/{token}")
    assert page.status_code == 200
    assert "Your consult is cancelled" in page.text
    assert "We have emailed you a cancellation" in page.text
    assert "Book a new consult" in page.text
    assert "Cancel my consult" not in page.text and "Choose a new time" not in page.text
    after_first = state(appointment.id)

    again = client.post(f"/manage/{token}/cancel", data={"csrf_token": token_csrf})
    assert again.status_code == 303
    assert state(appointment.id) == after_first
    assert len(outbox(appointment.id, "cancelled")) == 2

    # A cancelled consult can't be moved any more.
    assert client.get(f"/manage/{token}/reschedule").status_code == 303
    refused = client.post(
        f"/manage/{token}/reschedule",
        data={
            "csrf_token": token_csrf,
            "tz": PATIENT_ZONE,
            "start": factories.next_grid_time(days_ahead=5, hour=15).isoformat(),
        },
    )
    assert refused.status_code == 409
    assert "no longer booked" in refused.text
    assert state(appointment.id) == after_first


def test_a_reason_over_500_characters_is_refused(client, doctor):
    """An over-long reason gets a message beside the field; nothing is cancelled."""
    appointment, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    before = state(appointment.id)
    manage = client.get(f"/manage/{token}")

    response = client.post(
        f"/manage/{token}/cancel", data={"csrf_token": csrf_token(manage.text), "reason": "x" * 501}
    )

    assert response.status_code == 422
    assert "under 500 characters" in response.text
    assert 'aria-invalid="true"' in response.text
    assert state(appointment.id) == before


def test_a_reason_with_control_characters_is_refused_but_line_breaks_are_fine(client, doctor):
    """A NUL in the reason once reached PostgreSQL and gave a 500: it is refused with a message
    and nothing changes. Line breaks, as a text box gives them, are kept."""
    appointment, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    before = state(appointment.id)
    manage = client.get(f"/manage/{token}")

    refused = client.post(
        f"/manage/{token}/cancel",
        data={"csrf_token": csrf_token(manage.text), "reason": "bad\x00reason"},
    )

    assert refused.status_code == 422
    assert "ordinary punctuation" in refused.text
    assert state(appointment.id) == before
    accepted = client.post(
        f"/manage/{token}/cancel",
        data={"csrf_token": csrf_token(manage.text), "reason": "Line one\r\nLine two"},
    )
    assert accepted.status_code == 303
    assert fresh(appointment.id).cancel_reason == "Line one\r\nLine two"


def test_choosing_the_same_time_again_changes_nothing_and_says_so(client, doctor):
    appointment, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    before = state(appointment.id)

    response = post_reschedule(client, token, appointment.starts_at)

    assert response.status_code == 303
    page = client.get(f"/manage/{token}")
    assert "already the time of your consult; nothing changed" in page.text
    assert "emailed you the updated invite" not in page.text
    assert state(appointment.id) == before


def test_a_full_day_still_offers_its_other_times_to_the_consult_being_moved(client, app):
    """With a daily cap of one, the consult's own day is full for everyone else, but moving
    the consult within that day is allowed, so the picker offers that day's other times."""
    factories.clinic(timezone=CLINIC_ZONE, daily_cap=1)
    doctor = factories.practitioner(hours=WORKING_HOURS, name="Dr Ada Lane")
    start = factories.next_grid_time(days_ahead=3, hour=15)
    appointment, token = book(doctor, start)
    same_day = free_in_api(client, doctor, start.date())
    assert same_day == set(), "the day is full for new bookings"

    picker = client.get(f"/manage/{token}/reschedule?tz=UTC&day={start.date()}")

    offered = {t for t in offered_starts(picker.text) if t.date() == start.date()}
    assert offered, "the consult's own day offers other times"
    assert start not in offered  # not its current time
    moved = post_reschedule(client, token, min(offered), tz="UTC")
    assert moved.status_code == 303
    assert fresh(appointment.id).starts_at == min(offered)


def test_a_cancelled_consults_booking_link_goes_to_the_manage_page(client, doctor):
    """/book/<token> and its /done page of a cancelled consult lead to the manage page, which
    says it is cancelled (not to the details form again)."""
    appointment, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    manage = client.get(f"/manage/{token}")
    client.post(f"/manage/{token}/cancel", data={"csrf_token": csrf_token(manage.text)})

    details = client.get(f"/book/{token}")
    assert details.status_code == 303
    assert details.headers["Location"].endswith(f"/manage/{token}")
    done = client.get(f"/book/{token}/done", follow_redirects=True)
    assert "Your consult is cancelled" in done.text


# --- the change window --------------------------------------------------------------------


@pytest.mark.parametrize(
    "cutoff_minutes, starts_in, changeable",
    [
        (720, timedelta(hours=11, minutes=30), False),  # the default 12 hours
        (720, timedelta(hours=12, minutes=30), True),
        (60, timedelta(minutes=30), False),
        (60, timedelta(hours=2), True),
        (3 * 24 * 60, timedelta(hours=70), False),
        (3 * 24 * 60, timedelta(hours=74), True),
    ],
)
def test_the_change_window_follows_the_setting(client, app, cutoff_minutes, starts_in, changeable):
    """Until ``change_cutoff_minutes`` before the start the page offers both controls and
    says until when; after that it offers the clinic's phone and email instead."""
    factories.clinic(
        timezone=CLINIC_ZONE, contact_phone=CLINIC_PHONE, change_cutoff_minutes=cutoff_minutes
    )
    doctor = factories.practitioner(name="Dr Ada Lane")
    start = (datetime.now(UTC) + starts_in).replace(second=0, microsecond=0)
    token = link_token(factories.appointment(doctor, start).link_salt)

    page = client.get(f"/manage/{token}")

    assert page.status_code == 200
    if changeable:
        deadline = start - timedelta(minutes=cutoff_minutes)
        assert f"until {when_label(deadline, ZoneInfo('UTC'))}" in page.text
        assert "Choose a new time" in page.text and "Cancel my consult" in page.text
        assert CLINIC_PHONE not in page.text
    else:
        assert "can no longer be changed online" in page.text
        assert "Choose a new time" not in page.text and "Cancel my consult" not in page.text
        assert 'href="tel:+15550100"' in page.text and CLINIC_PHONE in page.text
        assert f'href="mailto:{CLINIC_EMAIL}"' in page.text


def test_inside_the_change_window_changes_are_refused_with_the_clinics_contact(client, app):
    """With a 7-day cutoff a consult 3 days away is locked: the picker redirects back, and
    POSTed reschedules and cancellations are 409 with the phone and email; nothing changes."""
    factories.clinic(
        timezone=CLINIC_ZONE, contact_phone=CLINIC_PHONE, change_cutoff_minutes=7 * 24 * 60
    )
    doctor = factories.practitioner(hours=WORKING_HOURS, name="Dr Ada Lane")
    appointment, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    before = state(appointment.id)

    page = client.get(f"/manage/{token}")
    assert "Choose a new time" not in page.text and "<form" not in page.text
    assert CLINIC_PHONE in page.text and CLINIC_EMAIL in page.text
    picker = client.get(f"/manage/{token}/reschedule")
    assert picker.status_code == 303 and picker.headers["Location"].endswith(f"/manage/{token}")

    token_csrf = any_csrf(client)
    moved = client.post(
        f"/manage/{token}/reschedule",
        data={
            "csrf_token": token_csrf,
            "tz": PATIENT_ZONE,
            "start": factories.next_grid_time(days_ahead=4, hour=15).isoformat(),
        },
    )
    cancelled = client.post(f"/manage/{token}/cancel", data={"csrf_token": token_csrf})

    for response in (moved, cancelled):
        assert response.status_code == 409
        assert "starts too soon to change online" in alert(response.text)
        assert CLINIC_PHONE in response.text and CLINIC_EMAIL in response.text
        assert "Cancel my consult" not in response.text
    assert state(appointment.id) == before


# --- links that don't lead to a bookable consult ------------------------------------------


def test_an_unknown_token_is_404(client, doctor):
    """Made-up tokens (short, 43 characters, absurdly long) find nothing, on every route."""
    book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    token_csrf = any_csrf(client)
    for token in ("nope", "A" * 43, "B" * 150):
        assert client.get(f"/manage/{token}").status_code == 404
        assert client.get(f"/manage/{token}/reschedule").status_code == 404
        response = client.post(f"/manage/{token}/cancel", data={"csrf_token": token_csrf})
        assert response.status_code == 404
        assert "isn&#39;t valid" in response.text
        response = client.post(
            f"/manage/{token}/reschedule",
            data={"csrf_token": token_csrf, "tz": "UTC", "start": "2030-01-01T10:00:00Z"},
        )
        assert response.status_code == 404


def test_a_link_stops_working_30_days_after_the_consult(client, doctor):
    """A consult that ended 31 days ago answers 410 (page and POSTs); one that ended
    29 days ago still shows, as having taken place, with nothing to change."""
    now = datetime.now(UTC)
    old = factories.appointment(doctor, now - timedelta(days=31))
    recent = factories.appointment(doctor, now - timedelta(days=29))
    old_token, recent_token = link_token(old.link_salt), link_token(recent.link_salt)
    token_csrf = any_csrf(client)

    gone = client.get(f"/manage/{old_token}")
    assert gone.status_code == 410
    assert "more than 30 days ago" in gone.text
    assert client.get(f"/manage/{old_token}/reschedule").status_code == 410
    cancel = client.post(f"/manage/{old_token}/cancel", data={"csrf_token": token_csrf})
    assert cancel.status_code == 410
    assert fresh(old.id).status == "confirmed"

    page = client.get(f"/manage/{recent_token}")
    assert page.status_code == 200
    assert "This consult has taken place" in page.text
    assert "Cancel my consult" not in page.text


def test_a_held_consults_token_goes_to_the_details_page(client, doctor):
    """A time held but not yet confirmed has no consult to manage: its link goes back to the
    details form."""
    _, token = services.hold_slot(
        doctor.id,
        factories.next_grid_time(days_ahead=3, hour=15),
        ZoneInfo(PATIENT_ZONE),
        datetime.now(UTC),
        "clinic.test",
    )

    response = client.get(f"/manage/{token}")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/book/{token}")


# --- the token itself ---------------------------------------------------------------------


def test_tokens_are_long_random_per_consult_and_stored_only_as_a_hash(client, doctor):
    """Each token is 43+ URL-safe characters (256 bits), differs per consult, and appears in
    no column of any table (the appointment and every outbox row included): only its SHA-256
    hash is stored, and emails derive the link afresh."""
    first, token_1 = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    second, token_2 = book(doctor, factories.next_grid_time(days_ahead=3, hour=16))
    client.post(  # a reschedule and a cancellation write more outbox rows
        f"/manage/{token_1}/reschedule",
        data={
            "csrf_token": any_csrf(client),
            "tz": PATIENT_ZONE,
            "start": factories.next_grid_time(days_ahead=4, hour=15).isoformat(),
        },
    )
    client.post(f"/manage/{token_2}/cancel", data={"csrf_token": any_csrf(client)})

    for token in (token_1, token_2):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", token)
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    assert token_1 != token_2
    assert first.link_salt != second.link_salt
    for row, token in ((fresh(first.id), token_1), (fresh(second.id), token_2)):
        assert row.manage_token_hash == hashlib.sha256(token.encode()).hexdigest()

    db.session.rollback()
    checked = 0
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            for column, value in row._mapping.items():
                checked += 1
                for token in (token_1, token_2):
                    assert token not in str(value), f"{table.name}.{column.name} holds a token"
    assert checked > 0
    assert len(outbox(first.id)) > 4 and len(outbox(second.id)) > 4
    patient_notice = next(m for m in outbox(first.id) if m.audience == "patient")
    assert f"/manage/{token_1}" in compose(patient_notice).text


# --- abuse: rate limits and CSRF ----------------------------------------------------------


@pytest.fixture
def limited_app(database_url, backend):
    """An app allowing 3 requests a minute per link page."""
    with running_app(database_url, backend, LINK_RATE_LIMIT="3 per minute") as app:
        yield app


def test_too_many_link_requests_get_a_plain_429_page(limited_app):
    """Past the limit the link pages answer 429 with a readable page and a Retry-After, not
    a 500; guessing tokens is counted the same way."""
    factories.clinic(timezone=CLINIC_ZONE)
    doctor = factories.practitioner(hours=WORKING_HOURS, name="Dr Ada Lane")
    _, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    client = limited_app.test_client()

    for _ in range(3):
        assert client.get(f"/manage/{token}").status_code == 200
    limited = client.get(f"/manage/{token}")

    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert "<h1>Too many requests</h1>" in limited.text
    assert "Traceback" not in limited.text
    assert "Retry-After" in limited.headers

    guesses = [client.get(f"/manage/{'G' * 42}{i}/reschedule").status_code for i in range(4)]
    assert guesses == [404, 404, 404, 429]


def test_the_429_page_says_what_to_do_in_plain_words(limited_app):
    """The 429 page tells a patient to wait and try again, rather than showing the
    limiter's own notation ("3 per 1 minute")."""
    factories.clinic(timezone=CLINIC_ZONE)
    doctor = factories.practitioner(hours=WORKING_HOURS, name="Dr Ada Lane")
    _, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    client = limited_app.test_client()
    for _ in range(3):
        client.get(f"/manage/{token}")

    limited = client.get(f"/manage/{token}")

    assert limited.status_code == 429
    main = re.search(r"<main.*</main>", limited.text, re.S).group(0)
    assert "per 1 minute" not in main, "the limiter's notation is shown to the patient"
    assert re.search(r"try again|wait", main, re.I), "the page doesn't say what to do"


@pytest.mark.parametrize("csrf", [None, "not-the-token"], ids=["missing", "wrong"])
@pytest.mark.parametrize("action", ["reschedule", "cancel"])
def test_posts_without_a_valid_csrf_token_are_refused(client, doctor, action, csrf):
    """Without the session's CSRF token neither POST does anything: 400 with advice."""
    appointment, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    client.get(f"/manage/{token}")  # the session exists, so only the token is missing
    before = state(appointment.id)
    data = {
        "tz": PATIENT_ZONE,
        "start": factories.next_grid_time(days_ahead=4, hour=15).isoformat(),
        "reason": "no longer needed",
    }
    if csrf:
        data["csrf_token"] = csrf

    response = client.post(f"/manage/{token}/{action}", data=data)

    assert response.status_code == 400
    assert "reload the page" in response.text
    assert state(appointment.id) == before
