"""/staff/calendar: a practitioner connects a CalDAV account (the server is asked before
anything is saved; the app password is kept encrypted and never shown back), chooses which
of its calendars count as busy and which receives consults; a server that refuses, fails or
is no CalDAV server gets a plain message beside the field, and nothing changes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import CalendarConnection, CalendarCopy, Practitioner
from clinic.own_calendars.secrets import unseal
from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.booking import book
from tests.support.http_servers import http_server
from tests.support.radicale import PASSWORD, USER, running_radicale
from tests.support.staff import seed_staff_clinic, sign_in


@pytest.fixture
def ada(app):
    app.config["CALENDAR_ALLOW_PRIVATE_HOSTS"] = True  # the servers here are on loopback
    with app.app_context():
        seed_staff_clinic()
        return db.session.scalar(
            sa.select(Practitioner.id).where(Practitioner.email == "ada@clinic.test")
        )


@pytest.fixture
def radicale(tmp_path):
    with running_radicale(tmp_path, work="Work", family="Family") as server:
        yield server


def connect(client, practitioner_id: int, server_url: str, password: str = PASSWORD):
    token = csrf_token(client.get("/staff/calendar").text)
    return client.post(
        f"/staff/calendar/{practitioner_id}/account",
        data={
            "csrf_token": token,
            "label": "Phone",
            "server_url": server_url,
            "username": USER,
            "password": password,
        },
    )


def saved() -> list[CalendarConnection]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(CalendarConnection)))


def test_a_practitioner_connects_an_account_and_chooses_its_calendars(app, client, ada, radicale):
    assert sign_in(client, "own").status_code == 303
    assert connect(client, ada, radicale.url).status_code == 303
    page = client.get("/staff/calendar").text
    assert "CalDAV account dana" in page and "Work" in page and "Family" in page
    assert PASSWORD not in page
    with app.app_context():
        [row] = saved()
        assert PASSWORD.encode() not in row.secret and unseal(row.secret) == PASSWORD
        urls = {name: url for url, name in row.calendars}
        connection_id = row.id
        consult, _ = book(db.session.get(Practitioner, ada), factories.next_grid_time(3))
        uid = consult.calendar_uid
    token = csrf_token(page)
    response = client.post(
        f"/staff/calendar/own/{connection_id}/calendars",
        data={"csrf_token": token, "busy": [urls["Work"]], "push": urls["Work"]},
    )
    assert response.status_code == 303
    with app.app_context():
        [row] = saved()
        assert row.busy_calendars == [urls["Work"]] and row.push_calendar == urls["Work"]
        copies = db.session.scalars(sa.select(CalendarCopy)).all()  # her consults, to copy
        assert uid in {c.uid for c in copies}
        assert all(c.due_at is not None for c in copies)
    page = client.get("/staff/calendar").text
    assert f"{len(copies)} consults waiting to be updated in this calendar" in page


def test_a_calendar_not_the_accounts_is_refused(app, client, ada, radicale):
    assert sign_in(client, "own").status_code == 303
    assert connect(client, ada, radicale.url).status_code == 303
    with app.app_context():
        [row] = saved()
        before = (list(row.busy_calendars), row.push_calendar)
    token = csrf_token(client.get("/staff/calendar").text)
    response = client.post(
        f"/staff/calendar/own/{row.id}/calendars",
        data={"csrf_token": token, "busy": ["https://elsewhere.example/cal/"], "push": ""},
    )
    assert response.status_code == 422
    assert "Please choose among the account" in response.text
    with app.app_context():
        [row] = saved()
        assert (row.busy_calendars, row.push_calendar) == before


def test_a_wrong_password_is_refused_beside_it_and_not_shown_back(app, client, ada, radicale):
    assert sign_in(client, "own").status_code == 303
    response = connect(client, ada, radicale.url, password="not-the-password")
    assert response.status_code == 422
    assert "refused the user name or app password" in response.text
    assert f'id="account-{ada}-password-error"' in response.text
    assert "not-the-password" not in response.text
    with app.app_context():
        assert saved() == []


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (401, None, "refused the user name or app password"),
        (500, None, "did not answer as a CalDAV server does"),
        (200, b"<html><body>Welcome to our website</body></html>", "did not answer as a CalDAV"),
    ],
)
def test_a_server_that_is_no_caldav_server_is_refused_beside_the_address(
    app, client, ada, status, body, says
):
    assert sign_in(client, "own").status_code == 303
    with http_server() as server:
        if body is None:
            server.statuses["/dav/"] = status
        else:
            server.pages["/dav/"] = (body, {"Content-Type": "text/html"})
        response = connect(client, ada, server.url + "/dav/")
    assert response.status_code == 422
    assert says in response.text
    with app.app_context():
        assert saved() == []


@pytest.mark.parametrize(
    ("server_url", "says"),
    [
        ("https://dana:secret@dav.example.com/", "user name and password out of the address"),
        ("dav.example.com", "starting with https://"),
        ("", "give the server"),
    ],
)
def test_an_address_that_cant_be_used_is_refused_before_asking_anyone(
    app, client, ada, server_url, says
):
    assert sign_in(client, "own").status_code == 303
    response = connect(client, ada, server_url)
    assert response.status_code == 422 and says in response.text
    with app.app_context():
        assert saved() == []


def test_loopback_is_refused_unless_the_setting_allows_it(app, client, ada, radicale):
    app.config["CALENDAR_ALLOW_PRIVATE_HOSTS"] = False
    assert sign_in(client, "own").status_code == 303
    response = connect(client, ada, radicale.url)
    assert response.status_code == 422 and "private or local" in response.text
    with app.app_context():
        assert saved() == []
