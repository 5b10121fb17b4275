"""Slot computation with 1,000 and with 100,000 past consults in the database, and with none
or 2,000 busy times read from a practitioner's own calendar.

What is timed is what a slots request does below the web layer: ``open_times`` loads the
practitioners' hours, overrides, time off, the consults and the busy times of their own
calendars inside the window (indexed range queries), then the pure core computes the free
times. Two clinics are built alike, ten practitioners in five zones with two consults a day
booked ahead, and differ only in their history; two more, built like the first, differ only
in the busy times stored for the first practitioner's connected calendar (none, or 2,000 over
the 90-day horizon, asked about all at once). The process's cache of free times is emptied
before each call, so every call does that work. Calls alternate between the two clinics of a
pair so that any drift of the machine hits both alike; each figure is the median call.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from bench import data
from bench.report import Row, millis
from clinic.availability.busy_cache import busy_cache
from clinic.availability.open_times import active_practitioners, open_times, slot_cache
from clinic.core.extensions import db
from clinic.scheduling import Interval

PRACTITIONERS = 10
SMALL, LARGE = 1_000, 100_000
TARGET = 1.3  # the 100k/1k time ratio, and the 2,000-busy/none one, at most
# (label, practitioners asked about, days shown)
SCENARIOS = (("1 practitioner × 30 days", 1, 30), ("10 practitioners × 60 days", 10, 60))
HORIZON = 90  # days: the clinics' booking horizon
BUSY = 2_000  # busy times in the first practitioner's own calendar, over the horizon


def run(context) -> list[Row]:
    rows = []
    # --quick only shows that every row is produced: fewer rounds, busy times and warm-ups.
    rounds, busy_times = (2, BUSY // 10) if context.quick else (40, BUSY)
    for kind in ("sqlite", "postgresql"):
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        history = (SMALL // 100, LARGE // 100) if context.quick else (SMALL, LARGE)
        apps = [_clinic(context, kind, past, now) for past in history]
        for label, count, days in SCENARIOS:
            (small, _), (large, _) = _timed(apps, count, days, now, rounds)
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
        calendars = [_clinic(context, kind, history[0], now, busy) for busy in (0, busy_times)]
        (none, free), (busy, left) = _timed(calendars, 1, HORIZON, now, rounds)
        ratio = busy / none
        rows.append(
            Row(
                "Slot computation",
                f"1 practitioner × {HORIZON} days, {kind}: 0 → {busy_times:,} busy times of their "
                "own calendar",
                f"{millis(none)} → {millis(busy)} (×{ratio:.2f}; {free:,} → {left:,} free times)",
                f"≤ ×{TARGET}",
                ratio <= TARGET,
            )
        )
        # The first computation after a sync changed them, which reads them from the database.
        (none, _), (busy, _) = _timed(calendars, 1, HORIZON, now, rounds, reread_busy=True)
        rows.append(
            Row(
                "Slot computation",
                f"the same, {kind}, the first time after a sync changed the busy times",
                f"{millis(none)} → {millis(busy)} (×{busy / none:.2f})",
            )
        )
        for app in apps + calendars:
            with app.app_context():
                db.engine.dispose()
    return rows


def _clinic(context, kind: str, past: int, now: datetime, busy: int | None = None):
    """``busy``: the first practitioner's calendar connected with that many busy times."""
    name = f"slots_{past}" if busy is None else f"slots_busy_{busy}"
    url = context.database(kind, name)
    ids = data.seed_clinic(url, PRACTITIONERS, horizon_days=HORIZON, min_notice_minutes=120)
    data.add_past_consults(url, ids, past, now)
    data.add_booked_consults(url, ids, days=60, per_day=2, now=now)
    if busy is not None:
        data.add_external_busy(url, ids[0], busy, now)
    return data.app_for(url)


def _timed(
    apps, count: int, days: int, now: datetime, rounds: int, reread_busy: bool = False
) -> list[tuple[float, int]]:
    """For each app, the median time of a call and the free times it found. ``reread_busy``:
    the busy times kept in memory are forgotten too, as a sync that changes them does."""
    window = Interval(now, now + timedelta(days=days))
    times: list[list[float]] = [[] for _ in apps]
    found = [0 for _ in apps]
    warm_ups = 1 if rounds < 3 else 3  # rounds that warm the caches up and are not kept
    for round_ in range(warm_ups + rounds):
        for i, app in enumerate(apps):
            with app.app_context():
                people = active_practitioners()[:count]
                wanted = people[0].id if count == 1 else None
                slot_cache().clear()  # the work behind a miss is what must not grow
                if reread_busy:
                    busy_cache().clear()
                started = time.perf_counter()
                free = open_times(people, wanted, window, now)
                elapsed = time.perf_counter() - started
                assert free, "the benchmark clinic should have free times"
                db.session.remove()
            found[i] = len(free)
            if round_ >= warm_ups:
                times[i].append(elapsed)
    return [(statistics.median(t), n) for t, n in zip(times, found, strict=True)]
