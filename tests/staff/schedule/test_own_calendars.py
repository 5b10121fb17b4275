"""/staff/calendar: a practitioner connects their own calendar by its ICS address (kept
encrypted, never shown back), sees how its reading goes, asks for a new read, and removes it;
an address that can't be used is refused beside the field, changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import AuditEvent, CalendarConnection, ExternalBusy, Practitioner
from clinic.own_calendars.secrets import unseal
from clinic.own_calendars.sync import sync_connection
from tests.support.apps import csrf_token
from tests.support.http_servers import http_server
from tests.support.staff import seed_staff_clinic, sign_in

FEED = (Path(__file__).parents[2] / "own_calendars" / "feeds" / "icloud.ics").read_bytes()
SECRET = "webcal://p01-calendars.icloud.com/published/2/MTIzNDU2Nzg5MDEyMzQ1Nj-secret"


@pytest.fixture
def ada(app):
    with app.app_context():
        seed_staff_clinic()
        return db.session.scalar(
            sa.select(Practitioner.id).where(Practitioner.email == "ada@clinic.test")
        )


def connect(client, practitioner_id: int, label: str = "Home", url: str = SECRET):
    token = csrf_token(client.get("/staff/calendar").text)
    return client.post(
        f"/staff/calendar/{practitioner_id}/own",
        data={"csrf_token": token, "label": label, "url": url},
    )


def connections() -> list[CalendarConnection]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(CalendarConnection)))


def test_a_practitioner_connects_a_calendar_kept_secret(app, client, ada):
    assert sign_in(client, "own").status_code == 303
    response = connect(client, ada)
    assert response.status_code == 303
    page = client.get("/staff/calendar").text
    assert "Home" in page and "not read yet" in page
    assert "MTIzNDU2Nzg5MDEyMzQ1Nj" not in page  # the address is never shown back
    with app.app_context():
        [row] = connections()
        assert row.practitioner_id == ada and row.kind == "ics"
        assert b"MTIzNDU2Nzg5MDEyMzQ1Nj" not in row.secret
        assert unseal(row.secret) == SECRET.replace("webcal://", "https://")
        assert row.sync_due_at is not None  # the next worker round reads it
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "calendar_connected")
        )
        assert "icloud" not in event.detail and "secret" not in event.detail


@pytest.mark.parametrize(
    ("label", "url", "says"),
    [
        ("Home", "ftp://example.com/cal.ics", "starting with https://"),
        ("Home", "https://me:hunter2@example.com/cal.ics", "user name and password"),
        ("Home", "my calendar", "starting with https://"),
        ("Home", "", "paste the calendar"),
        ("", SECRET, "give the calendar a name"),
        ("Home\x00", SECRET, "ordinary punctuation"),
    ],
)
def test_an_address_that_cant_be_used_is_refused_beside_the_field(
    app, client, ada, label, url, says
):
    assert sign_in(client, "own").status_code == 303
    response = connect(client, ada, label, url)
    assert response.status_code == 422
    assert 'class="error"' in response.text and says in response.text
    assert "MTIzNDU2Nzg5MDEyMzQ1Nj" not in response.text  # the address typed is not shown back
    with app.app_context():
        assert connections() == []


def test_without_a_key_in_production_nothing_is_stored(app, client, ada):
    app.config["CALENDAR_KEY_FROM_SECRET_KEY"] = False
    assert sign_in(client, "own").status_code == 303
    response = connect(client, ada)
    assert response.status_code == 422 and "CALENDAR_SECRETS_KEY" in response.text
    with app.app_context():
        assert connections() == []


def test_the_page_shows_how_reading_goes(app, client, ada):
    app.config["CALENDAR_ALLOW_PRIVATE_HOSTS"] = True
    assert sign_in(client, "admin").status_code == 303
    with http_server() as server:
        server.pages["/home.ics"] = (FEED, {})
        assert connect(client, ada, "Home", server.url + "/home.ics").status_code == 303
        now = datetime.now(UTC)
        with app.app_context():
            [row] = connections()
            connection_id = row.id
            assert sync_connection(connection_id, now).ok
        assert "last synced" in client.get("/staff/calendar").text
        server.statuses["/home.ics"] = 404
        with app.app_context():
            assert not sync_connection(connection_id, now + timedelta(minutes=5)).ok
        page = client.get("/staff/calendar").text
        assert "not working since" in page and "no calendar at that address" in page
        assert "still count" in page  # the last good read's busy times
    with app.app_context():
        db.session.execute(
            sa.update(CalendarConnection).values(
                failing_since=None, last_error="", last_success_at=now - timedelta(hours=30)
            )
        )
        db.session.commit()
    assert "may be out of date" in client.get("/staff/calendar").text  # CALENDAR_STALE_HOURS


def test_sync_now_and_remove(app, client, ada):
    assert sign_in(client, "own").status_code == 303
    assert connect(client, ada).status_code == 303
    with app.app_context():
        [row] = connections()
        later = datetime.now(UTC) + timedelta(hours=1)
        row.sync_due_at = later
        db.session.add(
            ExternalBusy(
                connection_id=row.id,
                practitioner_id=ada,
                starts_at=later,
                ends_at=later + timedelta(hours=1),
                key="k" * 32,
            )
        )
        db.session.commit()
        version = db.session.get(Practitioner, ada).schedule_version
        connection_id = row.id
    token = csrf_token(client.get("/staff/calendar").text)
    synced = client.post(f"/staff/calendar/own/{connection_id}/sync", data={"csrf_token": token})
    assert synced.status_code == 303
    with app.app_context():
        assert connections()[0].sync_due_at < later
    removed = client.post(f"/staff/calendar/own/{connection_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    with app.app_context():
        assert connections() == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalBusy)) == 0
        assert db.session.get(Practitioner, ada).schedule_version > version
    assert "None connected yet" in client.get("/staff/calendar").text


@pytest.mark.parametrize("number", ["0", "99999999999999999999", str(2**63)])
def test_a_calendar_number_no_row_can_have_is_not_found(client, ada, number):
    assert sign_in(client, "admin").status_code == 303
    token = csrf_token(client.get("/staff/calendar").text)
    for action in ("sync", "remove"):
        response = client.post(f"/staff/calendar/own/{number}/{action}", data={"csrf_token": token})
        assert response.status_code == 404
