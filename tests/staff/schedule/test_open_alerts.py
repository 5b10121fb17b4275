"""Consults with alerts nobody has acknowledged come first: an "Open alerts" block at the top of
the day and week views (urgent first, then the longest waiting, with how long ago and when),
and a mark in the consult list. One query, whatever the number of alerts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.formatting import since_label
from clinic.core.models import AlertKind, IntakeAlert, Practitioner
from tests.support import factories
from tests.support.queries import counting
from tests.support.staff import alert_on, clear_alerts, seed_staff_clinic, sign_in

NEW_YORK = ZoneInfo("America/New_York")  # the staff clinic's zone


@pytest.fixture
def ref(app):
    reference = seed_staff_clinic()
    clear_alerts()  # the seed's item 9 raised one; each test here raises its own
    return reference


def consult_with(practitioner_email: str, days_ahead: int, hour: int, **overrides) -> str:
    """A consult ``days_ahead`` at ``hour`` (UTC), or today at noon in the clinic's zone."""
    db.session.rollback()  # on SQLite a snapshot older than the last request could not write
    who = db.session.scalar(sa.select(Practitioner).where(Practitioner.email == practitioner_email))
    start = factories.next_grid_time(days_ahead=days_ahead, hour=hour)
    if days_ahead == 0:
        today = datetime.now(NEW_YORK).date()
        start = datetime.combine(today, time(12), NEW_YORK).astimezone(UTC)
    return factories.appointment(who, start, **overrides).reference


def block(html: str) -> str | None:
    """The Open alerts block's text, tags gone and spaces collapsed; None if there is none."""
    match = re.search(r'<section aria-labelledby="open-alerts-heading".*?</section>', html, re.S)
    if match is None:
        return None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", unescape(match.group(0))))


def listed(html: str) -> list[str]:
    """The consult references the Open alerts block links to, in order."""
    match = re.search(r'<section aria-labelledby="open-alerts-heading".*?</section>', html, re.S)
    return re.findall(r'href="/staff/consults/([A-Z0-9-]+)"', match.group(0)) if match else []


def test_the_day_view_lists_consults_with_open_alerts_first_urgent_first(app, client, ref):
    now = datetime.now(UTC)
    amber_old = consult_with("ben@clinic.test", 20, 9)  # weeks away: still listed
    alert_on(amber_old, AlertKind.HIGH_SCORE, now - timedelta(days=3))
    alert_on(ref, AlertKind.SEE_DOCTOR, now - timedelta(hours=5))
    alert_on(ref, AlertKind.SELF_HARM, now - timedelta(hours=2))
    urgent_new = consult_with("ben@clinic.test", 2, 9)
    alert_on(urgent_new, AlertKind.EMERGENCY, now - timedelta(minutes=5))
    done = consult_with("ben@clinic.test", 4, 9)
    acknowledged = alert_on(done, AlertKind.HIGH_SCORE, now - timedelta(days=1))
    db.session.get(IntakeAlert, acknowledged).acknowledged_at = now
    db.session.commit()
    held = consult_with("ben@clinic.test", 5, 9, status="held", hold_expires_at=now)
    alert_on(held, AlertKind.EMERGENCY, now)
    desk = app.test_client()
    sign_in(desk, "desk")
    sign_in(client, "admin")

    html = client.get("/staff/").text

    # Urgent first (the one waiting longest first), then the others by how long they waited.
    assert listed(html) == [ref, urgent_new, amber_old]
    text = block(html)
    assert text.startswith(" Open alerts ")
    assert "Urgent: Possible risk of self-harm, raised 2 hours ago" in text
    assert "Should see a doctor soon, raised 5 hours ago" in text
    assert "Urgent: Possible emergency now, raised 5 minutes ago" in text
    assert "High questionnaire score, raised 3 days ago" in text
    assert re.search(r"raised 2 hours ago \( ?\w+ \d+ \w+, \d+:\d\d [AP]M E[SD]T ?\)", text)
    assert html.index("open-alerts-heading") < html.index("schedule-filters")
    # The front desk sees the same consults in the same order, but not why: that comes from
    # the answers.
    desk_html = desk.get("/staff/").text
    assert listed(desk_html) == [ref, urgent_new, amber_old]
    desk_text = block(desk_html)
    assert "Urgent: Intake needs review now, raised 2 hours ago" in desk_text
    assert "Intake needs review soon, raised 5 hours ago" in desk_text
    assert "self-harm" not in desk_text and "doctor" not in desk_text


