"""A SQLite writer waiting for the write lock gets it as soon as the other writer lets go.

SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms), which left
the lock idle between bookings while the next writer slept (bench/booking.py showed it).
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time

from clinic.core.database import begin_write
from clinic.core.extensions import db
from tests.support.apps import running_app

HELD = 0.25  # seconds the other writer keeps the lock: SQLite would be sleeping 100 ms by then


def test_a_waiting_writer_gets_the_lock_within_milliseconds_of_its_release(tmp_path, request):
    path = tmp_path / "clinic.db"
    path.write_bytes(request.getfixturevalue("sqlite_template").read_bytes())
    delays = []
    with running_app(f"sqlite:///{path}", "sqlite"):
        for _ in range(3):
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            released: list[float] = []

            def let_go(other=other, released=released) -> None:
                time.sleep(HELD)
                other.execute("ROLLBACK")
                released.append(time.monotonic())

            thread = threading.Thread(target=let_go)
            thread.start()
            begin_write()  # waits for the lock
            got = time.monotonic()
            thread.join()
            other.close()
            db.session.rollback()
            delays.append(got - released[0])
    assert statistics.mean(delays) < 0.02, f"seconds from release to lock: {delays}"
