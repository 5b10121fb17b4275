"""`flask worker` as a process: it reads practitioners' calendars, and copies consults into
them, in a thread of its own, so a calendar server that keeps it waiting holds up no email."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from cryptography.fernet import Fernet

from clinic.core.extensions import db
from clinic.core.models import CalendarConnection, ExternalBusy, Practitioner
from tests.support import factories
from tests.support.booking import book
from tests.support.http_servers import http_server
from tests.support.mail import FLASK, worker_env
from tests.support.own_calendars import connect_account, connect_feed
from tests.support.radicale import PASSWORD, USER, running_radicale
from tests.support.servers import PROJECT

pytestmark = pytest.mark.slow

FEED = (Path(__file__).parent / "feeds" / "icloud.ics").read_bytes()
KEY = Fernet.generate_key().decode()


def wait_until(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def radicale(tmp_path):
    with running_radicale(tmp_path / "radicale", work="Work") as server:
        yield server


def test_the_worker_reads_calendars_without_holding_up_email(app, database_url, sink, radicale):
    app.config["CALENDAR_SECRETS_KEY"] = KEY  # the worker runs as production, with this key
    work = radicale.calendar_url("work")
    with http_server() as server, app.app_context():
        server.pages["/home.ics"] = (FEED.replace(b"20260", b"20270"), {})  # next year's
        factories.clinic(horizon_days=365)
        doctor = factories.practitioner(timezone="America/New_York")
        doctor_id = doctor.id
        silent = connect_feed(doctor.id, server.url + "/silent", "Slow server")  # read first
        home = connect_feed(doctor.id, server.url + "/home.ics")
        connect_account(  # consults are added to its Work calendar
            doctor.id,
            password=PASSWORD,
            server_url=radicale.url,
            username=USER,
            calendars=[[work, "Work"]],
            busy_calendars=[],
            push_calendar=work,
        )
        db.session.remove()
        env = worker_env(database_url, sink) | {
            "CALENDAR_SECRETS_KEY": KEY,
            "CALENDAR_ALLOW_PRIVATE_HOSTS": "true",
        }
        worker = subprocess.Popen(
            [*FLASK, "worker", "--interval", "0.2"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            assert wait_until(lambda: "/silent" in server.hits), "the calendars were not read"
            # While the calendar thread waits on the slow server, a booking's invites go out.
            consult, _ = book(
                db.session.get(Practitioner, doctor_id), factories.next_grid_time(3, 9)
            )
            uid = consult.calendar_uid
            db.session.remove()
            assert wait_until(lambda: len(sink.received) == 2), "the invites never arrived"
            assert "/home.ics" not in server.hits  # the calendar thread is still waiting

            def read() -> int:
                db.session.rollback()
                return db.session.scalar(
                    sa.select(sa.func.count()).where(ExternalBusy.connection_id == home)
                )

            assert wait_until(lambda: read() == 6), "the feed's busy times never arrived"
            failed = db.session.get(CalendarConnection, silent)
            assert "(503)" in failed.last_error

            def copied() -> bool:
                with DAVClient(url=radicale.url, username=USER, password=PASSWORD) as client:
                    found = Calendar(client=client, url=work).search(event=True)
                    return [str(e.icalendar_component["UID"]) for e in found] == [uid]

            assert wait_until(copied), "the consult never reached the CalDAV calendar"
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=30)
            db.session.remove()
    text = output.decode(errors="replace")
    assert worker.returncode == 0 and "Traceback" not in text, text
    assert (
        "Calendars: 3 read." in text and "Calendars: consult copies brought up to date: 1." in text
    ), text