def test_an_acknowledged_alert_leaves_the_block_and_none_means_no_block(client, ref):
    alert_id = alert_on(ref)
    sign_in(client, "admin")
    assert listed(client.get("/staff/").text) == [ref]
    db.session.rollback()
    db.session.get(IntakeAlert, alert_id).acknowledged_at = datetime.now(UTC)
    db.session.commit()
    assert block(client.get("/staff/").text) is None


def test_a_practitioner_sees_their_own_open_alerts_unless_they_ask_for_the_clinic(client, ref):
    bens = consult_with("ben@clinic.test", 2, 9)
    alert_on(bens, AlertKind.HIGH_SCORE)
    alert_on(ref, AlertKind.SELF_HARM)
    sign_in(client, "own")
    assert listed(client.get("/staff/").text) == [ref]
    assert listed(client.get("/staff/?practitioner=all").text) == [ref, bens]
    assert listed(client.get("/staff/week").text) == [ref]
    # A refused choice falls back to the user's own consults, and says so.
    refused = client.get("/staff/?practitioner=nobody")
    assert refused.status_code == 422
    assert listed(refused.text) == [ref]


def test_the_week_view_lists_them_above_the_grid(client, ref):
    alert_on(ref, AlertKind.SELF_HARM)
    sign_in(client, "desk")
    html = client.get("/staff/week").text
    assert listed(html) == [ref]
    assert html.index("open-alerts-heading") < html.index('class="week"')
    refused = client.get("/staff/week?day=not-a-day")
    assert refused.status_code == 422
    assert listed(refused.text) == [ref]


def test_the_day_table_and_the_consult_list_mark_consults_with_open_alerts(app, client, ref):
    today = consult_with("ben@clinic.test", 0, 12)
    alert_on(today, AlertKind.SEE_DOCTOR)
    alert_on(today, AlertKind.EMERGENCY)
    quiet = consult_with("ben@clinic.test", 3, 9)
    sign_in(client, "admin")

    home = client.get("/staff/").text
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{today}.*?</tr>", home, re.S).group(0)
    assert "Open alert" in row

    listing = unescape(client.get("/staff/consults").text)
    rows = {
        ref_: row
        for row in re.findall(r"<tr.*?</tr>", listing, re.S)
        for ref_ in re.findall(r"/staff/consults/([A-Z0-9-]+)", row)
    }
    assert "Open alert: Should see a doctor soon, Possible emergency now" in rows[today]
    desk = app.test_client()
    sign_in(desk, "desk")
    desk_listing = unescape(desk.get("/staff/consults").text)
    assert "Open alert: Intake needs review soon, Intake needs review now" in desk_listing
    assert "Possible emergency now" not in desk_listing
    assert "Open alert" not in rows[quiet]
    assert "Open alert" not in rows[ref]


def test_the_day_view_costs_the_same_statements_however_many_alerts(client, ref):
    sign_in(client, "desk")

    def statements() -> int:
        with counting() as seen:
            response = client.get("/staff/")
        assert response.status_code == 200
        return len(seen)

    alert_on(ref)
    few = statements()
    for hour in range(8):
        other = consult_with("ben@clinic.test", 2 + hour, 9 + hour)
        alert_on(other, AlertKind.HIGH_SCORE)
        alert_on(other, AlertKind.EMERGENCY)
    assert len(listed(client.get("/staff/").text)) == 9
    assert statements() == few


def test_the_week_view_costs_the_same_statements_however_many_alerts(client, ref):
    sign_in(client, "desk")

    def statements() -> int:
        with counting() as seen:
            response = client.get("/staff/week")
        assert response.status_code == 200
        return len(seen)

    few = statements()
    for hour in range(6):
        alert_on(consult_with("ben@clinic.test", 1 + hour, 9), AlertKind.SEE_DOCTOR)
    assert statements() == few


@pytest.mark.parametrize(
    ("ago", "label"),
    [
        (timedelta(seconds=30), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=59, seconds=59), "59 minutes ago"),
        (timedelta(hours=1), "1 hour ago"),
        (timedelta(hours=23, minutes=59), "23 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=9, hours=5), "9 days ago"),
        (timedelta(minutes=-5), "just now"),  # a clock a little behind another
    ],
)
def test_since_label(ago, label):
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert since_label(now - ago, now) == label


def test_held_consults_with_alerts_are_never_listed(client, ref):
    held = consult_with("ben@clinic.test", 2, 9, status="held")
    alert_on(held, AlertKind.EMERGENCY)
    sign_in(client, "desk")
    assert block(client.get("/staff/").text) is None
