"""Two long-running ``flask worker`` processes drain 500 messages from PostgreSQL to a real SMTP
server on loopback: each is delivered exactly once. When one worker is killed mid-run, the
messages it had claimed are sent by the other once their lease runs out: every message arrives,
and the only repeats are messages the dead worker sent but could not record (same Message-ID).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.models import OutboxMessage
from clinic.notify.delivery import BATCH_SIZE
from clinic.notify.outbox import notify_booked
from tests.support import factories
from tests.support.apps import make_app, migrate
from tests.support.mail import FLASK, arrivals, worker_env
from tests.support.servers import PROJECT
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.slow

CONSULTS = 250  # two emails each (patient and practitioner): 500 messages
LEASE_SECONDS = 3  # for the killed worker's claims to come back quickly
# Two live workers: a lease far longer than any batch takes, so a slow machine can't make a
# live worker's claim lapse (the killed-worker test is where leases run out).
LIVE_LEASE_SECONDS = 120
DEADLINE = 180  # seconds for everything to arrive, far above what it takes


@pytest.fixture
def database(postgres) -> str:
    url = postgres.create("clinic_outbox")
    migrate(url)
    return url


def seed(database_url: str) -> set[str]:
    """250 booked consults a week or more ahead; the Message-IDs of their 500 invites."""
    app = make_app(database_url)
    with app.app_context():
        factories.clinic()
        doctor = factories.practitioner()
        now = datetime.now(UTC)
        settings = clinic_settings()
        for index in range(CONSULTS):
            start = factories.next_grid_time(7 + index // 20, hour=0) + timedelta(
                minutes=30 * (index % 20)
            )
            notify_booked(factories.appointment(doctor, start), settings, now)
        db.session.commit()
        ids = set(
            db.session.scalars(
                sa.select(OutboxMessage.message_id).where(OutboxMessage.kind == "booked")
            )
        )
        db.session.remove()
        db.engine.dispose()
    assert len(ids) == 2 * CONSULTS
    return ids


def column(database_url: str, attribute) -> Counter:
    """How often each value of ``attribute`` occurs among the invites."""
    app = make_app(database_url)
    with app.app_context():
        found = Counter(
            db.session.scalars(sa.select(attribute).where(OutboxMessage.kind == "booked"))
        )
        db.session.remove()
        db.engine.dispose()
    return found


def statuses(database_url: str) -> Counter:
    return column(database_url, OutboxMessage.status)


def start_worker(
    database_url: str, sink: SmtpSink, lease_seconds: int = LEASE_SECONDS
) -> subprocess.Popen:
    env = worker_env(database_url, sink) | {"OUTBOX_LEASE_SECONDS": str(lease_seconds)}
    return subprocess.Popen(
        [*FLASK, "worker", "--interval", "0.2"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}", pytrace=False)
        time.sleep(0.1)


def stop(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=30)
    return output.decode(errors="replace")


def test_two_workers_deliver_five_hundred_messages_exactly_once(database, sink):
    expected = seed(database)
    workers = [start_worker(database, sink, LIVE_LEASE_SECONDS) for _ in range(2)]
    try:
        wait_for(lambda: expected <= set(arrivals(sink)), "all 500 messages")
        wait_for(lambda: statuses(database) == Counter({"sent": 500}), "every row marked sent")
    finally:
        outputs = [stop(worker) for worker in workers]
    received = arrivals(sink)
    assert set(received) == expected
    assert set(received.values()) == {1}, [m for m, n in received.items() if n > 1]
    assert all("Traceback" not in output for output in outputs), outputs
    owners = column(database, OutboxMessage.lease_owner)
    assert len(owners) == 2, f"the workers did not share the work: {owners}"


def test_a_worker_killed_mid_run_leaves_nothing_undelivered(database, sink):
    expected = seed(database)
    sink.stall_seconds = 0.01  # a little time per message, so the kill lands mid-batch
    doomed, survivor = start_worker(database, sink), start_worker(database, sink)
    try:
        wait_for(lambda: len(arrivals(sink)) >= 150, "the first 150 messages")
        doomed.send_signal(signal.SIGKILL)  # no chance to record or release what it claimed
        doomed.communicate(timeout=10)  # reaps it and closes its output pipe
        wait_for(lambda: expected <= set(arrivals(sink)), "all 500 messages after the kill")
        wait_for(lambda: statuses(database) == Counter({"sent": 500}), "every row marked sent")
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.communicate(timeout=10)
        output = stop(survivor)
    received = arrivals(sink)
    assert set(received) == expected
    repeats = {message_id: n for message_id, n in received.items() if n > 1}
    # Only what the dead worker had sent but not yet recorded can go twice: within one batch.
    assert len(repeats) <= BATCH_SIZE and set(repeats.values()) <= {2}, repeats
    assert "Traceback" not in output, output
