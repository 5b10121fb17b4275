"""A script payload in every free-text field a patient or staff member can fill (an alert's
acknowledgement note too) appears only as text: escaped in every page, public and staff; plain
in the CSV (with formula-like cells made safe); as escaped values, never structure, in calendar
files and the feed; escaped in the HTML part of every email and unescaped (not double-escaped)
in its text part.

Emails and phone numbers are left out: their forms accept no ``<`` or quotes at all. The
payloads are written straight into the rows (the forms accept them: test_hostile_forms.py
posts the same text), so every page can be checked against one seeded clinic.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
from markupsafe import escape

from clinic.accounts.services import authenticate
from clinic.booking import lifecycle, services
from clinic.calendar.feed import feed_url
from clinic.core.extensions import db
from clinic.core.models import (
    AlertKind,
    Appointment,
    ClinicSettings,
    ConsultType,
    CrisisLine,
    HoursOverride,
    OutboxMessage,
    Patient,
    Practitioner,
    StaffUser,
    TimeOff,
)
from clinic.intake import alerts
from clinic.intake.alerts import escalate_due, raise_alert
from clinic.intake.services import save_section
from clinic.notify.compose import compose
from tests.support import factories
from tests.support.apps import make_app
from tests.support.hostile import seed_world
from tests.support.hostile_values import XSS
from tests.support.staff import sign_in

ESCAPED = str(escape(XSS))
RAW_PIECES = ("<script>", "alert(1)</script>", "<img src=x", "\"'><img")
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _plant(places: dict) -> dict:
    """The payload in every free-text field; a cancelled consult; formula-like names."""
    now = datetime.now(UTC)
    settings = db.session.get(ClinicSettings, 1)
    settings.name, settings.crisis_text, settings.feed_full_names = XSS, XSS, True
    settings.followup_text = XSS
    db.session.add(CrisisLine(country="GB", text=XSS, updated_at=now))
    for person in db.session.scalars(sa.select(Practitioner)):
        person.name, person.title, person.bio = f"Dr {XSS}", XSS, XSS
    for patient in db.session.scalars(sa.select(Patient)):
        patient.name = XSS
    for row in [
        *db.session.scalars(sa.select(TimeOff)),
        *db.session.scalars(sa.select(HoursOverride)),
    ]:
        row.reason = XSS
    db.session.scalars(sa.select(ConsultType)).first().name = XSS
    db.session.commit()
    admin = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "admin"))
    save_section(places["token"], "goals", {"goals_concerns": [XSS], "goals_useful": [XSS]}, now)
    save_section(places["token"], "mood", {"phq9_9": ["2"], "phq9_1": ["1"]}, now)
    lifecycle.add_note(places["ref2"], XSS, admin, now, address="192.0.2.1")
    ref2 = db.session.scalar(sa.select(Appointment).where(Appointment.reference == places["ref2"]))
    review = raise_alert(ref2, AlertKind.HIGH_SCORE, now)  # emailed to staff as a review
    raise_alert(ref2, AlertKind.SELF_HARM, now)  # the mood save's item 9 may have raised it
    db.session.commit()
    escalate_due(now + timedelta(days=30))  # long overdue: emailed to the admins
    alerts.acknowledge_alert(
        places["ref2"], review.id, "other", XSS, admin, now, address="192.0.2.1"
    )
    gone, gone_token = services.book(
        places["ada"],
        factories.next_weekday_grid_time(days_ahead=8, hour=10),
        ZoneInfo("Asia/Tokyo"),
        services.PatientDetails(XSS, "gone@example.com"),
        now,
        "clinic.test",
    )
    lifecycle.cancel_by_staff(gone.reference, XSS, admin, now, address="192.0.2.1")
    authenticate(
        XSS, "wrong password", now, address="192.0.2.1"
    )  # the audit log names the attempted account
    ben = db.session.get(Practitioner, places["ben"])
    for i, name in enumerate(FORMULAS):
        row = factories.appointment(ben, factories.next_grid_time(days_ahead=10, hour=i + 1))
        row.patient.name, row.cancel_reason = name, name
    ada = db.session.get(Practitioner, places["ada"])
    feed = feed_url(ada)
    db.session.commit()
    return places | {"gone": gone.reference, "gone_token": gone_token, "feed": feed}


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template):
    """The app on one planted clinic, shared by this module's tests (they only read)."""
    path = tmp_path_factory.mktemp("xss") / "xss.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        places = _plant(seed_world())
        db.session.remove()
    yield app, places
    with app.app_context():
        db.engine.dispose()


