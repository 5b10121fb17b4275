"""Gunicorn with several processes on a fresh database, and the checks that no two active
consults of one practitioner overlap."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import ACTIVE, Appointment, ClinicSettings
from tests.support.apps import make_app
from tests.support.servers import PROJECT, free_port


class Gunicorn:
    """``gunicorn -w 4 wsgi:app`` on a free loopback port, its output kept in a file."""

    def __init__(self, database_url: str, log_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {
            **os.environ,
            "CLINIC_ENV": "development",
            "SECRET_KEY": "concurrency-test-secret",
            "DATABASE_URL": database_url,
            "CLINIC_BASE_URL": self.base,
            "PYTHONUNBUFFERED": "1",
            # Every client here comes from 127.0.0.1: the limits (tests/web/test_rate_limits.py)
            # would turn the stampede into 429s.
            "RATELIMIT_ENABLED": "false",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{self.port}",
            "--graceful-timeout",
            "10",
            "--no-control-socket",  # no socket in $HOME, shared with every other gunicorn
            "--access-logfile",
            "-",
            "--access-logformat",
            ACCESS_FORMAT,
            "wsgi:app",
        ]
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT
        with requests.Session() as session:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(
                        f"gunicorn exited with {self.process.returncode}:\n{self.log()}",
                        pytrace=False,
                    )
                try:
                    if session.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                        return
                except requests.RequestException:
                    pass  # not listening yet, or no worker free to answer yet
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer /healthz:\n{self.log()}", pytrace=False)
                time.sleep(0.1)

    def warm_up(self, start: datetime, practitioner: str) -> None:
        """Bring every worker past its first, slow request so the stampede really races.

        A cold worker spends its first request importing and caching; that staggers the
        workers and lets them take turns by luck. A time off the grid runs the whole booking
        path up to the check and is refused with 422, writing nothing.
        """
        off_grid = start + timedelta(minutes=5)

        def ask(index: int) -> int:
            with requests.Session() as session:
                return session.post(
                    f"{self.base}/api/v1/bookings",
                    json=api_body(off_grid, practitioner, index),
                    timeout=REQUEST_TIMEOUT,
                ).status_code

        with ThreadPoolExecutor(max_workers=4 * WORKERS) as pool:
            statuses = list(pool.map(ask, range(4 * WORKERS)))
        assert set(statuses) == {422}, f"warm-up: {statuses}\n{self.tail()}"

    def workers_that_answered(self, method: str, path: str, statuses: set[int]) -> set[str]:
        """Process ids of the workers that answered ``method path`` with one of ``statuses``."""
        return {
            m.group(1)
            for m in ACCESS_LINE.finditer(self.log())
            if (m.group(2), m.group(3)) == (method, path) and int(m.group(4)) in statuses
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # quick shutdown: the work is done
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def assert_no_overlaps(database_url: str) -> list[Booked]:
    """No two active consults of one practitioner overlap, the clinic's buffer included.

    Returns the active consults so a test can go on to count them.
    """
    booked = active_appointments(database_url)
    buffer = clinic_buffer(database_url)
    by_practitioner: dict[int, list[Booked]] = {}
    for row in booked:
        by_practitioner.setdefault(row.practitioner_id, []).append(row)
    for practitioner_id, rows in by_practitioner.items():
        busy_until = None
        for row in rows:
            assert row.ends_at > row.starts_at, row
            if busy_until is not None:
                assert row.starts_at >= busy_until, (
                    f"practitioner {practitioner_id} is double booked: a consult at "
                    f"{row.starts_at:%Y-%m-%d %H:%M} starts before {busy_until:%H:%M} "
                    f"(the previous one's end plus the {buffer} buffer); all active: {rows}"
                )
            end = row.ends_at + buffer
            busy_until = end if busy_until is None else max(busy_until, end)
    return booked


def api_body(start: datetime, practitioner: str, index: int) -> dict:
    return {
        "practitioner": practitioner,
        "start": start.isoformat(),
        "timezone": "UTC",
        "name": f"Patient {index}",
        "email": f"patient{index}@example.com",
        "consent_privacy": True,
        "consent_not_emergency": True,
    }


WORKERS = 4


BOOT_TIMEOUT = 30  # seconds for gunicorn to answer /healthz


REQUEST_TIMEOUT = 30  # seconds per request, far above what one should take


# One access-log line per request, naming the worker process that answered it.
ACCESS_FORMAT = "ACCESS worker=%(p)s %(m)s %(U)s %(s)s"


ACCESS_LINE = re.compile(r"ACCESS worker=<?(\d+)>? (\S+) (\S+) (\d+)")


@dataclass(frozen=True)
class Booked:
    practitioner_id: int
    status: str
    starts_at: datetime
    ends_at: datetime


def active_appointments(database_url: str) -> list[Booked]:
    """Held and confirmed consults, by practitioner and start, read straight from the database."""
    app = make_app(database_url)
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Appointment)
            .where(Appointment.status.in_(ACTIVE))
            .order_by(Appointment.practitioner_id, Appointment.starts_at, Appointment.id)
        ).all()
        found = [Booked(r.practitioner_id, r.status, r.starts_at, r.ends_at) for r in rows]
        db.session.remove()
        db.engine.dispose()
    return found


def clinic_buffer(database_url: str) -> timedelta:
    app = make_app(database_url)
    with app.app_context():
        minutes = db.session.get(ClinicSettings, 1).buffer_minutes
        db.session.remove()
        db.engine.dispose()
    return timedelta(minutes=minutes)
