"""The admin's settings pages: the clinic's settings, practitioners and consult types.

Each form saves with its CSRF token and audits the names of the fields that changed; every
bad value is refused with 422 and a message beside its field, the row left exactly as it was;
only admins may look or change. Then the saved settings are followed to where they act: the
free times offered, the reminders a new booking schedules, the crisis text and who is offered.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.booking import services as booking
from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.models import (
    AuditEvent,
    ClinicSettings,
    ConsultType,
    OutboxMessage,
    Practitioner,
    StaffUser,
)
from clinic.intake.questionnaire import section
from clinic.notify.compose import compose
from clinic.setup.changes import (
    SETTINGS_FIELDS,
    SettingsProblem,
    change_consult_type,
    change_settings,
)
from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.intake import calm, panel, post
from tests.support.staff import audit_count, sign_in
from tests.support.staff_settings import error_beside, form_of, seed


@pytest.fixture
def admin(client):
    seed()
    assert sign_in(client, "admin").status_code == 303
    return client


def row(model, row_id: int) -> dict:
    """The row as stored now (not as cached in the session)."""
    db.session.rollback()
    table = model.__table__
    return dict(db.session.execute(sa.select(table).where(table.c.id == row_id)).one()._mapping)


def last_audit(action: str) -> AuditEvent:
    db.session.rollback()
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()


def practitioner_id(email: str) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(Practitioner.id).where(Practitioner.email == email))


def free_consult_id() -> int:
    return db.session.scalar(sa.select(ConsultType.id).where(ConsultType.slug == "free-consult"))


# --- the clinic's settings ----------------------------------------------------------------


def test_the_admin_saves_every_setting_and_the_audit_names_the_fields(admin):
    form = form_of(admin, "/staff/settings")
    followup = "We call you back within {response} ({hours})."
    form.update(
        name="Riverside Clinic",
        timezone="Europe/London",
        contact_email="Front@Riverside.example",
        contact_phone="+44 20 7946 0000",
        min_notice_minutes="180",
        horizon_days="90",
        buffer_minutes="0",
        slot_step_minutes="15",
        hold_minutes="5",
        daily_cap="6",
        reminder_minutes=" 60, 2880 ,60",
        change_cutoff_minutes="1440",
        office_days=["1", "3", "5"],
        office_opens="08:30",
        office_closes="18:00",
        alert_escalate_minutes="60",
        followup_text=f"  {followup}\r\n",
        feed_full_names="y",
    )

    response = admin.post("/staff/settings", data=form)

    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/settings"
    saved = row(ClinicSettings, 1)
    assert {k: saved[k] for k in form if k != "csrf_token"} == {
        "name": "Riverside Clinic",
        "timezone": "Europe/London",
        "contact_email": "front@riverside.example",
        "contact_phone": "+44 20 7946 0000",
        "min_notice_minutes": 180,
        "horizon_days": 90,
        "buffer_minutes": 0,
        "slot_step_minutes": 15,
        "hold_minutes": 5,
        "daily_cap": 6,
        "reminder_minutes": "2880,60",
        "change_cutoff_minutes": 1440,
        "office_days": "1,3,5",
        "office_opens": time(8, 30),
        "office_closes": time(18),
        "alert_escalate_minutes": 60,
        "followup_text": followup,
        "feed_full_names": True,
    }
    event = last_audit("settings_changed")
    assert event.subject == "clinic settings"
    assert event.detail.split(", ") == [k for k in form if k != "csrf_token"]
    assert "call you back" not in event.detail  # names only, never a text itself
    page = admin.get("/staff/settings").text
    assert "The settings were saved." in page
    assert 'value="2880, 60"' in page  # shown as the admin writes them
    assert form_of(admin, "/staff/settings")["office_days"] == ["1", "3", "5"]
    assert (
        "Patients now read: We call you back within 1 office hour "
        "(Tuesday, Thursday and Saturday, 8:30 to 18:00 (Europe/London))." in unescape(page)
    )


def test_saving_the_page_as_shown_changes_nothing_and_audits_nothing(admin):
    before = row(ClinicSettings, 1)
    response = admin.post("/staff/settings", data=form_of(admin, "/staff/settings"))
    assert response.status_code == 303
    assert row(ClinicSettings, 1) == before
    assert audit_count("settings_changed") == 0
    assert "Nothing changed." in admin.get("/staff/settings").text
    assert 'href="/staff/settings"' in admin.get("/staff/").text  # the admin's nav links here


def test_a_blank_daily_cap_means_no_cap_and_no_reminders_is_allowed(admin):
    form = form_of(admin, "/staff/settings") | {"daily_cap": "4", "reminder_minutes": "30"}
    assert admin.post("/staff/settings", data=form).status_code == 303
    assert (row(ClinicSettings, 1)["daily_cap"], row(ClinicSettings, 1)["reminder_minutes"]) == (
        4,
        "30",
    )
    form |= {"daily_cap": " ", "reminder_minutes": ""}
    assert admin.post("/staff/settings", data=form).status_code == 303
    saved = row(ClinicSettings, 1)
    assert (saved["daily_cap"], saved["reminder_minutes"]) == (None, "")


MINUTES = "Please give a whole number of minutes from {} to {}."
PRINTABLE = "Please use letters, numbers and ordinary punctuation only."
EMAIL = "Please check the email address; it doesn't look complete."
REMINDERS_RANGE = "Each reminder must be from 5 to 10080 minutes (one week) before the start."
REMINDERS_FORMAT = "Write whole numbers of minutes separated by commas, e.g. 1440, 60."
# (changes to the form, the field whose message shows, the message)
BAD_SETTINGS = [
    ({"name": "  "}, "name", "Please give the clinic's name."),
    (
        {"name": "Clinic\u202e"},
        "name",
        "Please use letters, numbers and ordinary punctuation only.",
    ),
    (
        {"timezone": "Mars/Olympus_Mons"},
        "timezone",
        "We don't recognise that time zone; please pick one from the list.",
    ),
    ({"timezone": ""}, "timezone", "Please choose the clinic's time zone."),
    (
        {"contact_email": "front desk"},
        "contact_email",
        EMAIL,
    ),
    (
        {"contact_email": ""},
        "contact_email",
        "Please give an email address patients can write to.",
    ),
    ({"contact_phone": "call us"}, "contact_phone", "Please use digits, spaces and + ( ) - only."),
    ({"min_notice_minutes": "-5"}, "min_notice_minutes", MINUTES.format(0, 10080)),
    ({"min_notice_minutes": "10081"}, "min_notice_minutes", MINUTES.format(0, 10080)),
    ({"min_notice_minutes": "two hours"}, "min_notice_minutes", MINUTES.format(0, 10080)),
    (
        {"min_notice_minutes": "2880", "horizon_days": "2"},
        "min_notice_minutes",
        "The minimum notice must be shorter than the booking horizon, "
        "or no time could ever be booked.",
    ),
    ({"horizon_days": "0"}, "horizon_days", "Please give a whole number of days from 1 to 365."),
    ({"horizon_days": "366"}, "horizon_days", "Please give a whole number of days from 1 to 365."),
    ({"buffer_minutes": "241"}, "buffer_minutes", MINUTES.format(0, 240)),
    ({"buffer_minutes": "2.5"}, "buffer_minutes", MINUTES.format(0, 240)),
    ({"slot_step_minutes": "4"}, "slot_step_minutes", MINUTES.format(5, 240)),
    ({"slot_step_minutes": "241"}, "slot_step_minutes", MINUTES.format(5, 240)),
    ({"slot_step_minutes": ""}, "slot_step_minutes", MINUTES.format(5, 240)),
    ({"slot_step_minutes": None}, "slot_step_minutes", MINUTES.format(5, 240)),  # not sent
    ({"hold_minutes": "0"}, "hold_minutes", MINUTES.format(1, 60)),
    ({"hold_minutes": "61"}, "hold_minutes", MINUTES.format(1, 60)),
    (
        {"daily_cap": "0"},
        "daily_cap",
        "Please give a whole number of consults from 1 to 50, or leave it blank.",
    ),
    (
        {"daily_cap": "51"},
        "daily_cap",
        "Please give a whole number of consults from 1 to 50, or leave it blank.",
    ),
    ({"reminder_minutes": "1440, 4"}, "reminder_minutes", REMINDERS_RANGE),
    ({"reminder_minutes": "10081"}, "reminder_minutes", REMINDERS_RANGE),
    ({"reminder_minutes": "60, an hour"}, "reminder_minutes", REMINDERS_FORMAT),
    ({"reminder_minutes": "-60"}, "reminder_minutes", REMINDERS_FORMAT),
    (
        {"reminder_minutes": "5, 10, 15, 20, 25, 30"},
        "reminder_minutes",
        "Please give at most 5 reminder times.",
    ),
    ({"change_cutoff_minutes": "10081"}, "change_cutoff_minutes", MINUTES.format(0, 10080)),
    ({"office_days": []}, "office_days", "Please tick at least one day."),
    ({"office_days": ["0", "7"]}, "office_days", "Please tick days from Monday to Sunday only."),
    ({"office_days": "Monday"}, "office_days", "Please tick days from Monday to Sunday only."),
    ({"office_opens": ""}, "office_opens", "Please give the time the office opens."),
    ({"office_opens": "9am"}, "office_opens", "Use a time like 09:30."),
    ({"office_closes": "24:00"}, "office_closes", "Use a time like 09:30."),
    (
        {"office_opens": "17:00", "office_closes": "09:00"},
        "office_closes",
        "The office must close later in the day than it opens.",
    ),
    (
        {"office_opens": "09:00", "office_closes": "09:00"},
        "office_closes",
        "The office must close later in the day than it opens.",
    ),
    ({"alert_escalate_minutes": "14"}, "alert_escalate_minutes", MINUTES.format(15, 1440)),
    ({"alert_escalate_minutes": "1441"}, "alert_escalate_minutes", MINUTES.format(15, 1440)),
    ({"alert_escalate_minutes": ""}, "alert_escalate_minutes", MINUTES.format(15, 1440)),
    (
        {"followup_text": "  "},
        "followup_text",
        "Please give the follow-up text: patients whose answers raise a flag read it.",
    ),
    (
        {"followup_text": "We reply within {hour}."},
        "followup_text",
        "The only placeholders this text can hold are {hours} and {response}.",
    ),
    ({"followup_text": "We reply soon.\x1b[2J"}, "followup_text", PRINTABLE),
    (
        {"followup_text": "x" * 2001},
        "followup_text",
        "Please keep the follow-up text under 2000 characters.",
    ),
]


def test_every_bad_setting_is_refused_beside_its_field_and_nothing_is_stored(admin):
    good = form_of(admin, "/staff/settings")
    before = row(ClinicSettings, 1)
    seen, expected = {}, {}
    for changes, field, message in BAD_SETTINGS:
        form = {k: v for k, v in (good | changes).items() if v is not None}
        response = admin.post("/staff/settings", data=form)
        case = repr(changes)
        seen[case] = (response.status_code, error_beside(response, field, message))
        expected[case] = (422, True)
        assert row(ClinicSettings, 1) == before, case
    assert seen == expected
    assert audit_count("settings_changed") == 0


def test_a_missing_or_forged_csrf_token_changes_no_setting(admin):
    form = form_of(admin, "/staff/settings") | {"slot_step_minutes": "60"}
    before = row(ClinicSettings, 1)
    forged = form | {"csrf_token": "forged"}
    missing = {k: v for k, v in form.items() if k != "csrf_token"}
    assert admin.post("/staff/settings", data=forged).status_code == 400
    assert admin.post("/staff/settings", data=missing).status_code == 400
    assert row(ClinicSettings, 1) == before
    assert audit_count("settings_changed") == 0


# --- only admins --------------------------------------------------------------------------

NEW_PRACTITIONER = {
    "name": "Dr Cy Reed",
    "email": "cy@clinic.example",
    "title": "",
    "bio": "",
    "timezone": "Europe/London",
    "meeting_link": "https://meet.clinic.example/cy-{reference}",
    "active": "y",
}


@pytest.mark.parametrize("who", ["anonymous", "desk", "own"])
def test_only_admins_may_change_anything(client, who):
    seed()
    if who != "anonymous":
        assert sign_in(client, who).status_code == 303
    token = csrf_token(client.get("/staff/sign-in" if who == "anonymous" else "/staff/").text)
    ada, kind = practitioner_id("ada@clinic.example"), free_consult_id()
    before = (row(ClinicSettings, 1), row(Practitioner, ada), row(ConsultType, kind))
    posts = {
        "/staff/settings": {"name": "Taken Over", "slot_step_minutes": "5"},
        "/staff/practitioners/new": NEW_PRACTITIONER,
        f"/staff/practitioners/{ada}": NEW_PRACTITIONER | {"email": "ada@clinic.example"},
        f"/staff/consult-types/{kind}": {"name": "Paid consult", "duration_minutes": "60"},
    }
    expected = 302 if who == "anonymous" else 403
    statuses = {
        url: client.post(url, data=data | {"csrf_token": token}).status_code
        for url, data in posts.items()
    }
    assert statuses == {url: expected for url in posts}
    assert (row(ClinicSettings, 1), row(Practitioner, ada), row(ConsultType, kind)) == before
    assert practitioner_id("cy@clinic.example") is None
    if who != "anonymous":
        assert 'href="/staff/settings"' not in client.get("/staff/").text  # no link either


# --- practitioners ------------------------------------------------------------------------


def practitioner_count() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Practitioner))


def test_adding_a_practitioner_who_starts_with_no_hours(admin):
    form = form_of(admin, "/staff/practitioners/new")
    assert form["timezone"] == "America/New_York"  # the clinic's zone to start with
    assert form["active"] == "y"
    form |= NEW_PRACTITIONER | {
        "email": " Cy@Clinic.Example ",
        "title": "Naturopathic Doctor",
        "bio": "Ten years in practice.\r\nSpeaks Welsh.",
        "meeting_link": "http://localhost:8080/room-{reference}",  # fine for trying things out
    }

    response = admin.post("/staff/practitioners/new", data=form)

    cy = practitioner_id("cy@clinic.example")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/practitioners/{cy}"
    saved = row(Practitioner, cy)
    assert {k: saved[k] for k in NEW_PRACTITIONER} == NEW_PRACTITIONER | {
        "email": "cy@clinic.example",
        "title": "Naturopathic Doctor",
        "bio": "Ten years in practice.\r\nSpeaks Welsh.",
        "meeting_link": "http://localhost:8080/room-{reference}",
        "active": True,
    }
    assert db.session.get(Practitioner, cy).hours == []
    event = last_audit("practitioner_added")
    assert event.subject == f"practitioner {cy}"
    page = admin.get(response.headers["Location"]).text
    assert "Dr Cy Reed was added. Next, set their working hours." in page
    assert f'href="/staff/availability/{cy}"' in page
    listing = admin.get("/staff/practitioners").text
    assert "Dr Cy Reed" in listing and f'href="/staff/practitioners/{cy}"' in listing
    assert f'href="/staff/availability/{cy}"' in listing
    # No hours yet, so nobody can book Dr Reed.
    day = factories.next_grid_time(days_ahead=2).date()
    slots = admin.get(f"/api/v1/slots?timezone=UTC&from={day}&to={day}&practitioner={cy}")
    assert slots.status_code == 200 and slots.get_json()["slots"] == []


LINK = (
    "Please give a full link starting with https://, e.g. "
    "https://meet.example.com/room-{reference} (http://localhost only for testing)."
)
BAD_PRACTITIONERS = [
    ({"name": ""}, "name", "Please give the practitioner's name."),
    ({"name": "x" * 121}, "name", "Please keep it under 120 characters."),
    (
        {"email": "cy at clinic"},
        "email",
        "Please check the email address; it doesn't look complete.",
    ),
    (
        {"email": "ADA@clinic.example"},
        "email",
        "Another practitioner already uses ada@clinic.example.",
    ),
    ({"title": "Dr\x00"}, "title", "Please use letters, numbers and ordinary punctuation only."),
    ({"bio": "b" * 2001}, "bio", "Please keep the biography under 2000 characters."),
    (
        {"timezone": "Europe/Atlantis"},
        "timezone",
        "We don't recognise that time zone; please pick one from the list.",
    ),
    (
        {"meeting_link": ""},
        "meeting_link",
        "Please give the link patients use to join the video consult.",
    ),
    ({"meeting_link": "http://meet.example.com/{reference}"}, "meeting_link", LINK),
    ({"meeting_link": "javascript:alert(1)"}, "meeting_link", LINK),
    ({"meeting_link": "https://"}, "meeting_link", LINK),
    ({"meeting_link": "meet.example.com/room"}, "meeting_link", LINK),
    ({"meeting_link": "https://meet.example.com:port/x"}, "meeting_link", LINK),
    (
        {"meeting_link": "https://meet.example.com/{ref}"},
        "meeting_link",
        "The only placeholder a link can hold is {reference}.",
    ),
    (
        {"meeting_link": "https://meet.example.com/a b"},
        "meeting_link",
        "A link can't contain spaces or line breaks.",
    ),
]


def test_every_bad_new_practitioner_is_refused_and_none_is_added(admin):
    good = form_of(admin, "/staff/practitioners/new") | NEW_PRACTITIONER
    count = practitioner_count()
    seen, expected = {}, {}
    for changes, field, message in BAD_PRACTITIONERS:
        response = admin.post("/staff/practitioners/new", data=good | changes)
        seen[repr(changes)] = (response.status_code, error_beside(response, field, message))
        expected[repr(changes)] = (422, True)
    assert seen == expected
    assert practitioner_count() == count
    assert audit_count("practitioner_added") == 0


def test_changing_a_practitioner_and_the_audit_names_the_fields(admin):
    ben = practitioner_id("ben@clinic.example")
    url = f"/staff/practitioners/{ben}"
    form = form_of(admin, url) | {"name": "Dr Ben Odell", "timezone": "Asia/Kolkata"}
    del form["active"]  # unticked: no new bookings

    response = admin.post(url, data=form)

    assert response.status_code == 303 and response.headers["Location"] == url
    saved = row(Practitioner, ben)
    assert (saved["name"], saved["timezone"], saved["active"]) == (
        "Dr Ben Odell",
        "Asia/Kolkata",
        False,
    )
    event = last_audit("practitioner_changed")
    assert (event.subject, event.detail) == (f"practitioner {ben}", "name, timezone, active")
    assert "Dr Ben Odell's details were saved." in unescape(admin.get(url).text)
    # The same page saved again changes nothing and writes no second audit row.
    assert admin.post(url, data=form_of(admin, url)).status_code == 303
    assert audit_count("practitioner_changed") == 1


def test_a_new_time_zone_names_the_consults_it_leaves_outside_working_hours(admin):
    """Hours are wall-clock times: 9 to 5 in London is not 9 to 5 in Los Angeles."""
    cy = factories.practitioner(
        hours=[(d, time(9), time(17)) for d in range(7)], name="Cy Rowe", email="cy@clinic.example"
    )
    booked = factories.appointment(cy, factories.next_grid_time(days_ahead=3, hour=10))
    url = f"/staff/practitioners/{cy.id}"

    response = admin.post(url, data=form_of(admin, url) | {"timezone": "America/Los_Angeles"})

    assert response.status_code == 303
    assert "fall outside their working hours" in unescape(admin.get(url).text)
    assert booked.reference in admin.get(f"/staff/availability/{cy.id}").text
    db.session.rollback()
    assert db.session.get(type(booked), booked.id).status == "confirmed"  # nothing cancelled


def test_every_bad_change_to_a_practitioner_leaves_them_as_they_were(admin):
    ben = practitioner_id("ben@clinic.example")
    url = f"/staff/practitioners/{ben}"
    good = form_of(admin, url)
    before = row(Practitioner, ben)
    seen, expected = {}, {}
    for changes, field, message in BAD_PRACTITIONERS:
        response = admin.post(url, data=good | changes)
        seen[repr(changes)] = (response.status_code, error_beside(response, field, message))
        expected[repr(changes)] = (422, True)
    assert seen == expected
    assert row(Practitioner, ben) == before
    assert audit_count("practitioner_changed") == 0
    # Keeping one's own email is no clash.
    assert admin.post(url, data=good | {"title": "ND"}).status_code == 303


def test_unknown_practitioners_and_forged_tokens(admin):
    token = csrf_token(admin.get("/staff/practitioners/new").text)
    assert admin.get("/staff/practitioners/999").status_code == 404
    data = NEW_PRACTITIONER | {"csrf_token": token}
    assert admin.post("/staff/practitioners/999", data=data).status_code == 404
    count = practitioner_count()
    forged = NEW_PRACTITIONER | {"csrf_token": "forged"}
    assert admin.post("/staff/practitioners/new", data=forged).status_code == 400
    assert admin.post("/staff/practitioners/new", data=NEW_PRACTITIONER).status_code == 400
    assert practitioner_count() == count


# --- consult types ------------------------------------------------------------------------


def test_changing_the_free_consults_name_and_length(admin):
    kind = free_consult_id()
    url = f"/staff/consult-types/{kind}"
    page = unescape(admin.get(url).text)
    assert 'name="active"' not in page  # the free consult has no switch...
    assert "always offered and can't be turned off" in page  # ...and says why
    assert "applies to consults booked or moved from now on" in page

    response = admin.post(
        url, data=form_of(admin, url) | {"name": "Free 45-minute consult", "duration_minutes": "45"}
    )

    assert response.status_code == 303 and response.headers["Location"] == url
    saved = row(ConsultType, kind)
    assert (saved["name"], saved["duration_minutes"], saved["active"]) == (
        "Free 45-minute consult",
        45,
        True,
    )
    event = last_audit("consult_type_changed")
    assert (event.subject, event.detail) == (f"consult type {kind}", "name, duration_minutes")
    assert "Free 45-minute consult" in admin.get("/staff/consult-types").text


def test_the_free_consult_cannot_be_turned_off(admin):
    kind = db.session.get(ConsultType, free_consult_id())
    with pytest.raises(SettingsProblem, match="patients book online"):
        change_consult_type(
            kind, kind.name, 20, False, None, datetime.now(UTC), address="192.0.2.1"
        )
    assert row(ConsultType, kind.id)["active"] is True


def test_another_consult_type_can_be_turned_off(admin):
    extra = ConsultType(slug="follow-up", name="Follow-up", duration_minutes=30)
    db.session.add(extra)
    db.session.commit()
    url = f"/staff/consult-types/{extra.id}"
    form = form_of(admin, url)
    assert form["active"] == "y"
    del form["active"]
    assert admin.post(url, data=form).status_code == 303
    assert row(ConsultType, extra.id)["active"] is False
    assert last_audit("consult_type_changed").detail == "active"


def test_every_bad_consult_type_change_is_refused(admin):
    kind = free_consult_id()
    url = f"/staff/consult-types/{kind}"
    good = form_of(admin, url)
    before = row(ConsultType, kind)
    cases = [
        ({"name": " "}, "name", "Please give the consult type a name."),
        ({"duration_minutes": "4"}, "duration_minutes", MINUTES.format(5, 240)),
        ({"duration_minutes": "241"}, "duration_minutes", MINUTES.format(5, 240)),
        ({"duration_minutes": ""}, "duration_minutes", MINUTES.format(5, 240)),
        ({"duration_minutes": "half an hour"}, "duration_minutes", MINUTES.format(5, 240)),
    ]
    seen = {}
    for changes, field, message in cases:
        response = admin.post(url, data=good | changes)
        seen[repr(changes)] = (response.status_code, error_beside(response, field, message))
    assert seen == {repr(changes): (422, True) for changes, _, _ in cases}
    assert admin.post(url, data=good | {"csrf_token": "forged"}).status_code == 400
    assert admin.get("/staff/consult-types/999").status_code == 404
    assert admin.post("/staff/consult-types/999", data=good).status_code == 404
    assert row(ConsultType, kind) == before
    assert audit_count("consult_type_changed") == 0


# --- the settings take effect -------------------------------------------------------------


def change_settings_page(client, **changes: str) -> None:
    form = form_of(client, "/staff/settings") | changes
    response = client.post("/staff/settings", data=form)
    assert response.status_code == 303, response.text


def free_starts(client, practitioner: int | str, days_ahead: int) -> list[datetime]:
    """Free start times (UTC) on one UTC day, from the public API."""
    day = factories.next_grid_time(days_ahead=days_ahead).date()
    response = client.get(
        f"/api/v1/slots?timezone=UTC&from={day}&to={day}&practitioner={practitioner}"
    )
    assert response.status_code == 200, response.get_json()
    return [datetime.fromisoformat(s["start_utc"]) for s in response.get_json()["slots"]]


def test_a_new_slot_step_changes_the_times_offered(admin):
    ada = practitioner_id("ada@clinic.example")
    assert {t.minute for t in free_starts(admin, ada, 5)} == {0, 30}
    change_settings_page(admin, slot_step_minutes="60")
    starts = free_starts(admin, ada, 5)
    assert {t.minute for t in starts} == {0} and len(starts) == 24


def test_a_longer_minimum_notice_closes_tomorrow(admin):
    assert free_starts(admin, "any", 1)
    change_settings_page(admin, min_notice_minutes="2880")  # two days
    assert free_starts(admin, "any", 1) == []
    assert free_starts(admin, "any", 3)


def test_a_daily_cap_closes_a_practitioners_day_once_it_is_full(admin):
    ada, ben = practitioner_id("ada@clinic.example"), practitioner_id("ben@clinic.example")
    assert free_starts(admin, ada, 3)  # Dr Ada has one consult that day
    change_settings_page(admin, daily_cap="1")
    assert free_starts(admin, ada, 3) == []
    assert free_starts(admin, ben, 3)  # Dr Ben has none yet
    assert free_starts(admin, ada, 4)


def test_a_new_consult_length_applies_to_the_times_offered(admin):
    kind = free_consult_id()
    url = f"/staff/consult-types/{kind}"
    assert admin.post(url, data=form_of(admin, url) | {"duration_minutes": "45"}).status_code == 303
    day = factories.next_grid_time(days_ahead=5).date()
    slots = admin.get(f"/api/v1/slots?timezone=UTC&from={day}&to={day}").get_json()["slots"]
    lengths = {datetime.fromisoformat(s["end"]) - datetime.fromisoformat(s["start"]) for s in slots}
    assert lengths == {timedelta(minutes=45)}
    assert "Book your free 45-minute consult" in admin.get("/").text
    picker = admin.get("/book").text
    assert "Book your free 45-minute consult" in picker and "lasts 45 minutes" in picker
    # A consult booked before keeps its own 20 minutes in what its emails say.
    db.session.rollback()
    booked = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "booked").limit(1)
    ).one()
    assert "Length: 20 minutes" in compose(booked).text


def book_ben(days_ahead: int = 4) -> tuple[int, str]:
    appointment, token = booking.book(
        practitioner_id("ben@clinic.example"),
        factories.next_grid_time(days_ahead=days_ahead, hour=12),
        ZoneInfo("UTC"),
        booking.PatientDetails("Sam Patient", "sam@example.com"),
        datetime.now(UTC),
        "clinic.test",
    )
    return appointment.id, token


def reminders_of(appointment_id: int) -> list[tuple[int, datetime]]:
    db.session.rollback()
    rows = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.appointment_id == appointment_id, OutboxMessage.kind == "reminder")
        .order_by(OutboxMessage.next_attempt_at)
    )
    return [(m.payload["minutes_before"], m.next_attempt_at) for m in rows]


def test_new_reminder_times_are_what_a_new_booking_schedules(admin):
    before, _ = book_ben(days_ahead=4)
    assert [minutes for minutes, _ in reminders_of(before)] == [1440, 60]

    change_settings_page(admin, reminder_minutes="30, 2880")
    after, _ = book_ben(days_ahead=5)

    start = factories.next_grid_time(days_ahead=5, hour=12)
    assert reminders_of(after) == [
        (2880, start - timedelta(minutes=2880)),
        (30, start - timedelta(minutes=30)),
    ]
    assert [minutes for minutes, _ in reminders_of(before)] == [1440, 60]  # already booked


def test_the_new_crisis_text_is_what_a_patient_at_risk_sees(admin):
    """A patient who says they are in another country sees the text for other countries."""
    crisis = "Call the Riverside crisis line on 555 0199 now, or 911 in an emergency."
    token = csrf_token(admin.get("/staff/settings/crisis-lines").text)
    saved = admin.post(
        "/staff/settings/crisis-lines/other", data={"csrf_token": token, "text": crisis}
    )
    assert saved.status_code == 303
    _, token = book_ben()
    post(admin, token, "about", {**calm(section("about")), "country": "other"})

    response = post(admin, token, "mood", {**calm(section("mood")), "phq9_9": "1"})

    assert response.status_code == 303
    shown, text = panel(admin.get(response.headers["Location"]).text, "self_harm")
    assert shown and crisis in text
    assert "Suicide & Crisis Lifeline" not in text


def test_an_inactive_practitioner_is_not_offered(admin):
    ben = practitioner_id("ben@clinic.example")
    assert ben in {i for s in free_slots_any(admin) for i in s["practitioner_ids"]}
    assert "Dr Ben Ode" in admin.get("/book").text
    url = f"/staff/practitioners/{ben}"
    form = form_of(admin, url)
    del form["active"]
    assert admin.post(url, data=form).status_code == 303
    assert "Dr Ben Ode" in admin.get(url).text  # (reads the saved notice)

    assert ben not in {i for s in free_slots_any(admin) for i in s["practitioner_ids"]}
    assert free_slots_any(admin)  # Dr Ada still is
    assert "Dr Ben Ode" not in admin.get("/book").text
    day = factories.next_grid_time(days_ahead=5).date()
    asked = admin.get(f"/api/v1/slots?timezone=UTC&from={day}&to={day}&practitioner={ben}")
    assert asked.status_code == 422


def free_slots_any(client) -> list[dict]:
    day = factories.next_grid_time(days_ahead=5).date()
    return client.get(f"/api/v1/slots?timezone=UTC&from={day}&to={day}").get_json()["slots"]


def test_saving_settings_while_another_request_writes_does_not_fail(app):
    """SQLite: a save that read the settings before another request committed must still get
    the write lock (it waits for it) instead of failing with "database is locked"."""
    seed()
    admin_user = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "admin"))
    values = {name: getattr(clinic_settings(), name) for name in SETTINGS_FIELDS}
    values["name"] = "Renamed clinic"

    def another_request():
        with app.app_context():
            audit("sign_in", None, now=datetime.now(UTC), address="192.0.2.1")
            db.session.remove()

    writer = threading.Thread(target=another_request)
    writer.start()
    writer.join()

    assert change_settings(values, admin_user, datetime.now(UTC), address="192.0.2.1") == ["name"]
    db.session.rollback()
    assert clinic_settings().name == "Renamed clinic"
