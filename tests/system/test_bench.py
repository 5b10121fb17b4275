"""``make bench`` keeps working: a quick run of its in-process parts prints their rows.

Timings are not asserted (benchmarks measure; this only checks the benchmark runs). The
statement counts are exact, so their "constant" verdicts are.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.servers import PROJECT

pytestmark = pytest.mark.slow


def test_a_quick_run_of_the_in_process_parts_prints_every_row(postgres):
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "slots", "queries", "feed"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")][1:]
    parts = [row.split("|")[1].strip() for row in rows]
    assert parts.count("Slot computation") == 8, done.stdout
    assert parts.count("Queries") == 8, done.stdout
    assert parts.count("Calendar feed") >= 2, done.stdout
    for row in rows:  # the exact verdicts: statement counts, and 304s counted without a build
        if row.split("|")[1].strip() == "Queries" or "304 without rebuilding" in row:
            assert row.rstrip(" |").endswith("met"), row
    assert "cores" in done.stdout.splitlines()[1]
