"""Free times cost what lies inside the window, not the clinic's whole history.

The consults behind a slots request are read by an indexed range that past consults never
enter. Measured as work done by the database, not time: on SQLite the virtual machine's steps
(counted by its progress handler), on PostgreSQL the most rows any step of the plan reads
(EXPLAIN ANALYZE). Both must stay flat when the history grows twenty-fold.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from bench import data
from clinic.availability.loading import availabilities
from clinic.availability.open_times import active_practitioners
from clinic.core.extensions import db
from clinic.scheduling import Interval
from tests.support import factories

SMALL, LARGE = 1_000, 20_000
STEP = 100  # SQLite VM instructions between progress-handler calls


@contextmanager
def consult_queries():
    """The statements (with parameters) that read consults, as they were sent."""
    found: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM appointment" in statement:
            found.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def work(backend: str, now: datetime) -> int:
    """How much the database did to read the consults for 60 days of free times."""
    window = Interval(now, now + timedelta(days=60))
    people = active_practitioners()
    if backend == "sqlite":
        raw = db.session.connection().connection.driver_connection
        steps = [0]

        def count() -> int:
            steps[0] += STEP
            return 0  # go on

        raw.set_progress_handler(count, STEP)
        try:
            availabilities(people, window, now)
        finally:
            raw.set_progress_handler(None, STEP)
        db.session.remove()
        return steps[0]
    with consult_queries() as found:
        availabilities(people, window, now)
    ((statement, parameters),) = found
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("ANALYZE appointment")  # the statistics autovacuum keeps in production
    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    db.session.remove()
    return rows_read(plan[0]["Plan"])


def rows_read(node: dict) -> int:
    """The most rows any one step of the plan read: found, or read and thrown away."""
    own = node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
    own += node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return max([own, *(rows_read(child) for child in node.get("Plans", ()))])


def test_reading_consults_for_free_times_does_not_grow_with_history(app, database_url, backend):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    factories.clinic(horizon_days=90)
    ids = [factories.practitioner(timezone=zone).id for zone in data.ZONES[:3]]
    db.session.remove()
    data.add_booked_consults(database_url, ids, days=60, per_day=2, now=now)
    data.add_past_consults(database_url, ids, SMALL, now)
    before = work(backend, now)
    data.add_past_consults(database_url, ids, LARGE - SMALL, now)
    after = work(backend, now)
    # A read of the history would grow twenty-fold; one more level in an index may add a little.
    assert after <= before * 1.1, (before, after)
    if backend == "postgresql":
        booked = 60 * 2 * len(ids)
        assert after <= booked * 1.1, f"read {after} rows for {booked} consults in the window"
