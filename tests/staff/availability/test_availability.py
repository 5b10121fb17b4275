"""Availability in the staff console: weekly hours, time off, one-day overrides, closures.

Each change goes through the pages with a CSRF token and must show in the free times the API
offers; bad input is refused with 422 and nothing stored; every change is audited. Dr Ada
works weekdays 9:00 to 17:00 in New York; Dr Ben round the clock in London.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.accounts.services import create_staff
from clinic.availability.checks import AvailabilityError, local_span
from clinic.core.extensions import db
from clinic.core.models import Appointment, HoursOverride, TimeOff, WorkingHours
from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.staff import ACCOUNTS, PASSWORD, audit_count, sign_in

NY = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = [(d, time(9), time(17)) for d in range(5)]
SATURDAY, MONDAY = 5, 0


@pytest.fixture
def ids(app):
    factories.clinic(timezone="America/New_York")
    ada = factories.practitioner(
        hours=WEEKDAYS_9_TO_5, name="Dr Ada Lane", email="ada@clinic.test", timezone=NY.key
    )
    ben = factories.practitioner(
        name="Dr Ben Ode", email="ben@clinic.test", timezone="Europe/London"
    )
    for email, role in ACCOUNTS.values():
        create_staff(email, role, PASSWORD)
    return {"ada": ada.id, "ben": ben.id}


def coming(weekday: int, weeks: int = 1) -> date:
    """The ``weekday`` at least ``weeks`` weeks from today in New York."""
    day = datetime.now(NY).date() + timedelta(days=7 * weeks)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def slots_on(client, day: date, practitioner="any") -> list[str]:
    """The API's free start times on ``day``, as New York wall times 'HH:MM'."""
    response = client.get(
        f"/api/v1/slots?practitioner={practitioner}&from={day}&to={day}&timezone={NY.key}"
    )
    assert response.status_code == 200, response.text
    return [datetime.fromisoformat(s["start"]).strftime("%H:%M") for s in response.json["slots"]]


def post(client, url: str, data: dict, page: str = "/staff/availability"):
    """POST ``data`` with a CSRF token taken from ``page``."""
    token = csrf_token(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **data})


def text(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.text)))


def count(model, *where) -> int:
    return first(sa.select(sa.func.count()).select_from(model).where(*where))


def first(stmt):
    """The first column of the first row, read afresh (not from the test's open snapshot)."""
    db.session.rollback()
    return db.session.scalar(stmt)


def booked(practitioner_id: int, day: date, at: time) -> Appointment:
    person = db.session.get(factories.Practitioner, practitioner_id)
    return factories.appointment(person, datetime.combine(day, at, NY).astimezone(UTC))


# --- weekly hours ------------------------------------------------------------------------------


def test_weekly_hours_added_and_removed_change_the_free_times(client, ids):
    saturday = coming(SATURDAY)
    assert slots_on(client, saturday, ids["ada"]) == []
    sign_in(client, "desk")
    url = f"/staff/availability/{ids['ada']}"
    response = post(client, url + "/hours", {"weekday": "5", "start": "10:00", "end": "12:00"})
    assert response.status_code == 303
    assert slots_on(client, saturday, ids["ada"]) == ["10:00", "10:30", "11:00", "11:30"]
    page = text(client.get(url))
    assert "Added Saturday 10:00 AM to 12:00 PM, America/New_York." in page
    assert "Saturday 10:00 AM to 12:00 PM, America/New_York" in page
    assert audit_count("hours_changed") == 1

    row = first(
        sa.select(WorkingHours.id).where(
            WorkingHours.practitioner_id == ids["ada"], WorkingHours.weekday == SATURDAY
        )
    )
    assert "Remove Saturday 10:00 AM to 12:00 PM" in page
    assert post(client, f"{url}/hours/{row}/remove", {}).status_code == 303
    assert slots_on(client, saturday, ids["ada"]) == []
    assert audit_count("hours_changed") == 2


def test_hours_may_end_at_midnight(client, ids):
    sign_in(client, "admin")
    data = {"weekday": "5", "start": "22:00", "end": "00:00"}
    assert post(client, f"/staff/availability/{ids['ada']}/hours", data).status_code == 303
    assert slots_on(client, coming(SATURDAY), ids["ada"]) == ["22:00", "22:30", "23:00", "23:30"]
    assert "10:00 PM to midnight" in text(client.get(f"/staff/availability/{ids['ada']}"))


