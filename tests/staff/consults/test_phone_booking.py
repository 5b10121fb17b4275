"""Booking a consult on a patient's behalf (a phone call) from the staff console."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.models import Appointment, OutboxMessage, Patient, Practitioner
from tests.support.apps import csrf_token
from tests.support.staff import audit_count, seed_staff_clinic, sign_in


@pytest.fixture
def desk(client, app):
    seed_staff_clinic()
    sign_in(client, "desk")
    return client


def first_time_link(client, query: str) -> str:
    """The details URL the picker's first free-time button leads to (a GET form)."""
    page = client.get(f"/staff/book?{query}")
    assert page.status_code == 200
    start = re.search(r'name="start" value="([^"]+)"', page.text).group(1)
    practitioner = re.search(r'name="practitioner" value="([^"]*)"', page.text).group(1)
    tz = re.search(r'name="tz" value="([^"]*)"', page.text).group(1)
    query = urlencode({"practitioner": practitioner, "tz": tz, "start": start})
    return f"/staff/book/details?{query}"


def details(link: str, **extra) -> dict:
    values = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    values.update(name="Sam Caller", email="Sam@Example.com", phone="+1 555 0100", consent="y")
    values.update(extra)
    return values


def consults_of(email: str) -> list[Appointment]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(Appointment).join(Appointment.patient).where(Patient.email == email)
        )
    )


def test_the_front_desk_sees_the_whole_week_of_times_at_once(desk):
    """On a call, the desk reads out several days: its picker keeps the week, without the
    patients' one-day strip (tests/booking/test_day_strip.py)."""
    page = desk.get("/staff/book?tz=UTC")
    assert page.text.count('<section class="day"') == 7
    assert "day-strip" not in page.text


def test_the_front_desk_books_a_caller_who_gets_the_usual_emails(desk):
    ada = db.session.scalar(sa.select(Practitioner.id).where(Practitioner.name == "Dr Ada Lane"))
    link = first_time_link(desk, f"practitioner={ada}&tz=Europe/London")
    page = desk.get(link)
    assert page.status_code == 200
    assert "Europe/London" in page.text and "Dr Ada Lane" in page.text

    response = desk.post(
        "/staff/book/details", data={"csrf_token": csrf_token(page.text), **details(link)}
    )
    assert response.status_code == 303
    [booked] = consults_of("sam@example.com")
    assert response.headers["Location"] == f"/staff/consults/{booked.reference}"
    assert booked.status == "confirmed" and booked.source == "staff"
    assert booked.patient_timezone == "Europe/London" and booked.practitioner_id == ada
    assert booked.patient.phone == "+1 555 0100"
    audiences = db.session.scalars(
        sa.select(OutboxMessage.audience).where(
            OutboxMessage.appointment_id == booked.id, OutboxMessage.kind == "booked"
        )
    ).all()
    assert sorted(audiences) == ["patient", "practitioner"]
    assert audit_count("consult_booked") == 1
    assert "Booked" in desk.get(response.headers["Location"]).text


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"consent": ""}, "confirm the patient agreed"),
        ({"name": ""}, "tell us your name"),
        ({"email": "not-an-email"}, "check your email address"),
    ],
)
def test_missing_details_book_nothing(desk, extra, message):
    link = first_time_link(desk, "practitioner=any&tz=UTC")
    page = desk.get(link)
    data = {"csrf_token": csrf_token(page.text), **details(link, **extra)}
    response = desk.post("/staff/book/details", data=data)
    assert response.status_code == 422
    assert message in unescape(response.text)
    assert "Sam Caller" in response.text or extra.get("name") == ""  # what was typed is kept
    assert consults_of("sam@example.com") == []


def test_a_time_taken_meanwhile_offers_the_nearest_and_keeps_the_details(desk):
    link = first_time_link(desk, "practitioner=any&tz=UTC")
    page = desk.get(link)
    values = details(link)
    start = datetime.fromisoformat(values["start"])
    for practitioner_id in db.session.scalars(sa.select(Practitioner.id)):
        services.book(
            practitioner_id,
            start,
            ZoneInfo("UTC"),
            services.PatientDetails("Online Booker", f"online{practitioner_id}@example.com"),
            datetime.now(UTC),
            "clinic.test",
        )
    response = desk.post(
        "/staff/book/details", data={"csrf_token": csrf_token(page.text), **values}
    )
    assert response.status_code == 409
    assert "That time was just taken" in response.text
    assert 'value="Sam Caller"' in response.text
    assert re.search(r'<button type="submit" name="start" value="[^"]+">Book ', response.text)
    assert consults_of("sam@example.com") == []


@pytest.mark.parametrize(
    "query, message",
    [
        ("practitioner=any&tz=UTC&start=soon", "Use a date and time like"),
        ("practitioner=any&tz=Mars/Base&start=2030-12-03T10:00:00Z", "time zone"),
        ("practitioner=999&tz=UTC&start=2030-12-03T10:00:00Z", "choose a practitioner"),
        ("practitioner=any&tz=UTC", "Please choose a time"),
    ],
)
def test_a_bad_choice_of_time_goes_back_to_the_picker(desk, query, message):
    response = desk.get(f"/staff/book/details?{query}")
    assert response.status_code == 422
    assert message in unescape(response.text)
    assert "Book a consult for a patient" in response.text
