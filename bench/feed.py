"""A practitioner's calendar feed with 5,000 consults: building it, and a poll answered 304.

Each request goes through the whole app in process, with Flask's test client: routing, rate
limit, the address lookup, the queries, the calendar and its headers; no network or server, so
the figures are the app's own work. A full GET sends no validator; a conditional GET sends
back the ETag the full one got. Requests alternate between the two so that any drift of the
machine hits both alike; each figure is the median. While the conditional GETs run, the
calendar builder is wrapped with a counter: "without rebuilding" is checked, not inferred.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench import data
from bench.report import Row, millis
from clinic.calendar import feed as services
from clinic.core.extensions import db
from clinic.core.models import Practitioner

CONSULTS = 5_000


def run(context) -> list[Row]:
    rows = []
    count = CONSULTS // 10 if context.quick else CONSULTS
    rounds = 3 if context.quick else 7
    for kind in ("sqlite", "postgresql"):
        app, path = _practitioner_feed(context, kind, count)
        full, size, polled, builds = _timed(app, path, count, rounds)
        label = f"{count:,} consults, {kind}"
        rows += [
            Row("Calendar feed", f"{label}: full GET (200)", f"{millis(full)}, {size:,} bytes"),
            Row(
                "Calendar feed",
                f"{label}: conditional GET (304), feed builds counted",
                f"{millis(polled)}, {builds} builds",
                "304 without rebuilding",
                builds == 0,
            ),
            Row("Calendar feed", f"{label}: full GET time / 304 time", f"×{full / polled:,.0f}"),
        ]
        with app.app_context():
            db.engine.dispose()
    return rows


def _practitioner_feed(context, kind: str, count: int):
    url = context.database(kind, "feed")
    [practitioner_id] = data.seed_clinic(url, 1)
    data.add_feed_consults(url, practitioner_id, count, datetime.now(UTC))
    app = data.app_for(url)
    with app.app_context():
        address = services.feed_url(db.session.get(Practitioner, practitioner_id))
        db.session.commit()
    return app, urlsplit(address).path


def _timed(app, path: str, count: int, rounds: int) -> tuple[float, int, float, int]:
    """Median full and conditional GET times, the feed's size, and the builds during 304s."""
    client = app.test_client()
    first = client.get(path)
    assert first.status_code == 200 and first.data.count(b"BEGIN:VEVENT") == count
    etag = first.headers["ETag"]
    real, builds = services.feed_calendar, []

    def counted(events, name):
        builds.append(name)
        return real(events, name)

    full, polled = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        full.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.headers["ETag"] == etag
        services.feed_calendar = counted
        try:
            for _ in range(3):
                started = time.perf_counter()
                response = client.get(path, headers={"If-None-Match": etag})
                polled.append(time.perf_counter() - started)
                assert response.status_code == 304, response.status_code
        finally:
            services.feed_calendar = real
    return statistics.median(full), len(first.data), statistics.median(polled), len(builds)
