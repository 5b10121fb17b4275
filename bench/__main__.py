"""``python -m bench [--quick] [--only PART ...]``: runs the parts and prints the table."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.context import Context
from bench.report import table

# In the order of the table; each is a module of this package with ``run(context)``.
PARTS = ("slots", "http", "queries", "booking", "outbox", "feed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short runs (a smoke check)"
    )
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), metavar="PART")
    args = parser.parse_args(argv)
    started = time.monotonic()
    print(f"python -m bench {' '.join(sys.argv[1:])}".rstrip())
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · {platform.machine()}",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as scratch:
        context = Context(Path(scratch), quick=args.quick)
        try:
            for part in (p for p in PARTS if p in args.only):
                print(f"… {part}", file=sys.stderr, flush=True)
                rows += importlib.import_module(f"bench.{part}").run(context)
        finally:
            context.close()
    print()
    print(table(rows))
    print(f"\n({time.monotonic() - started:,.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
