"""The booking write path: bookings per second from 20 concurrent clients, and no overlaps.

The app runs under gunicorn (tests/system/test_concurrency.py: 4 workers on loopback, rate limits
off) on a fresh SQLite and a fresh PostgreSQL database: four practitioners working round the
clock, 30-minute grid, 10-minute buffer. Twenty clients, each a thread with its own HTTP
session, book through the JSON API as fast as they can for a fixed time. Each client has free
times of its own (every fifth grid time of one practitioner, from the day after tomorrow), so
those bookings all succeed. A client's first request, and every fourth after it, goes instead
for one of three popular times tomorrow with any practitioner, which only twelve bookings in
all can have: the rest are refused with 409 and counted as refusals, not errors. Anything
else (another status, a refusal of a client's own time, a failed request, a traceback in the
server's log) is an error. Bookings per second is the successful bookings over the wall time
from the first request to the last answer. Afterwards ``assert_no_overlaps`` (the load test's
invariant check) reads the database, and every 201 must be one active consult there.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests

from bench.data import app_for
from bench.report import Row, millis, per_second
from clinic.core.extensions import db
from tests.support import factories
from tests.support.concurrency import Gunicorn, api_body, assert_no_overlaps

CLIENTS = 20
PRACTITIONERS = 4
LANES = CLIENTS // PRACTITIONERS  # clients sharing a practitioner, each on every LANES-th time
POPULAR = 3
EVERY = 4  # the first request and every fourth after it are for a popular time
STEP = timedelta(minutes=30)
TIMEOUT = 30  # seconds per request


@dataclass
class Tally:
    """What the clients saw; shared by their threads."""

    outcomes: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # of successful bookings, seconds
    samples: list[str] = field(default_factory=list)  # the first few unexpected answers
    finished: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, outcome: str, seconds: float, sample: str = "") -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            if outcome == "booked":
                self.latencies.append(seconds)
            if sample and len(self.samples) < 3:
                self.samples.append(sample)


def run(context) -> list[Row]:
    seconds = 3.0 if context.quick else 10.0
    rows = []
    for kind in ("sqlite", "postgresql"):
        url = context.database(kind, "booking")
        ids = _seed(url)
        server = Gunicorn(url, context.workdir / f"gunicorn-booking-{kind}.log")
        try:
            server.wait_until_up()
            first = factories.next_grid_time(days_ahead=2, hour=0)
            tally = Tally()
            try:  # each worker past its slow first request: refused with 422, nothing written
                server.warm_up(first, str(ids[0]))
            except AssertionError as error:  # another answer: an error, and the run goes on
                tally.note("error", 0.0, str(error).splitlines()[0])
            elapsed = _load(server.base, ids, first, seconds, tally)
        finally:
            server.stop()
        rows += _rows(kind, url, server, tally, elapsed)
    return rows


def _seed(url: str) -> list[int]:
    app = app_for(url)
    with app.app_context():
        factories.clinic(
            min_notice_minutes=5, buffer_minutes=10, slot_step_minutes=30, horizon_days=365
        )
        ids = [factories.practitioner(hours=factories.ALL_DAY).id for _ in range(PRACTITIONERS)]
        db.session.remove()
        db.engine.dispose()
    return ids


def _load(base: str, ids: list[int], first: datetime, seconds: float, tally: Tally) -> float:
    """Seconds from the first request to the last answer."""
    popular = [factories.next_grid_time(days_ahead=1, hour=10) + STEP * i for i in range(POPULAR)]
    started = time.monotonic()
    until = started + seconds
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [
            pool.submit(_client, base, i, ids, first, popular, until, tally) for i in range(CLIENTS)
        ]
        for future in futures:
            future.result()
    return max(tally.finished) - started


def _client(base, index, ids, first, popular, until, tally: Tally) -> None:
    """Book this client's own times in order, and now and then a popular one, until time's up."""
    practitioner, lane = str(ids[index % PRACTITIONERS]), index // PRACTITIONERS
    own = (first + STEP * (lane + LANES * k) for k in range(1_000_000))
    with requests.Session() as session:
        attempt = 0
        while time.monotonic() < until:
            attempt += 1
            contested = attempt % EVERY == 1
            if contested:
                who, start = "any", popular[(index + attempt) % POPULAR]
            else:
                who, start = practitioner, next(own)
            sent = time.perf_counter()
            try:
                response = session.post(
                    f"{base}/api/v1/bookings",
                    json=api_body(start, who, index),
                    timeout=TIMEOUT,
                )
            except requests.RequestException as error:
                tally.note("failed", 0.0, repr(error))
                continue
            took = time.perf_counter() - sent
            if response.status_code == 201:
                tally.note("booked", took)
            elif response.status_code == 409 and contested:
                tally.note("refused", took)
            else:
                sample = f"{response.status_code} for {start.isoformat()}: {response.text[:300]}"
                tally.note("error", took, sample)
    with tally.lock:
        tally.finished.append(time.monotonic())


def _rows(kind: str, url: str, server: Gunicorn, tally: Tally, elapsed: float) -> list[Row]:
    booked = tally.outcomes["booked"]
    latencies = sorted(tally.latencies) or [0.0]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    log = server.log()
    errors = tally.outcomes["error"] + tally.outcomes["failed"] + log.count("Traceback")
    detail = "; ".join(tally.samples) or (server.tail(20) if errors else "")
    detail = " ".join(detail.split())[:200]  # one line in the table
    try:
        active = len(assert_no_overlaps(url))
        overlaps = "0"
        problem = "" if active == booked else f"but {active:,} active consults for {booked:,} 201s"
    except AssertionError as error:
        overlaps, problem = "at least 1", str(error).splitlines()[0][:200]
    part = "Booking write path"
    return [
        Row(
            part,
            f"Bookings per second, {CLIENTS} clients, {kind}",
            f"{per_second(booked, elapsed)} ({booked:,} in {elapsed:.1f} s; "
            f"p50 {millis(statistics.median(latencies))}, p99 {millis(p99)})",
        ),
        Row(
            part,
            f"Refusals (409) of the {POPULAR} popular times, {kind}",
            f"{tally.outcomes['refused']:,}",
        ),
        Row(
            part,
            f"Errors (neither 201 nor an expected 409), {kind}",
            f"{errors}" + (f": {detail}" if detail else ""),
            "0",
            errors == 0,
        ),
        Row(
            part,
            f"Overlaps after the run, {kind}",
            overlaps + (f" ({problem})" if problem else ""),
            "0",
            overlaps == "0" and not problem,
        ),
    ]
