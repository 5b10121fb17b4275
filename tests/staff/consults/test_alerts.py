"""Intake alerts on the consult's page: listed for everyone who can see the consult, and
acknowledged once, with what was done, by the consult's practitioner, the front desk or an
admin. Each acknowledgement is audited without health details; a refusal changes nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import AlertKind, Appointment, AuditEvent, IntakeAlert
from clinic.intake.alerts import escalate_due
from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.staff import alert_on, audit_count, clear_alerts, seed_staff_clinic, sign_in

NEW_YORK = ZoneInfo("America/New_York")
# Friday 4 December 2026, 4:30 PM in New York (the staff clinic's zone).
RAISED = datetime(2026, 12, 4, 16, 30, tzinfo=NEW_YORK)


@pytest.fixture
def ref(app):
    reference = seed_staff_clinic()
    clear_alerts()  # the seed's item 9 raised one; each test here raises its own
    return reference


def alert(alert_id: int) -> IntakeAlert:
    db.session.rollback()  # a fresh read: on SQLite the test's snapshot may predate the post
    return db.session.get(IntakeAlert, alert_id)


def page(client, ref: str) -> str:
    response = client.get(f"/staff/consults/{ref}")
    assert response.status_code == 200
    return unescape(response.text)


def alerts_html(html: str) -> str:
    match = re.search(r'<section aria-labelledby="alerts-heading".*?</section>', html, re.S)
    assert match, "the consult page has no Alerts section"
    return match.group(0)


def alerts_section(html: str) -> str:
    """The Alerts section's text as a reader hears it: tags gone, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", alerts_html(html))).replace(" .", ".")


def acknowledge(client, ref: str, alert_id: int, **data):
    token = csrf_token(client.get("/staff/password").text)
    return client.post(
        f"/staff/consults/{ref}/alerts/{alert_id}/acknowledge",
        data={"csrf_token": token, **data},
    )


def test_the_alerts_are_listed_in_plain_words_with_the_clinics_time(client, ref):
    urgent = alert_on(ref, AlertKind.SELF_HARM, RAISED)
    alert_on(ref, AlertKind.HIGH_SCORE, RAISED + timedelta(minutes=5))
    sign_in(client, "own")

    section = alerts_section(page(client, ref))

    assert "Possible risk of self-harm (urgent)" in section
    assert "High questionnaire score" in section
    assert "Raised Friday 4 December 2026, 4:30 PM America/New_York (EST)." in section
    assert "Raised Friday 4 December 2026, 4:35 PM America/New_York (EST)." in section
    # Two office hours (9 to 5, Monday to Friday): half an hour on Friday, then Monday 10:30.
    assert alert(urgent).due_at == datetime(2026, 12, 7, 10, 30, tzinfo=NEW_YORK)
    assert (
        "It goes to the admins Monday 7 December 2026, 10:30 AM America/New_York (EST) "
        "unless someone acknowledges it first." in section
    )
    assert section.count("Open:") == 2
    assert section.count("Acknowledge this alert") == 2


def test_a_consult_without_alerts_says_so(client, ref):
    sign_in(client, "own")
    assert "No alerts." in alerts_section(page(client, ref))


@pytest.mark.parametrize("who", ["desk", "own", "admin", "other"])
def test_everyone_who_can_see_the_consult_sees_its_alerts_but_only_some_may_act(client, ref, who):
    """Why an alert was raised comes from the answers: only those who may read the intake see
    it; the others see how urgent it is."""
    alert_on(ref)
    sign_in(client, who)
    section = alerts_section(page(client, ref))
    reads_intake = who in ("own", "admin")
    assert ("Possible risk of self-harm" in section) == reads_intake
    assert ("Intake needs review now" in section) == (not reads_intake)
    assert "self-harm" not in section.lower() or reads_intake
    assert ("Acknowledge this alert" in section) == (who != "other")


def test_the_form_is_labelled_and_works_without_javascript(client, ref):
    alert_id = alert_on(ref)
    sign_in(client, "desk")
    form = re.search(r"<form .*?</form>", alerts_html(page(client, ref)), re.S).group(0)
    assert f'action="/staff/consults/{ref}/alerts/{alert_id}/acknowledge"' in form
    assert 'method="post"' in form
    assert "<legend>What was done?</legend>" in form
    radios = re.findall(r'<input id="([^"]+)" name="action"[^>]* type="radio" value="(\w+)"', form)
    assert [value for _, value in radios] == ["called", "emailed", "referred", "other"]
    for control_id, _ in radios:
        assert f'<label for="{control_id}">' in form
    assert f'<label for="alert-{alert_id}-note">Note (optional' in form
    assert f'<textarea id="alert-{alert_id}-note" maxlength="500" name="note">' in form
    button = re.search(r"<button [^>]*>(.*?)</button>", form).group(1)
    name = re.sub(r"<[^>]+>", "", button)
    assert name == "Acknowledge this alert: Intake needs review now"  # the front desk's words


