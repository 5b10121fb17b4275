"""The load run (tests/system/load.py) in a short form: 24 patients for 8 seconds on each database,
under gunicorn with 4 workers. The full run is ``python -m tests.system.load --clients 200``."""

from __future__ import annotations

import pytest

from tests.system.load import run

pytestmark = pytest.mark.slow


def test_a_short_load_run_keeps_every_promise(database, tmp_path):
    tally = run(database, clients=24, seconds=8, log_dir=tmp_path)
    booked = tally.statuses[("book", 201)]
    assert booked >= 3, f"too little happened to prove anything: {dict(tally.statuses)}"
    assert tally.statuses[("book", 409)] > 0, "the popular times were never contested"
    assert tally.statuses[("cancel", 303)] > 0 and tally.statuses[("reschedule", 303)] > 0
