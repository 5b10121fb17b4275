"""JSON API v1: slots, bookings, problem details and the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Appointment, OutboxMessage
from tests.support import factories
from tests.support.api import body


@pytest.fixture
def doctor(app):
    factories.clinic(timezone="America/New_York")
    return factories.practitioner(name="Dr Ada Lane")


def active_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Appointment)
        .where(Appointment.status.in_(["held", "confirmed"]))
    )


def test_slots_are_listed_in_the_requested_zone(client, doctor):
    day = factories.next_grid_time(days_ahead=2).date()
    response = client.get(
        f"/api/v1/slots?timezone=Asia/Kolkata&from={day}&to={day}&practitioner={doctor.id}"
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["timezone"] == "Asia/Kolkata"
    # All-day hours on a 30-minute grid: every local half hour of the Kolkata day is there.
    assert len(data["slots"]) == 48
    assert data["slots"][0]["start"] == f"{day}T00:00:00+05:30"
    assert all(s["practitioner_ids"] == [doctor.id] for s in data["slots"])


@pytest.mark.parametrize("sort_keys", [True, False])
def test_the_slots_answer_is_byte_for_byte_what_flask_would_encode(app, client, doctor, sort_keys):
    """The free times' JSON is joined from kept pieces: the bytes are the ones Flask's own
    encoder writes for the same answer (keys sorted, as by default, or in the order the API
    builds them), with two practitioners' times merged, in a zone with a half-hour offset, and
    asked twice (the second from the kept pieces)."""
    app.json.sort_keys = sort_keys
    factories.practitioner(name="Dr Ben Ode", timezone="Asia/Kolkata")
    day = factories.next_grid_time(days_ahead=2).date()
    for _ in range(2):
        response = client.get(f"/api/v1/slots?timezone=Asia/Kolkata&from={day}&to={day}")
        data = response.get_json()
        assert len(data["slots"]) == 48
        assert data["slots"][0]["practitioner_ids"] == [1, 2]
        built = {key: data[key] for key in ("timezone", "practitioner", "from", "to")}
        built["slots"] = [
            {key: s[key] for key in ("start", "end", "start_utc", "practitioner_ids")}
            for s in data["slots"]
        ]
        with app.app_context():
            assert response.data == app.json.response(built).data
        assert response.mimetype == "application/json"


def test_a_booked_time_disappears_from_the_slots(client, doctor):
    start = factories.next_grid_time(days_ahead=2, hour=12)
    factories.appointment(doctor, start)
    day = start.date()
    starts = {
        s["start_utc"]
        for s in client.get(f"/api/v1/slots?timezone=UTC&from={day}&to={day}").get_json()["slots"]
    }
    assert start.isoformat().replace("+00:00", "Z") not in starts
    # 10-minute buffer: 11:30-11:50 ends 10 minutes before 12:00, so it stays free.
    assert (start - timedelta(minutes=30)).isoformat().replace("+00:00", "Z") in starts


def test_book_through_the_api(client, doctor):
    start = factories.next_grid_time(days_ahead=3, hour=9)
    response = client.post("/api/v1/bookings", json=body(start))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["status"] == "confirmed"
    assert data["start"] == start.astimezone(ZoneInfo("Asia/Kolkata")).isoformat()
    assert data["practitioner"] == {"id": doctor.id, "name": "Dr Ada Lane"}
    assert response.headers["Location"] == data["booking_url"]
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.reference == data["reference"]
    assert appointment.source == "api"
    assert client.get(data["calendar_url"].split("127.0.0.1:5000")[-1]).status_code == 200
    manage = client.get(data["manage_url"].split("127.0.0.1:5000")[-1])
    assert manage.status_code == 200 and appointment.reference in manage.text
    # The booking and its emails were saved together: the confirmation, the practitioner's
    # notice and the patient's two reminders.
    kinds = sorted(db.session.scalars(sa.select(OutboxMessage.kind)))
    assert kinds == ["booked", "booked", "reminder", "reminder"]


def test_a_taken_time_is_409_with_nearby_free_times(client, doctor):
    start = factories.next_grid_time(days_ahead=3, hour=9)
    assert client.post("/api/v1/bookings", json=body(start)).status_code == 201
    emails_before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    response = client.post("/api/v1/bookings", json=body(start, email="other@example.com"))
    assert response.status_code == 409
    # The refused booking wrote no email either.
    emails_after = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert emails_after == emails_before
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 409 and problem["title"] == "That time was just taken"
    assert len(problem["alternatives"]) == 3
    assert all(a["start_utc"] != start.isoformat() for a in problem["alternatives"])
    assert active_count() == 1


def test_an_overlapping_start_is_refused(client, doctor):
    db.session.execute(sa.text("UPDATE clinic_settings SET slot_step_minutes = 10"))
    db.session.commit()
    start = factories.next_grid_time(days_ahead=3, hour=9)
    assert client.post("/api/v1/bookings", json=body(start)).status_code == 201
    later = client.post("/api/v1/bookings", json=body(start + timedelta(minutes=10)))
    assert later.status_code == 409
    assert active_count() == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"start": "yesterday"}, "start"),
        ({"start": "2030-01-01T10:00:00"}, "start"),
        ({"start": ...}, "start"),
        ({"timezone": "Moon/Base"}, "timezone"),
        ({"timezone": ...}, "timezone"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Eve\r\nBcc: x@example.com"}, "name"),
        ({"name": ["a list"]}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": 42}, "email"),
        ({"phone": "<script>"}, "phone"),
        ({"consent_privacy": False}, "consent_privacy"),
        ({"consent_privacy": "yes"}, "consent_privacy"),
        ({"consent_not_emergency": ...}, "consent_not_emergency"),
        ({"practitioner": 999}, "practitioner"),
        ({"practitioner": True}, "practitioner"),
    ],
)
def test_invalid_bookings_are_422_naming_the_field(client, doctor, changes, field):
    start = factories.next_grid_time(days_ahead=3, hour=9)
    response = client.post("/api/v1/bookings", json=body(start, **changes))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}
    assert active_count() == 0


@pytest.mark.parametrize(
    "start, message",
    [
        (lambda: factories.next_grid_time(days_ahead=-2), "already passed"),
        (lambda: factories.next_grid_time(days_ahead=0, hour=0), "already passed"),
        (lambda: factories.next_grid_time(days_ahead=200), "too far ahead"),
        (lambda: datetime(9999, 12, 31, 23, 30, tzinfo=UTC), "too far ahead"),
        (lambda: datetime(1, 1, 1, 0, 0, tzinfo=UTC), "already passed"),
        (lambda: factories.next_grid_time(days_ahead=2) + timedelta(minutes=5), "not one of"),
    ],
)
def test_times_not_offered_are_422_on_start(client, doctor, start, message):
    response = client.post("/api/v1/bookings", json=body(start()))
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["field"] == "start" and message in error["message"]
    assert active_count() == 0


@pytest.mark.parametrize("payload", [None, "[1, 2]", "not json", '"a string"'])
def test_bodies_that_are_not_json_objects_are_400(client, doctor, payload):
    response = client.post("/api/v1/bookings", data=payload or "", content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-13-40", "from"),
        ("to=tomorrow", "to"),
        ("timezone=Nowhere/Land", "timezone"),
        ("practitioner=abc", "practitioner"),
        ("from={in_10_days}&to={tomorrow}", "to"),
        ("from={tomorrow}&to={in_100_days}", "to"),
        ("from=9999-12-30&to=9999-12-31", "from"),
        ("from=0001-01-01", "from"),
        ("timezone=localtime", "timezone"),
    ],
)
def test_invalid_slot_queries_are_422_naming_the_field(client, doctor, query, field):
    today = factories.next_grid_time(days_ahead=0).date()
    query = query.format(
        tomorrow=today + timedelta(days=1),
        in_10_days=today + timedelta(days=10),
        in_100_days=today + timedelta(days=100),
    )
    response = client.get(f"/api/v1/slots?{query}")
    assert response.status_code == 422
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_unknown_api_paths_are_problem_json(client, doctor):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert client.delete("/api/v1/bookings").status_code == 405


def test_openapi_describes_both_operations(client, doctor):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/slots", "/bookings"}
    assert {"200", "422"} <= set(doc["paths"]["/slots"]["get"]["responses"])
    assert {"201", "409", "422"} <= set(doc["paths"]["/bookings"]["post"]["responses"])
    # Every $ref resolves.
    text = str(doc)
    for name in ("Slot", "Problem", "BookingRequest", "Booking"):
        assert name in doc["components"]["schemas"]
    assert "#/components/schemas/" in text
    # The documented required request fields are exactly the ones the API insists on.
    required = set(doc["components"]["schemas"]["BookingRequest"]["required"])
    start = factories.next_grid_time(days_ahead=3, hour=9)
    for field in required:
        response = client.post("/api/v1/bookings", json=body(start, **{field: ...}))
        assert field in {e["field"] for e in response.get_json()["errors"]}
