"""When the database misbehaves: a clear answer to the person, nothing half-saved, and the next
attempt works. (Mail server faults are in tests/notify/test_email.py: down, refusing, hanging up,
silent.)"""

from __future__ import annotations

import os
import re
import resource
import sqlite3

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Appointment
from tests.support import factories
from tests.support.apps import csrf_token, migrate, running_app
from tests.support.staff import seed_staff_clinic, sign_in


def first_free_time(client) -> tuple[str, str]:
    """The CSRF token and the first free start time offered on /book."""
    page = client.get("/book?tz=UTC")
    assert page.status_code == 200
    start = re.search(r'name="start" value="([^"]+)"', page.text).group(1)
    return csrf_token(page.text), start


def hold(client, token: str, start: str):
    return client.post(
        "/book/hold", data={"csrf_token": token, "practitioner": "any", "tz": "UTC", "start": start}
    )


def appointments() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Appointment))


def test_sqlite_busy_past_the_timeout_asks_to_try_again_and_saves_nothing(tmp_path, request):
    """Another writer holds SQLite's write lock longer than the busy timeout."""
    path = tmp_path / "clinic.db"
    path.write_bytes(request.getfixturevalue("sqlite_template").read_bytes())
    with running_app(f"sqlite:///{path}", "sqlite", SQLITE_BUSY_TIMEOUT_MS=300) as app:
        factories.clinic()
        factories.practitioner()
        db.session.remove()
        client = app.test_client()
        token, start = first_free_time(client)

        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # a long writer: holds the lock until it ends
        try:
            page = hold(client, token, start)
            api = client.post(
                "/api/v1/bookings",
                json={
                    "practitioner": "any",
                    "start": start,
                    "timezone": "UTC",
                    "name": "Jo",
                    "email": "jo@example.com",
                    "consent_privacy": True,
                    "consent_not_emergency": True,
                },
            )
            assert appointments() == 0  # reading still works while the writer holds on
        finally:
            writer.execute("ROLLBACK")
            writer.close()

        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert "nothing was saved. Please try again in a few seconds" in page.text
        assert api.status_code == 503
        assert api.headers["Content-Type"] == "application/problem+json"
        assert api.get_json()["title"] == "Please try again in a moment"
        again = hold(client, token, start)  # the lock is free again: it works
        assert again.status_code == 303, again.text[:500]
        assert appointments() == 1


def test_postgresql_connections_dropped_between_requests_are_replaced(postgres):
    """A restarted PostgreSQL server ends every open connection; the pool notices (it looks
    at each connection's socket as it hands it out) and the next request works, without an
    error page."""
    url = postgres.create("clinic_restart")
    migrate(url)
    with running_app(url, "postgresql") as app:
        factories.clinic()
        factories.practitioner()
        db.session.remove()
        client = app.test_client()
        token, start = first_free_time(client)  # the pool now holds a connection

        database = sa.engine.make_url(url).database
        with postgres.admin.connect() as admin:
            ended = admin.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            ).scalar()
        assert ended >= 1, "no connection of the app's was open to end"

        response = hold(client, token, start)
        assert response.status_code == 303, response.text[:500]
        assert appointments() == 1


def test_a_healthy_connection_numbered_past_1023_is_kept(postgres):
    """Threaded workers can hold over a thousand files: the socket check polls, since select
    refuses file numbers past 1023 (and taking that refusal for an ended connection left the
    app unable to reach its database at all)."""
    url = postgres.create("clinic_many_files")
    migrate(url)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"this process may open at most {hard} files, and the test needs 1,200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    files = [open(os.devnull) for _ in range(1100)]  # noqa: SIM115 - closed below
    try:
        assert max(f.fileno() for f in files) > 1023
        with running_app(url, "postgresql") as app:
            assert app.test_client().get("/healthz").status_code == 200
            with db.engine.connect() as connection:  # the pool's connection, as checked out
                assert connection.connection.dbapi_connection.fileno() > 1023
                assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        for f in files:
            f.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("path", ["/book", "/api/v1/slots", "/healthz"])
def test_an_unreachable_database_is_a_clear_503_not_a_500(tmp_path, path):
    """A database that cannot be opened at all (here: a SQLite file in a missing folder)."""
    with running_app(f"sqlite:///{tmp_path}/missing/clinic.db", "sqlite") as app:
        response = app.test_client().get(path)
    assert response.status_code == 503, response.text[:300]


def test_liveness_does_not_depend_on_the_database(tmp_path):
    """/livez says the process answers; an unreachable database is /healthz's to report."""
    with running_app(f"sqlite:///{tmp_path}/missing/clinic.db", "sqlite") as app:
        client = app.test_client()
        live, ready = client.get("/livez"), client.get("/healthz")
    assert (live.status_code, live.get_json()) == (200, {"status": "ok"})
    assert ready.status_code == 503


def test_signing_out_while_the_database_is_busy_still_signs_this_browser_out(tmp_path, request):
    """Ending the account's other sessions needs a write; if it can't be had, this browser
    (perhaps a shared front-desk computer) is signed out all the same, and told the rest."""
    path = tmp_path / "clinic.db"
    path.write_bytes(request.getfixturevalue("sqlite_template").read_bytes())
    with running_app(f"sqlite:///{path}", "sqlite", SQLITE_BUSY_TIMEOUT_MS=300) as app:
        seed_staff_clinic()
        db.session.remove()
        client = app.test_client()
        assert sign_in(client, "desk").status_code == 303
        token = csrf_token(client.get("/staff/").text)

        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            response = client.post("/staff/sign-out", data={"csrf_token": token})
        finally:
            writer.execute("ROLLBACK")
            writer.close()

        assert response.status_code == 303
        assert "could not be ended just now" in client.get(response.headers["Location"]).text
        assert client.get("/staff/").status_code == 302  # signed out here
