"""No double booking under real concurrency: gunicorn, 4 worker processes, 50 clients at once.

Each test migrates its own database (a copy of the SQLite template, or a fresh PostgreSQL
database), seeds one clinic and one practitioner, serves the app with ``gunicorn -w 4`` on a
free loopback port and releases 50 clients through a barrier so they all ask for the same
time together. Exactly one may win; everyone else must get the polite 409, never a 5xx, and
the database must end up with no two active consults of the practitioner overlapping.

The gunicorn log is printed at teardown (pytest shows it only when the test failed) and its
tail is part of every assertion message about the responses.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from clinic.accounts.services import create_staff
from clinic.core.extensions import db
from clinic.core.models import Practitioner
from tests.support import factories
from tests.support.apps import csrf_token, make_app
from tests.support.concurrency import (
    ACCESS_LINE,
    REQUEST_TIMEOUT,
    Gunicorn,
    api_body,
    assert_no_overlaps,
)

pytestmark = pytest.mark.slow

CLIENTS = 50
TAKEN_PAGE = "<h2>That time was just taken</h2>"


# --- the server ------------------------------------------------------------------------------


@pytest.fixture
def serve(tmp_path) -> Callable[[str], Gunicorn]:
    """Start gunicorn on a database; it is always stopped, and its log printed, at teardown."""
    servers: list[Gunicorn] = []

    def start(database_url: str) -> Gunicorn:
        server = Gunicorn(database_url, tmp_path / f"gunicorn-{len(servers)}.log")
        servers.append(server)
        server.wait_until_up()
        return server

    yield start
    for server in servers:
        server.stop()
        # Captured teardown output is shown by pytest only for a failed test.
        print(f"----- gunicorn log ({server.base}, exit {server.process.returncode}) -----")
        print(server.log())


# --- the database ----------------------------------------------------------------------------


def seed(database_url: str, step: int = 30) -> int:
    """One clinic (buffer 10, no daily cap) and one practitioner working round the clock."""
    app = make_app(database_url)
    with app.app_context():
        factories.clinic(
            min_notice_minutes=5, daily_cap=None, buffer_minutes=10, slot_step_minutes=step
        )
        practitioner_id = factories.practitioner(hours=factories.ALL_DAY).id
        db.session.remove()
        db.engine.dispose()
    return practitioner_id


# --- the clients -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    text: str
    location: str

    def json(self):
        return json.loads(self.text)


def stampede(
    count: int,
    prepare: Callable[[requests.Session, int], object],
    fire: Callable[[requests.Session, int, object], requests.Response],
) -> list[Reply]:
    """``count`` clients, each with its own session, send ``fire`` at the same moment.

    ``prepare`` runs first (before the barrier) and its result is handed to ``fire``.
    """
    barrier = threading.Barrier(count, timeout=REQUEST_TIMEOUT)

    def client(index: int) -> Reply:
        with requests.Session() as session:
            try:
                state = prepare(session, index)
            except BaseException:
                barrier.abort()  # let the others fail fast instead of waiting for the timeout
                raise
            barrier.wait()
            response = fire(session, index, state)
            return Reply(
                response.status_code,
                response.headers.get("Content-Type", ""),
                response.text,
                response.headers.get("Location", ""),
            )

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(client, range(count)))


def no_preparation(session: requests.Session, index: int) -> None:
    return None


def describe(replies: list[Reply], server: Gunicorn) -> str:
    statuses = Counter(r.status for r in replies)
    odd = [r for r in replies if r.status >= 500]
    sample = f"\nfirst 5xx body: {odd[0].text[:1000]}" if odd else ""
    return f"statuses {dict(statuses)}{sample}\n--- gunicorn log tail ---\n{server.tail()}"


def assert_api_replies(replies: list[Reply], server: Gunicorn, taken: set[datetime]) -> Reply:
    """Exactly one 201; every other reply a 409 problem with alternatives; no 5xx at all."""
    context = describe(replies, server)
    statuses = Counter(r.status for r in replies)
    assert not [s for s in statuses if s >= 500], context
    assert statuses == {201: 1, 409: len(replies) - 1}, context
    [won] = [r for r in replies if r.status == 201]
    assert won.json()["status"] == "confirmed", won.text
    for reply in replies:
        if reply.status != 409:
            continue
        assert reply.content_type.split(";")[0] == "application/problem+json", reply
        problem = reply.json()
        assert problem["status"] == 409 and problem["type"].endswith("slot-taken"), problem
        assert problem["alternatives"], f"a 409 without alternatives: {problem}"
        offered = {datetime.fromisoformat(a["start_utc"]) for a in problem["alternatives"]}
        assert not offered & taken, f"a taken time offered as an alternative: {problem}"
    return won


def assert_clean_log(server: Gunicorn, method: str, path: str, statuses: set[int]) -> None:
    """No tracebacks logged, and the stampede was served by several worker processes."""
    log = server.log()
    assert "Traceback" not in log and "Unhandled error" not in log, log
    workers = server.workers_that_answered(method, path, statuses)
    assert len(workers) >= 2, f"only workers {workers} answered {method} {path}:\n{log}"


# --- the scenarios ---------------------------------------------------------------------------


def test_fifty_api_clients_one_slot_one_booking(database, serve):
    practitioner_id = seed(database)
    start = factories.next_grid_time(days_ahead=2, hour=10)
    server = serve(database)
    server.warm_up(start, str(practitioner_id))

    def fire(session, index, _):
        return session.post(
            f"{server.base}/api/v1/bookings",
            json=api_body(start, str(practitioner_id), index),
            timeout=REQUEST_TIMEOUT,
        )

    replies = stampede(CLIENTS, no_preparation, fire)

    won = assert_api_replies(replies, server, {start})
    assert datetime.fromisoformat(won.json()["start"]) == start
    assert_clean_log(server, "POST", "/api/v1/bookings", {201, 409})
    [booking] = assert_no_overlaps(database)
    assert booking.status == "confirmed" and booking.starts_at == start
    assert booking.practitioner_id == practitioner_id


def test_fifty_patients_clicking_one_slot_one_hold(database, serve):
    seed(database)
    start = factories.next_grid_time(days_ahead=2, hour=10)
    server = serve(database)
    server.warm_up(start, "any")

    def prepare(session, _index):
        page = session.get(f"{server.base}/book?tz=UTC", timeout=REQUEST_TIMEOUT)
        assert page.status_code == 200, page.text[:500]
        assert session.cookies, "GET /book set no session cookie for the CSRF token"
        return csrf_token(page.text)

    def fire(session, _index, token):
        return session.post(
            f"{server.base}/book/hold",
            data={
                "csrf_token": token,
                "practitioner": "any",
                "tz": "UTC",
                "start": start.isoformat(),
            },
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )

    replies = stampede(CLIENTS, prepare, fire)

    context = describe(replies, server)
    statuses = Counter(r.status for r in replies)
    assert not [s for s in statuses if s >= 500], context
    assert statuses == {303: 1, 409: CLIENTS - 1}, context
    [won] = [r for r in replies if r.status == 303]
    assert urlsplit(won.location).path.startswith("/book/"), won
    for reply in replies:
        if reply.status == 409:
            assert reply.content_type.startswith("text/html"), reply.content_type
            assert TAKEN_PAGE in reply.text, reply.text[:2000]
            alert = reply.text[reply.text.index(TAKEN_PAGE) :].split("</form>")[0]
            assert 'action="/book/hold"' in alert, f"no nearby times offered: {alert}"
            assert 'name="start" value="' in alert, f"no nearby times offered: {alert}"
            assert f'value="{start.isoformat()}"' not in alert, "the taken time offered again"
    assert_clean_log(server, "POST", "/book/hold", {303, 409})
    [hold] = assert_no_overlaps(database)
    assert hold.status == "held" and hold.starts_at == start


def test_overlapping_starts_ten_minutes_apart_one_booking(database, serve):
    practitioner_id = seed(database, step=10)
    first = factories.next_grid_time(days_ahead=2, hour=10)
    second = first + timedelta(minutes=10)  # 10:10-10:30 overlaps 10:00-10:20
    server = serve(database)
    server.warm_up(first, str(practitioner_id))

    def fire(session, index, _):
        start = first if index % 2 == 0 else second
        return session.post(
            f"{server.base}/api/v1/bookings",
            json=api_body(start, str(practitioner_id), index),
            timeout=REQUEST_TIMEOUT,
        )

    replies = stampede(CLIENTS, no_preparation, fire)

    won = assert_api_replies(replies, server, set())
    assert datetime.fromisoformat(won.json()["start"]) in {first, second}
    assert_clean_log(server, "POST", "/api/v1/bookings", {201, 409})
    booked = assert_no_overlaps(database)
    assert len(booked) == 1, booked
    assert booked[0].starts_at in {first, second}


def test_the_overlap_check_catches_a_double_booking(database):
    """``assert_no_overlaps`` itself must fail on consults closer than the buffer."""
    practitioner_id = seed(database, step=10)
    start = factories.next_grid_time(days_ahead=2, hour=10)
    app = make_app(database)
    with app.app_context():
        doctor = db.session.get(Practitioner, practitioner_id)
        factories.appointment(doctor, start)  # 10:00-10:20
        factories.appointment(doctor, start + timedelta(minutes=30))  # 10:30-10:50: just clear
        db.session.remove()
        db.engine.dispose()
    assert len(assert_no_overlaps(database)) == 2
    with app.app_context():
        # 10:55 does not overlap 10:30-10:50 (PostgreSQL's exclusion constraint allows it) but
        # is inside its 10-minute buffer: written directly, as a buggy writer would.
        doctor = db.session.get(Practitioner, practitioner_id)
        factories.appointment(doctor, start + timedelta(minutes=55))
        db.session.remove()
        db.engine.dispose()
    with pytest.raises(AssertionError, match="double booked"):
        assert_no_overlaps(database)


def test_staff_moving_twenty_consults_to_one_time_one_wins(database, serve):
    """Invariant 1 holds for staff: twenty front-desk sessions each move a different consult
    of one practitioner to the same free time at once; one move wins."""
    practitioner_id = seed(database)
    target = factories.next_grid_time(days_ahead=2, hour=10)
    app = make_app(database)
    with app.app_context():
        doctor = db.session.get(Practitioner, practitioner_id)
        references = [
            factories.appointment(doctor, target + timedelta(days=1, hours=i)).reference
            for i in range(20)
        ]
        create_staff("desk@clinic.test", "frontdesk", "correct horse battery")
        db.session.remove()
        db.engine.dispose()
    server = serve(database)
    server.warm_up(target, str(practitioner_id))

    def prepare(session, _index):
        page = session.get(f"{server.base}/staff/sign-in", timeout=REQUEST_TIMEOUT)
        signed_in = session.post(
            f"{server.base}/staff/sign-in",
            data={
                "csrf_token": csrf_token(page.text),
                "email": "desk@clinic.test",
                "password": "correct horse battery",
            },
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )
        assert signed_in.status_code == 303, signed_in.text[:500]
        return csrf_token(session.get(f"{server.base}/staff/", timeout=REQUEST_TIMEOUT).text)

    def fire(session, index, token):
        return session.post(
            f"{server.base}/staff/consults/{references[index]}/reschedule",
            data={"csrf_token": token, "tz": "UTC", "start": target.isoformat()},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )

    replies = stampede(len(references), prepare, fire)

    context = describe(replies, server)
    statuses = Counter(r.status for r in replies)
    assert statuses == {303: 1, 409: len(references) - 1}, context
    assert all(TAKEN_PAGE in r.text for r in replies if r.status == 409), context
    log = server.log()
    assert "Traceback" not in log, log
    movers = {
        m.group(1)
        for m in ACCESS_LINE.finditer(log)
        if m.group(2) == "POST" and m.group(3).startswith("/staff/consults/")
    }
    assert len(movers) >= 2, f"only workers {movers} answered the moves:\n{log}"
    booked = assert_no_overlaps(database)
    assert [b.starts_at for b in booked].count(target) == 1
    assert len(booked) == len(references)