@pytest.mark.parametrize("who", ["desk", "own", "admin"])
def test_acknowledging_records_who_when_and_what_was_done(client, ref, who):
    alert_id = alert_on(ref)
    sign_in(client, who)

    response = acknowledge(client, ref, alert_id, action="called", note="Left a voicemail")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/consults/{ref}")
    shown = page(client, ref)
    assert "The alert is acknowledged" in shown
    row = alert(alert_id)
    assert (
        row.acknowledged_by.email
        == {
            "desk": "desk@clinic.test",
            "own": "ada@clinic.test",
            "admin": "admin@clinic.test",
        }[who]
    )
    assert row.acknowledged_at is not None
    assert (row.action, row.note) == ("called", "Left a voicemail")
    section = alerts_section(page(client, ref))
    assert f"Acknowledged by {row.acknowledged_by.email} " in section
    assert "America/New_York" in section.split("Acknowledged by", 1)[1]
    assert ": called the patient." in section
    assert "Left a voicemail" in section
    assert "Open:" not in section and "Acknowledge this alert" not in section

    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "alert_acknowledged")
    ).all()
    assert event.subject == f"consult {ref}"
    assert event.detail == f"alert {alert_id}, called"  # never the kind, which says why
    assert event.staff_user_id == row.acknowledged_by_id


def test_acknowledging_twice_says_who_did_and_changes_nothing(app, client, ref):
    alert_id = alert_on(ref)
    sign_in(client, "desk")
    acknowledge(client, ref, alert_id, action="emailed")
    first = alert(alert_id)
    before = (first.acknowledged_at, first.acknowledged_by_id, first.action, first.note)

    admin = app.test_client()
    sign_in(admin, "admin")
    response = acknowledge(admin, ref, alert_id, action="other", note="Called again")

    assert response.status_code == 303
    shown = page(admin, ref)
    assert "This alert was already acknowledged by desk@clinic.test on " in shown
    assert "; nothing changed." in shown
    again = alert(alert_id)
    assert (again.acknowledged_at, again.acknowledged_by_id, again.action, again.note) == before
    assert audit_count("alert_acknowledged") == 1


def test_another_practitioner_may_not_acknowledge(client, ref):
    alert_id = alert_on(ref)
    sign_in(client, "other")
    response = acknowledge(client, ref, alert_id, action="called")
    assert response.status_code == 403
    assert alert(alert_id).is_open
    assert audit_count("alert_acknowledged") == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Please choose what was done."),
        ({"action": "ignored"}, "Please choose what was done."),
        ({"action": "other"}, "Please say in the note what was done."),
        ({"action": "other", "note": "   "}, "Please say in the note what was done."),
        ({"action": "called", "note": "x" * 501}, "Please keep the note under 500 characters."),
        ({"action": "called", "note": "bad\x00byte"}, "ordinary punctuation only"),
    ],
)
def test_a_bad_form_is_shown_again_with_its_message_and_changes_nothing(client, ref, data, message):
    alert_id = alert_on(ref)
    sign_in(client, "desk")
    response = acknowledge(client, ref, alert_id, **data)
    assert response.status_code == 422
    assert message in unescape(response.text)
    assert 'aria-invalid="true"' in response.text or "has-error" in response.text
    assert alert(alert_id).is_open
    assert audit_count("alert_acknowledged") == 0


def test_an_alert_of_another_consult_is_not_found_here(client, ref):
    ada = db.session.scalar(sa.select(Appointment).where(Appointment.reference == ref))
    other = factories.appointment(ada.practitioner, ada.starts_at + timedelta(hours=2))
    theirs = alert_on(other.reference)
    sign_in(client, "desk")
    response = acknowledge(client, ref, theirs, action="called")
    assert response.status_code == 404
    assert alert(theirs).is_open
    missing = acknowledge(client, ref, 999999, action="called")
    assert missing.status_code == 404
    # Past the largest id a row can have: still "not found", never a 500.
    huge = acknowledge(client, ref, 10**23, action="called")
    assert huge.status_code == 404


def test_an_acknowledged_urgent_alert_no_longer_escalates(client, ref):
    alert_id = alert_on(ref, AlertKind.EMERGENCY, RAISED)
    sign_in(client, "own")
    assert acknowledge(client, ref, alert_id, action="referred").status_code == 303

    assert escalate_due(datetime.now(UTC) + timedelta(days=30)) == 0
    assert alert(alert_id).escalated_at is None
    assert "referred." in alerts_section(page(client, ref))


def test_an_escalated_alert_says_when_it_went_to_the_admins(client, ref):
    alert_on(ref, AlertKind.EMERGENCY, RAISED)
    escalate_due(datetime(2026, 12, 7, 10, 30, tzinfo=NEW_YORK))
    sign_in(client, "desk")
    section = alerts_section(page(client, ref))
    assert "It went to the admins Monday 7 December 2026, 10:30 AM America/New_York (EST)." in (
        section
    )
    assert "Acknowledge this alert" in section  # still open: someone must take it on


def test_two_alerts_read_alike_to_the_front_desk_are_told_apart_by_number(client, ref):
    """The front desk sees "Intake needs review now" for both urgent kinds: the headings and
    the buttons' full names say which alert is which."""
    alert_on(ref, AlertKind.SELF_HARM, RAISED)
    alert_on(ref, AlertKind.EMERGENCY, RAISED)
    sign_in(client, "desk")
    html = alerts_html(page(client, ref))
    names = [
        re.sub(r"<[^>]+>", "", name)
        for name in re.findall(r"<button [^>]*>(.*?)</button>", html, re.S)
    ]
    assert names == [
        "Acknowledge this alert: Intake needs review now (alert 1 of 2)",
        "Acknowledge this alert: Intake needs review now (alert 2 of 2)",
    ]