@pytest.mark.parametrize(
    "data, message",
    [
        ({"weekday": "0", "start": "16:00", "end": "18:00"}, "overlaps Monday 9:00 AM to 5:00 PM"),
        ({"weekday": "5", "start": "12:00", "end": "09:00"}, "The end must be after the start"),
        ({"weekday": "5", "start": "", "end": "09:00"}, "Please give the time the hours start."),
        ({"weekday": "5", "start": "25:00", "end": "26:00"}, "Use a time like 09:30."),
        ({"weekday": "9", "start": "09:00", "end": "10:00"}, "Please choose a day of the week."),
        ({"weekday": "x", "start": "09:00", "end": "10:00"}, "Please choose a day of the week."),
        ({"start": "09:00", "end": "10:00"}, "Please choose a day of the week."),
    ],
)
def test_bad_weekly_hours_are_refused_and_nothing_is_stored(client, ids, data, message):
    sign_in(client, "admin")
    response = post(client, f"/staff/availability/{ids['ada']}/hours", data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(WorkingHours, WorkingHours.practitioner_id == ids["ada"]) == 5
    assert audit_count("hours_changed") == 0


# --- time off ----------------------------------------------------------------------------------


def test_time_off_removes_free_times_in_the_practitioners_zone_and_can_be_removed(client, ids):
    monday = coming(MONDAY)
    sign_in(client, "own")
    url = f"/staff/availability/{ids['ada']}"
    data = {"starts": f"{monday}T09:00", "ends": f"{monday}T13:00", "reason": "Training"}
    assert post(client, url + "/time-off", data).status_code == 303
    offered = slots_on(client, monday, ids["ada"])
    assert offered[0] == "13:00" and "12:30" not in offered
    row = first(sa.select(TimeOff))
    assert row.starts_at == datetime.combine(monday, time(9), NY).astimezone(UTC)
    assert audit_count("time_off_added") == 1
    page = text(client.get(url))
    assert "9:00 AM America/New_York" in page and "Training" in page

    assert post(client, f"{url}/time-off/{row.id}/remove", {}).status_code == 303
    assert slots_on(client, monday, ids["ada"])[0] == "09:00"
    assert audit_count("time_off_removed") == 1


def test_time_off_over_a_booked_consult_lists_it_and_cancels_nothing(client, ids):
    monday = coming(MONDAY)
    consult = booked(ids["ada"], monday, time(10))
    sign_in(client, "desk")
    url = f"/staff/availability/{ids['ada']}"
    data = {"starts": f"{monday}T00:00", "ends": f"{monday + timedelta(days=1)}T00:00"}
    response = post(client, url + "/time-off", data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert f"leaves 1 booked consult outside working time: {consult.reference}" in text(page)
    assert f'href="/staff/consults/{consult.reference}"' in page.text
    assert first(sa.select(Appointment.status).where(Appointment.id == consult.id)) == "confirmed"


@pytest.mark.parametrize(
    "starts, ends, message",
    [
        ("{day}T13:00", "{day}T09:00", "The end must be after the start."),
        ("{day}T09:00", "{day}T09:00", "The end must be after the start."),
        ("2099-01-01T09:00", "2099-01-02T09:00", "Please choose a day between"),
        ("", "{day}T09:00", "Please give the date and time it starts."),
        ("next tuesday", "{day}T09:00", "Use a date and time like 2026-12-03 09:30."),
    ],
)
def test_bad_time_off_is_refused_and_nothing_is_stored(client, ids, starts, ends, message):
    day = coming(MONDAY)
    sign_in(client, "admin")
    data = {"starts": starts.format(day=day), "ends": ends.format(day=day)}
    response = post(client, f"/staff/availability/{ids['ada']}/time-off", data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(TimeOff) == 0
    assert audit_count("time_off_added") == 0


def test_a_wall_time_skipped_by_daylight_saving_starts_when_the_clocks_have_moved():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    start, end = local_span(datetime(2027, 3, 14, 2, 30), datetime(2027, 3, 14, 9), NY, now)
    assert start == datetime(2027, 3, 14, 7, tzinfo=UTC)  # 03:00 EDT
    assert end == datetime(2027, 3, 14, 13, tzinfo=UTC)
    with pytest.raises(AvailabilityError):  # 02:45 doesn't exist either: the same instant
        local_span(datetime(2027, 3, 14, 2, 30), datetime(2027, 3, 14, 2, 45), NY, now)


# --- one-day overrides -------------------------------------------------------------------------


def test_an_override_adds_hours_on_a_free_saturday_and_can_be_removed(client, ids):
    saturday = coming(SATURDAY)
    sign_in(client, "own")
    url = f"/staff/availability/{ids['ada']}"
    data = {
        "day": str(saturday),
        "start_1": "14:00",
        "end_1": "15:00",
        "start_2": "09:00",
        "end_2": "10:00",
        "note": "Saturday clinic",
    }
    assert post(client, url + "/overrides", data).status_code == 303
    assert slots_on(client, saturday, ids["ada"]) == ["09:00", "09:30", "14:00", "14:30"]
    assert slots_on(client, saturday + timedelta(days=7), ids["ada"]) == []
    assert audit_count("override_added") == 1
    page = text(client.get(url))
    assert "9:00 AM to 10:00 AM and 2:00 PM to 3:00 PM, America/New_York" in page

    row = first(sa.select(HoursOverride.id))
    assert post(client, f"{url}/overrides/{row}/remove", {}).status_code == 303
    assert slots_on(client, saturday, ids["ada"]) == []
    assert audit_count("override_removed") == 1


def test_a_day_off_removes_that_days_times_and_lists_its_booked_consults(client, ids):
    monday = coming(MONDAY)
    consult = booked(ids["ada"], monday, time(11))
    assert slots_on(client, monday, ids["ada"])
    sign_in(client, "admin")
    url = f"/staff/availability/{ids['ada']}"
    response = post(client, url + "/overrides", {"day": str(monday), "off": "y"})
    assert response.status_code == 303
    assert slots_on(client, monday, ids["ada"]) == []
    assert slots_on(client, monday + timedelta(days=1), ids["ada"])[0] == "09:00"
    page = client.get(response.headers["Location"])
    assert consult.reference in text(page)
    assert f'href="/staff/consults/{consult.reference}"' in page.text
    assert "not working" in text(page)


def test_bookings_follow_an_override_both_ways(client, ids):
    """A time only an override offers can be booked, and once taken is 'taken', not 'never
    offered'; a time on a day off is refused even though the weekly hours have it."""
    saturday, monday = coming(SATURDAY), coming(MONDAY)
    sign_in(client, "admin")
    url = f"/staff/availability/{ids['ada']}/overrides"
    hours = {"day": str(saturday), "start_1": "09:00", "end_1": "10:00"}
    assert post(client, url, hours).status_code == 303
    assert post(client, url, {"day": str(monday), "off": "y"}).status_code == 303

    def book(day: date, at: time, email: str):
        start = datetime.combine(day, at, NY).isoformat()
        body = {
            "practitioner": str(ids["ada"]),
            "start": start,
            "timezone": NY.key,
            "name": "Jo Patient",
            "email": email,
            "consent_privacy": True,
            "consent_not_emergency": True,
        }
        return client.post("/api/v1/bookings", json=body)

    assert book(saturday, time(9, 30), "jo@example.com").status_code == 201
    taken = book(saturday, time(9, 30), "kim@example.com")
    assert taken.status_code == 409
    refused = book(monday, time(10), "kim@example.com")
    assert refused.status_code == 422
    assert "not one of the times we offer" in refused.text


@pytest.mark.parametrize(
    "data, message",
    [
        ({"start_1": "09:00", "end_1": "10:00", "off": "y"}, "Untick “Not working this day”"),
        ({}, "Please give at least one range of hours"),
        ({"start_1": "09:00"}, "Please give both the start and the end of this range."),
        ({"start_1": "10:00", "end_1": "09:00"}, "The end must be after the start"),
        (
            {"start_1": "09:00", "end_1": "12:00", "start_2": "11:00", "end_2": "13:00"},
            "overlaps the range 9:00 AM to 12:00 PM",
        ),
        ({"day": "2020-01-06", "off": "y"}, "Please choose a day between"),
        ({"day": "6 Jan", "off": "y"}, "Use a date like 2026-12-24."),
    ],
)
def test_bad_overrides_are_refused_and_nothing_is_stored(client, ids, data, message):
    sign_in(client, "admin")
    data = {"day": str(coming(SATURDAY)), **data}
    response = post(client, f"/staff/availability/{ids['ada']}/overrides", data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(HoursOverride) == 0
    assert audit_count("override_added") == 0


def test_a_day_has_one_override_at_a_time(client, ids):
    sign_in(client, "admin")
    url = f"/staff/availability/{ids['ada']}/overrides"
    data = {"day": str(coming(SATURDAY)), "off": "y"}
    assert post(client, url, data).status_code == 303
    response = post(client, url, {**data, "off": "", "start_1": "09:00", "end_1": "10:00"})
    assert response.status_code == 422
    assert "That day already has its own hours: remove them first." in text(response)
    assert count(HoursOverride) == 1


# --- clinic closures ---------------------------------------------------------------------------


def test_a_closure_removes_everyones_times_and_lists_the_consults_it_covers(client, ids):
    monday = coming(MONDAY)
    consult = booked(ids["ben"], monday, time(12))
    assert slots_on(client, monday, ids["ada"]) and slots_on(client, monday, ids["ben"])
    sign_in(client, "desk")
    data = {"starts": f"{monday}T00:00", "ends": f"{monday + timedelta(days=1)}T00:00"}
    response = post(client, "/staff/closures", data, page="/staff/closures")
    assert response.status_code == 303
    assert slots_on(client, monday) == []
    assert slots_on(client, monday + timedelta(days=1))
    assert audit_count("closure_added") == 1
    page = client.get("/staff/closures")
    assert f'href="/staff/consults/{consult.reference}"' in page.text
    assert "12:00 PM America/New_York" in text(page)

    row = first(sa.select(TimeOff.id))
    assert post(client, f"/staff/closures/{row}/remove", {}, "/staff/closures").status_code == 303
    assert slots_on(client, monday, ids["ada"])[0] == "09:00"
    assert audit_count("closure_removed") == 1


def test_a_bad_closure_is_refused_and_nothing_is_stored(client, ids):
    day = coming(MONDAY)
    sign_in(client, "admin")
    data = {"starts": f"{day}T12:00", "ends": f"{day}T08:00"}
    response = post(client, "/staff/closures", data, page="/staff/closures")
    assert response.status_code == 422
    assert "The end must be after the start." in text(response)
    assert count(TimeOff) == 0
    assert audit_count("closure_added") == 0


# --- who may change what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, status", [("own", 303), ("desk", 303), ("admin", 303), ("other", 403)]
)
def test_only_the_practitioner_desk_and_admins_change_a_practitioners_hours(
    client, ids, who, status
):
    sign_in(client, who)
    url = f"/staff/availability/{ids['ada']}"
    assert client.get(url).status_code == (200 if status == 303 else 403)
    data = {"weekday": "5", "start": "10:00", "end": "12:00"}
    response = post(client, url + "/hours", data, page="/staff/password")
    assert response.status_code == status
    saturdays = count(
        WorkingHours, WorkingHours.practitioner_id == ids["ada"], WorkingHours.weekday == SATURDAY
    )
    assert saturdays == (1 if status == 303 else 0)


def test_a_practitioner_sees_only_their_own_and_no_closures(client, ids):
    sign_in(client, "own")
    index = text(client.get("/staff/availability"))
    assert "Dr Ada Lane" in index and "Dr Ben Ode" not in index
    assert client.get("/staff/closures").status_code == 403
    data = {"starts": f"{coming(MONDAY)}T00:00", "ends": f"{coming(MONDAY)}T10:00"}
    assert post(client, "/staff/closures", data).status_code == 403
    assert count(TimeOff) == 0


def test_the_desk_sees_everyone(client, ids):
    sign_in(client, "desk")
    index = text(client.get("/staff/availability"))
    assert "Dr Ada Lane" in index and "Dr Ben Ode" in index and "Clinic closures" in index


def test_rows_of_another_practitioner_cannot_be_removed_through_this_one(client, ids):
    ben_hours = db.session.scalar(
        sa.select(WorkingHours.id).where(WorkingHours.practitioner_id == ids["ben"]).limit(1)
    )
    sign_in(client, "admin")
    response = post(client, f"/staff/availability/{ids['ada']}/hours/{ben_hours}/remove", {})
    assert response.status_code == 404
    assert count(WorkingHours, WorkingHours.id == ben_hours) == 1
    assert client.get("/staff/availability/9999").status_code == 404


def test_a_change_without_the_form_token_is_refused(client, ids):
    sign_in(client, "admin")
    data = {"weekday": "5", "start": "10:00", "end": "12:00"}
    response = client.post(f"/staff/availability/{ids['ada']}/hours", data=data)
    assert response.status_code == 400
    response = client.post(
        f"/staff/availability/{ids['ada']}/hours", data={**data, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert count(WorkingHours) == 5 + 7  # Ada's weekdays and Ben's whole week
    assert audit_count("hours_changed") == 0
