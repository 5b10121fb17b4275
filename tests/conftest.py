"""Fixtures: an app on SQLite and on PostgreSQL, each test with a freshly migrated database.

PostgreSQL is expected on 127.0.0.1:5432 (user postgres, trust), or at ``TEST_POSTGRES_URL``.
Where none answers the PostgreSQL half skips with the reason, except under CI (``CI=true``),
where it fails instead: CI must never silently test SQLite alone.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from hypothesis import HealthCheck, settings

from tests.support.apps import (
    ADMIN_URL,
    PostgresDatabases,
    SharedEngines,
    migrate,
    running_app,
    unavailable,
)
from tests.support.smtp import SmtpSink

# Hypothesis times each example (a deadline of 200 ms) and how long making up its data takes
# (the too_slow health check). Both time the machine as much as the code: with the suite on
# every core, or another run beside it, the same example takes several times as long. Every
# property keeps its examples; only those two clocks are off.
settings.register_profile("clinic", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("clinic")


def pytest_configure(config):
    """Temporary folders (each test's SQLite copy among them) in memory where the machine has a
    tmpfs at /dev/shm: on disk SQLite waits for a sync at every commit, a few milliseconds each
    and some twenty times a test. A PYTEST_DEBUG_TEMPROOT or --basetemp given by hand wins."""
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.access("/dev/shm", os.W_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = "/dev/shm"


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test`` runs the suite on every core), the slow tests that start
    processes of their own (gunicorn, ``flask worker``, the bench) go to one worker, one after
    another, so no two of them compete for the cores; the other workers take the rest. The
    slow hostile-input fuzzing runs in-process and is spread like any other test."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.get_closest_marker("slow") and not item.path.name.startswith("test_hostile"):
            item.add_marker(pytest.mark.xdist_group("processes"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "clinic.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres():
    """A handle for making PostgreSQL databases, or a skip (outside CI) with the reason."""
    try:
        # A test's database need not survive a server crash: a commit returns without waiting
        # for its WAL to reach the disk (a few ms each; locking and visibility are unchanged).
        databases = PostgresDatabases(ADMIN_URL, synchronous_commit="off")
        with databases.admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure to connect means "not here"
        unavailable(
            f"PostgreSQL not reachable at {re.sub(r':[^:@/]*@', ':***@', ADMIN_URL)}: "
            f"{type(error).__name__}"
        )
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def postgres_template(postgres):
    url = postgres.create()
    migrate(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def sqlite_home(tmp_path_factory):
    """Where each test's SQLite database lives, one at a time in each worker: always the same
    address, so every test's app reuses the engine (and its compiled statements)."""
    return tmp_path_factory.mktemp("sqlite-home") / "clinic.db"


@pytest.fixture
def database_url(backend, request):
    if backend == "sqlite":
        path = request.getfixturevalue("sqlite_home")
        for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)  # the last test's, which its engine has let go of
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_template")
    SharedEngines.addresses.add(url)
    return url


@pytest.fixture
def database(backend, request, tmp_path) -> str:
    """This test's own freshly migrated, empty database, for tests that start other processes
    (gunicorn, workers): on PostgreSQL a new database rather than the shared template."""
    if backend == "sqlite":
        path = tmp_path / "clinic.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres").create("clinic_own")
    migrate(url)
    return url


@pytest.fixture
def app(database_url, backend):
    with running_app(database_url, backend) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def sink():
    """A real SMTP server on a free loopback port (tests/support/smtp.py), stopped at teardown."""
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (each test gets its own context)."""
    from tests.support.browser import (
        CHROMIUM,
        CHROMIUM_ARGS,
        PLAYWRIGHT_MISSING,
        sync_playwright,
    )

    if PLAYWRIGHT_MISSING:
        unavailable(PLAYWRIGHT_MISSING)
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
