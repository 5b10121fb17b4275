"""Outbox delivery: messages per second from real ``flask worker`` processes to a real SMTP server.

Each run gets a new database, a new SMTP server on loopback (``tests.support.smtp.SmtpSink``, which
notes when each message arrives) and its workers, started as production runs them and given
time to start up with an empty outbox. Then the benchmark books the consults, writing their
emails as a booking does (``notify_booked``: the patient's and the practitioner's invite, due
now, and reminders due days later) in one transaction, and waits until every invite has
arrived. The rate counts from the first arrival to the last, so neither the processes'
start-up nor their wait between rounds is in it: (messages − 1) / (last − first arrival).
Beside it, the CPU time the workers used from the booking to the last arrival, per message (from
/proc): on a shared machine the rate follows the load of the other processes, that figure much
less so.

Every run then checks that each invite arrived exactly once (by Message-ID) and that every row
is marked sent; the last row of the table says whether all did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from bench import data
from bench.report import Row, per_second
from tests.support.mail import FLASK, worker_env
from tests.support.servers import PROJECT
from tests.support.smtp import SmtpSink

TARGET = 50  # messages per second from one worker, at least
INTERVAL = "0.5"  # seconds between a worker's rounds when the outbox is empty
PRACTITIONERS = 5
DEADLINE = 120  # seconds for every message to arrive: far above what it takes
# (label, database, workers)
RUNS = (
    ("1 worker, SQLite", "sqlite", 1),
    ("1 worker, PostgreSQL", "postgresql", 1),
    ("2 workers, PostgreSQL", "postgresql", 2),
)


@dataclass
class Drained:
    messages: int
    seconds: float  # first arrival to last
    cpu: float | None  # seconds of the workers' CPU time, booking to last arrival
    missing: int  # invites that never arrived
    repeats: int  # arrivals beyond the first of the same Message-ID
    unexpected: int  # arrivals that are none of the invites (nothing else was due)
    unsent: int  # invite rows not marked sent
    crashed: bool  # a worker printed a traceback or exited badly


def run(context) -> list[Row]:
    consults = 50 if context.quick else 250  # two invites each: 100 or 500 messages
    rows, results = [], []
    for label, kind, workers in RUNS:
        result = _drain(context, kind, workers, consults)
        results.append(result)
        delivered = result.messages - result.missing  # distinct messages that arrived
        rate = (delivered - 1) / result.seconds if result.seconds > 0 else 0.0
        single = workers == 1
        rows.append(
            Row(
                "Outbox",
                f"{label}: {result.messages:,} messages to SMTP on loopback",
                f"{per_second(delivered - 1, result.seconds)} "
                f"({result.seconds:.1f} s{_cpu(result)})",
                f"≥ {TARGET}/s" if single else "",
                rate >= TARGET if single else None,
            )
        )
    sent = sum(r.messages for r in results)
    arrived = sum(r.messages - r.missing for r in results)
    faults = {
        "missing": sum(r.missing for r in results),
        "repeated": sum(r.repeats for r in results),
        "unexpected": sum(r.unexpected for r in results),
        "not marked sent": sum(r.unsent for r in results),
        "worker crashes": sum(r.crashed for r in results),
    }
    rows.append(
        Row(
            "Outbox",
            "Each message delivered exactly once (by Message-ID), every row marked sent",
            f"{arrived:,} of {sent:,} arrived; "
            + ", ".join(f"{n} {what}" for what, n in faults.items()),
            "none missing or repeated",
            not any(faults.values()),
        )
    )
    return rows


def _drain(context, kind: str, workers: int, consults: int) -> Drained:
    url = context.database(kind, f"outbox_{kind}_{workers}")
    practitioners = data.seed_clinic(url, PRACTITIONERS)
    sink = SmtpSink().start()
    processes = [_Worker(url, sink) for _ in range(workers)]
    try:
        for process in processes:
            process.wait_started()
        cpu_before = [process.cpu() for process in processes]
        expected = data.add_consults_with_emails(url, practitioners, consults, datetime.now(UTC))
        deadline = time.monotonic() + DEADLINE
        while len(sink.received) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
        cpu_after = [process.cpu() for process in processes]
        time.sleep(1)  # long enough for a repeat, were there one, to arrive too
    finally:
        crashed = any(not process.stop() for process in processes)
        sink.stop()
    arrived = [r for r in sink.received if str(r.message["Message-ID"]) in expected]
    times = sorted(r.at for r in arrived)
    counts = Counter(str(r.message["Message-ID"]) for r in arrived)
    return Drained(
        messages=len(expected),
        seconds=times[-1] - times[0] if len(times) > 1 else 0.0,
        cpu=None if None in cpu_before + cpu_after else sum(cpu_after) - sum(cpu_before),
        missing=len(expected - set(counts)),
        repeats=sum(n - 1 for n in counts.values()),
        unexpected=len(sink.received) - len(arrived),
        unsent=_unsent(url),
        crashed=crashed,
    )


def _cpu(result: Drained) -> str:
    if result.cpu is None:
        return ""
    return f"; worker CPU {result.cpu / result.messages * 1000:.1f} ms/message"


def _unsent(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(
                sa.text(
                    "SELECT count(*) FROM outbox_message WHERE kind = 'booked' AND status != 'sent'"
                )
            )
    finally:
        engine.dispose()


class _Worker:
    """``flask worker`` as production runs it, sending through ``sink``; its output is kept."""

    def __init__(self, url: str, sink: SmtpSink):
        self.process = subprocess.Popen(
            [*FLASK, "worker", "--interval", INTERVAL],
            cwd=PROJECT,
            env=worker_env(url, sink),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.started = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if " started; " in line:
                self.started.set()

    def wait_started(self) -> None:
        if not self.started.wait(60):
            self.stop()
            raise RuntimeError("the worker did not start:\n" + "".join(self.lines))
        time.sleep(float(INTERVAL))  # past its first round, on an empty outbox

    def cpu(self) -> float | None:
        """Seconds of CPU time the process has used (Linux; None elsewhere)."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> bool:
        """Stops the worker; whether it ran and ended cleanly."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=5)
        output = "".join(self.lines)
        return self.process.returncode == 0 and "Traceback" not in output