def _assert_only_escaped(text: str, where: str) -> None:
    for piece in RAW_PIECES:
        assert piece not in text, f"{piece!r} unescaped in {where}"
    assert ESCAPED in text, f"the payload is not shown in {where}"


PUBLIC = [
    "/",
    "/privacy",
    "/book",
    "/book/{hold}",
    "/book/{token}/done",
    "/manage/{token}",
    "/manage/{token}/reschedule",
    "/manage/{gone_token}",
    "/intake/{token}",
    "/intake/{token}/goals",
    "/intake/{token}/mood",
    "/intake/{token}/done",
]
STAFF = [
    "/staff/",
    "/staff/week",
    "/staff/consults",
    "/staff/consults?status=cancelled",
    "/staff/consults/{ref2}",
    "/staff/consults/{ref2}/intake/print",
    "/staff/consults/{ref2}/reschedule",
    "/staff/consults/{gone}",
    "/staff/audit",
    "/staff/availability",
    "/staff/availability/{ada}",
    "/staff/closures",
    "/staff/book",
    "/staff/calendar",
    "/staff/outbox",
    "/staff/settings",
    "/staff/settings/crisis-lines",
    "/staff/practitioners",
    "/staff/practitioners/{ada}",
    "/staff/consult-types",
    "/staff/consult-types/{kind}",
]


def test_public_pages_show_the_payload_only_escaped(site):
    app, places = site
    client = app.test_client()
    for template in PUBLIC:
        response = client.get(template.format(**places))
        assert response.status_code == 200, template
        _assert_only_escaped(response.text, template)


def test_staff_pages_show_the_payload_only_escaped(site):
    app, places = site
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 303
    for template in STAFF:
        response = client.get(template.format(**places))
        assert response.status_code == 200, template
        _assert_only_escaped(response.text, template)


def test_the_csv_keeps_the_payload_as_text_and_formulas_inert(site):
    app, places = site
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 303
    today = datetime.now(UTC).date()
    response = client.get(
        "/staff/consults.csv",
        query_string={
            "from": str(today - timedelta(days=1)),
            "to": str(today + timedelta(days=30)),
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
    cells = [cell for row in rows for cell in row.values()]
    assert XSS in cells and f"Dr {XSS}" in cells  # as text, unchanged
    for formula in FORMULAS:
        assert formula not in cells
        assert "'" + formula in cells  # patient name and cancel reason
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def _events(data: bytes) -> list:
    return [c for c in icalendar.Calendar.from_ical(data).walk("VEVENT")]


def test_calendar_files_carry_the_payload_as_values(site):
    app, places = site
    client = app.test_client()
    feed = client.get("/calendar/" + places["feed"].rsplit("/calendar/", 1)[1])
    assert feed.status_code == 200
    events = _events(feed.data)
    assert len(events) == len(set(e["uid"] for e in events)) >= 1
    assert any(XSS in str(e["summary"]) for e in events)  # the patient's full name
    download = client.get(f"/book/{places['token']}/consult.ics")
    [event] = _events(download.data)
    assert XSS in str(event["summary"])
    assert event["organizer"].params["CN"] == XSS  # the clinic's name
    assert str(event["organizer"]) == "mailto:bookings@clinic.example"


def test_emails_escape_the_payload_in_html_and_keep_it_plain_in_text(site):
    app, places = site
    with app.app_context():
        messages = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.appointment_id.is_not(None))
        ).all()
        kinds, names = set(), set()
        for message in messages:
            composed = compose(message, link="https://clinic.test/manage/[token]")
            where = f"{message.kind} email to the {message.audience}"
            _assert_only_escaped(composed.html, where + " (HTML)")
            assert XSS in composed.text, where + " (text)"
            assert ESCAPED not in composed.text, where + " (text, escaped twice)"
            assert "\n" not in composed.subject and "\r" not in composed.subject
            if composed.invite is not None:
                [event] = _events(composed.invite.calendar)
                assert XSS in str(event["summary"]), where + " (invite)"
                # The name the message was written with (the patient's, at that moment).
                assert event["attendee"].params["CN"] == message.recipient_name, where
                assert str(event["attendee"]) == f"mailto:{message.recipient}"
                names.add(message.recipient_name)
            kinds.add(message.kind)
        cancelled = db.session.scalar(
            sa.select(Appointment).where(Appointment.reference == places["gone"])
        )
        assert cancelled.cancel_reason == XSS
    assert {
        "booked",
        "cancelled",
        "urgent_intake",
        "intake_review",
        "alert_escalated",
    } <= kinds
    assert XSS in names
