"""Slot computation with 1,000 and with 100,000 past consults in the database.

What is timed is what a slots request does below the web layer: ``open_times`` loads the
practitioners' hours, overrides, time off and the consults inside the window (indexed range
queries), then the pure core computes the free times. Two clinics are built alike, ten
practitioners in five zones with two consults a day booked ahead, and differ only in their
history. The process's cache of free times is emptied before each call, so every call does
that work. Calls alternate between the two so that any drift of the machine hits both alike;
each figure is the median call.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from bench import data
from bench.report import Row, millis
from clinic.availability.open_times import active_practitioners, open_times, slot_cache
from clinic.core.extensions import db
from clinic.scheduling import Interval

PRACTITIONERS = 10
SMALL, LARGE = 1_000, 100_000
TARGET = 1.3  # the 100k/1k time ratio at most
# (label, practitioners asked about, days shown)
SCENARIOS = (("1 practitioner × 30 days", 1, 30), ("10 practitioners × 60 days", 10, 60))


def run(context) -> list[Row]:
    rows = []
    for kind in ("sqlite", "postgresql"):
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        history = (SMALL // 100, LARGE // 100) if context.quick else (SMALL, LARGE)
        apps = [_clinic(context, kind, past, now) for past in history]
        for label, count, days in SCENARIOS:
            small, large = _timed(apps, count, days, now, rounds=2 if context.quick else 40)
            ratio = large / small
            rows.append(
                Row(
                    "Slot computation",
                    f"{label}, {kind}: {history[0]:,} → {history[1]:,} past consults",
                    f"{millis(small)} → {millis(large)} (×{ratio:.2f})",
                    f"≤ ×{TARGET}",
                    ratio <= TARGET,
                )
            )
        for app in apps:
            with app.app_context():
                db.engine.dispose()
    return rows


def _clinic(context, kind: str, past: int, now: datetime):
    url = context.database(kind, f"slots_{past}")
    ids = data.seed_clinic(url, PRACTITIONERS, horizon_days=90, min_notice_minutes=120)
    data.add_past_consults(url, ids, past, now)
    data.add_booked_consults(url, ids, days=60, per_day=2, now=now)
    return data.app_for(url)


def _timed(apps, count: int, days: int, now: datetime, rounds: int) -> tuple[float, ...]:
    window = Interval(now, now + timedelta(days=days))
    times: list[list[float]] = [[] for _ in apps]
    for round_ in range(rounds + 3):  # the first three warm the caches up and are not kept
        for app, kept in zip(apps, times, strict=True):
            with app.app_context():
                people = active_practitioners()[:count]
                wanted = people[0].id if count == 1 else None
                slot_cache().clear()  # the work behind a miss is what must not grow
                started = time.perf_counter()
                found = open_times(people, wanted, window, now)
                elapsed = time.perf_counter() - started
                assert found, "the benchmark clinic should have free times"
                db.session.remove()
            if round_ >= 3:
                kept.append(elapsed)
    return tuple(statistics.median(t) for t in times)
