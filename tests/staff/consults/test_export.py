"""The consults as CSV: the columns, the clinic's zone, defused formulas, no intake answers."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.booking.csv_export import COLUMNS, neutralise
from clinic.core.extensions import db
from clinic.core.models import Appointment, AuditEvent, Patient
from tests.support.records import NEW_YORK, at, consult, person, today
from tests.support.staff import audit_count, seed_staff_clinic, sign_in

EVIL_NAME = '=HYPERLINK("http://x","y")'


def parse(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff"), "no BOM: Excel would not read the file as UTF-8"
    reader = csv.reader(io.StringIO(body[1:]))
    header = next(reader)
    assert tuple(header) == COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


@pytest.fixture
def clinic(app):
    return seed_staff_clinic()


@pytest.mark.parametrize("who", ["desk", "admin", "other"])
def test_export_columns_times_and_file_name(client, clinic, who):
    assert sign_in(client, who).status_code == 303
    first, last = today(), today() + timedelta(days=6)

    response = client.get(f"/staff/consults.csv?from={first}&to={last}")

    assert response.mimetype == "text/csv"
    assert response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="consults-{first}-to-{last}.csv"'
    )
    (row,) = parse(response)
    db.session.rollback()
    booked = db.session.scalar(sa.select(Appointment).where(Appointment.reference == clinic))
    start = datetime.fromisoformat(row["start"])
    assert (
        start == booked.starts_at
        and start.utcoffset() == booked.starts_at.astimezone(NEW_YORK).utcoffset()
    )
    assert datetime.fromisoformat(row["end"]) == booked.ends_at
    assert datetime.fromisoformat(row["booked at"]) == booked.created_at
    assert row | {"start": "", "end": "", "booked at": ""} == {
        "reference": clinic,
        "start": "",
        "end": "",
        "clinic time zone": "America/New_York",
        "patient's time zone": "Europe/London",
        "practitioner": "Dr Ada Lane",
        "status": "confirmed",
        "patient name": "Jo Patient",
        "patient email": "jo@example.com",
        "patient phone": "",
        "urgent": "yes",
        "source": "api",  # booked through the service, as the API does
        "booked at": "",
        "cancelled at": "",
        "cancel reason": "",
    }


def test_the_export_never_holds_intake_answers(client, clinic):
    sign_in(client, "admin")
    response = client.get("/staff/consults.csv")
    text = response.data.decode("utf-8")
    assert clinic in text  # the consult with the answers is in the file...
    assert "Sleeping badly since spring" not in text  # ...its answers are not
    assert "phq9" not in text.lower()


def test_cells_a_spreadsheet_would_run_are_defused(client, clinic):
    cancelled = datetime.now(NEW_YORK).replace(microsecond=0)
    consult(
        EVIL_NAME,
        at(today() + timedelta(days=2)),
        email="eve@example.com",
        status="cancelled",
        cancelled_at=cancelled,
        cancel_reason="@SUM(1)",
    )
    consult("-Minus Person", at(today() + timedelta(days=2), 11), email="minus@example.com")
    db.session.execute(sa.update(Patient).values(phone="+1 212 555 0100"))
    db.session.commit()
    sign_in(client, "desk")

    by_name = {row["patient name"]: row for row in parse(client.get("/staff/consults.csv"))}

    evil = by_name["'" + EVIL_NAME]
    assert evil["cancel reason"] == "'@SUM(1)"
    assert evil["status"] == "cancelled" and evil["urgent"] == "no"
    assert datetime.fromisoformat(evil["cancelled at"]) == cancelled
    assert evil["patient phone"] == "'+1 212 555 0100"
    assert "'-Minus Person" in by_name


@pytest.mark.parametrize(
    "cell, written",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Jo = Patient", "Jo = Patient"),
        ("", ""),
    ],
)
def test_neutralise(cell, written):
    assert neutralise(cell) == written


def test_the_export_keeps_the_lists_filters(client, clinic):
    day = today() + timedelta(days=2)
    consult("Ben's Patient", at(day), who="ben@clinic.test", email="bens@example.com")
    consult("Far Away", at(today() + timedelta(days=40)), email="far@example.com")
    ben = person("ben@clinic.test").id
    sign_in(client, "desk")

    names = {r["patient name"] for r in parse(client.get("/staff/consults.csv"))}
    assert names == {"Jo Patient", "Ben's Patient"}
    only_ben = parse(client.get(f"/staff/consults.csv?practitioner={ben}"))
    assert [r["patient name"] for r in only_ben] == ["Ben's Patient"]
    searched = parse(client.get("/staff/consults.csv?q=JO@EXAMPLE"))
    assert [r["patient name"] for r in searched] == ["Jo Patient"]
    later = parse(client.get(f"/staff/consults.csv?from={today()}&to={today() + timedelta(50)}"))
    assert {r["patient name"] for r in later} == {"Jo Patient", "Ben's Patient", "Far Away"}


def test_each_export_is_audited_with_its_filters_and_no_patient(client, clinic):
    sign_in(client, "desk")
    before = audit_count("consults_exported")

    parse(client.get(f"/staff/consults.csv?from={today()}&to={today()}&q=Jo%20Patient"))

    assert audit_count("consults_exported") == before + 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "consults_exported"))
    assert event.staff_user_id is not None
    assert f"from {today()} to {today()}" in event.detail
    assert "search given" in event.detail
    assert "Jo" not in event.detail + event.subject
    assert "jo@example.com" not in event.detail + event.subject


def test_a_refused_export_is_not_audited(client, clinic):
    sign_in(client, "desk")
    before = audit_count("consults_exported")
    assert client.get("/staff/consults.csv?status=held").status_code == 422
    assert audit_count("consults_exported") == before
