"""A load run: many patients booking a handful of popular times, rescheduling and cancelling.

The app runs under gunicorn with 4 worker processes on a fresh SQLite or PostgreSQL database
(three practitioners, round-the-clock hours). ``clients`` threads, each its own patient with
its own HTTP session, loop until ``seconds`` have passed: book one of five popular times through
the JSON API, then move it to one of the earliest free times that day (others are after them
too) or cancel it through the manage link in the booking's answer, and book again. Afterwards
the database is checked:

- no two active consults of a practitioner overlap (the clinic's buffer included);
- every booking that succeeded has exactly one confirmation to its patient in the outbox;
- no response was a 5xx.

Run it in full with ``.venv/bin/python -m tests.system.load --clients 200 --seconds 60`` (add
``--database postgresql``); the suite runs a short form (tests/system/test_load.py). Rate limits are
off for the run: every client comes from 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Appointment, OutboxMessage, Patient
from tests.support import factories
from tests.support.apps import ADMIN_URL, PostgresDatabases, make_app, migrate
from tests.support.concurrency import Gunicorn, assert_no_overlaps

POPULAR = 5  # popular start times everyone goes for
PRACTITIONERS = 3
TIMEOUT = 30  # seconds per request
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
OFFERED = re.compile(r'name="start" value="([^"]+)"')


@dataclass
class Tally:
    """What the clients saw: status counts per action, and the references they booked."""

    statuses: Counter = field(default_factory=Counter)
    booked: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, action: str, status: int) -> None:
        with self.lock:
            self.statuses[(action, status)] += 1

    @property
    def server_errors(self) -> dict:
        return {key: n for key, n in self.statuses.items() if key[1] >= 500}


def seed(database_url: str) -> list[datetime]:
    """The clinic, three practitioners working round the clock; the popular times."""
    app = make_app(database_url)
    with app.app_context():
        factories.clinic(min_notice_minutes=5, buffer_minutes=10, slot_step_minutes=30)
        for _ in range(PRACTITIONERS):
            factories.practitioner(hours=factories.ALL_DAY)
        db.session.remove()
        db.engine.dispose()
    first = factories.next_grid_time(days_ahead=2, hour=10)
    return [first + timedelta(minutes=30 * i) for i in range(POPULAR)]


def patient_loop(base: str, index: int, times: list[datetime], until: float, tally: Tally):
    """One patient: book a popular time, then move or cancel it, and again, until time is up."""
    chance = random.Random(index)
    with requests.Session() as session:
        while time.monotonic() < until:
            start = chance.choice(times)
            response = session.post(
                f"{base}/api/v1/bookings",
                json={
                    "practitioner": "any",
                    "start": start.isoformat(),
                    "timezone": "UTC",
                    "name": f"Patient {index}",
                    "email": f"patient{index}@example.com",
                    "consent_privacy": True,
                    "consent_not_emergency": True,
                },
                timeout=TIMEOUT,
            )
            tally.note("book", response.status_code)
            if response.status_code != 201:
                continue
            booking = response.json()
            with tally.lock:
                tally.booked.append(booking["reference"])
            manage = urlsplit(booking["manage_url"]).path
            if chance.random() < 0.5:
                page = session.get(
                    f"{base}{manage}/reschedule?tz=UTC&day={times[0].date()}", timeout=TIMEOUT
                )
                tally.note("reschedule page", page.status_code)
                offered = OFFERED.findall(page.text)[:8]  # the earliest free times that day
                if page.status_code == 200 and offered:
                    moved = session.post(
                        f"{base}{manage}/reschedule",
                        data={
                            "csrf_token": CSRF.search(page.text).group(1),
                            "tz": "UTC",
                            "start": chance.choice(offered),
                        },
                        allow_redirects=False,
                        timeout=TIMEOUT,
                    )
                    tally.note("reschedule", moved.status_code)
            page = session.get(f"{base}{manage}", timeout=TIMEOUT)
            tally.note("manage page", page.status_code)
            if page.status_code == 200 and chance.random() < 0.7:
                cancelled = session.post(
                    f"{base}{manage}/cancel",
                    data={"csrf_token": CSRF.search(page.text).group(1), "reason": "load"},
                    allow_redirects=False,
                    timeout=TIMEOUT,
                )
                tally.note("cancel", cancelled.status_code)


def confirmations_per_booking(database_url: str, references: list[str]) -> Counter:
    """How many booking confirmations each reference's patient has in the outbox."""
    app = make_app(database_url)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Appointment.reference, sa.func.count(OutboxMessage.id))
            .join(Patient, Appointment.patient_id == Patient.id)
            .outerjoin(
                OutboxMessage,
                sa.and_(
                    OutboxMessage.appointment_id == Appointment.id,
                    OutboxMessage.kind == "booked",
                    OutboxMessage.recipient == Patient.email,
                ),
            )
            .where(Appointment.reference.in_(references))
            .group_by(Appointment.reference)
        ).all()
        db.session.remove()
        db.engine.dispose()
    return Counter({reference: count for reference, count in rows})


def run(database_url: str, clients: int, seconds: float, log_dir: Path) -> Tally:
    """Serve, load, stop; then check the database. Raises AssertionError on any violation."""
    times = seed(database_url)
    server = Gunicorn(database_url, log_dir / "gunicorn.log")  # rate limits off: one address
    tally = Tally()
    try:
        server.wait_until_up()
        until = time.monotonic() + seconds
        with ThreadPoolExecutor(max_workers=clients) as pool:
            futures = [
                pool.submit(patient_loop, server.base, i, times, until, tally)
                for i in range(clients)
            ]
            for future in futures:
                future.result()
    finally:
        server.stop()
    assert not tally.server_errors, f"5xx answers: {tally.server_errors}\n{server.tail()}"
    assert "Traceback" not in server.log(), server.tail(200)
    assert_no_overlaps(database_url)
    confirmations = confirmations_per_booking(database_url, tally.booked)
    assert set(confirmations) == set(tally.booked), "a successful booking is missing"
    assert set(confirmations.values()) <= {1}, {r: n for r, n in confirmations.items() if n != 1}
    return tally


def report(tally: Tally, seconds: float) -> str:
    lines = [f"{action:16} {status}: {n}" for (action, status), n in sorted(tally.statuses.items())]
    total = sum(tally.statuses.values())
    lines.append(f"{total} requests in {seconds:.0f} s; {len(tally.booked)} bookings succeeded")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with TemporaryDirectory() as folder:
        directory = Path(folder)
        databases = None
        if args.database == "sqlite":
            url = f"sqlite:///{directory / 'clinic.db'}"
        else:
            databases = PostgresDatabases(ADMIN_URL)
            url = databases.create("clinic_load")
        try:
            migrate(url)
            tally = run(url, args.clients, args.seconds, directory)
        finally:
            if databases is not None:
                databases.drop_all()
    print(report(tally, args.seconds))
    print("No overlaps, one confirmation per booking, no 5xx.")


if __name__ == "__main__":
    main()
