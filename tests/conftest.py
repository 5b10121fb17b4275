"""Fixtures: an app on SQLite and on PostgreSQL, each test with a freshly migrated database.

PostgreSQL is expected on 127.0.0.1:5432 (user postgres, trust), or at ``TEST_POSTGRES_URL``.
Where none answers the PostgreSQL half skips with the reason, except under CI (``CI=true``),
where it fails instead: CI must never silently test SQLite alone.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2.bccache import Bucket, BytecodeCache

from clinic import create_app
from clinic.core.extensions import db
from config import TestingConfig
from tests.smtp import SmtpSink

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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


def unavailable(reason: str):
    """Skip outside CI; fail under CI, where every part of the suite must run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)", pytrace=False)
    pytest.skip(reason)


class FreshContextClient(FlaskClient):
    """Runs each request in its own app context, as a server would.

    Without this every request would share the test's app context, and with it ``g`` (where
    Flask-WTF caches the CSRF token) and the database session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class CompiledTemplates(BytecodeCache):
    """Templates compiled once for the whole run rather than once per test's app: every app
    here is built alike, and an edited template (another checksum) is compiled afresh."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def make_app(database_url: str, **extra):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    for key, value in extra.items():
        setattr(Config, key, value)
    app = create_app(Config)
    app.test_client_class = FreshContextClient
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


def migrate(database_url: str) -> None:
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "clinic.db"
    migrate(f"sqlite:///{path}")
    return path


class PostgresDatabases:
    """Creates and drops throwaway databases on the local PostgreSQL server."""

    def __init__(self, admin_url: str):
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, prefix: str = "clinic_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres():
    """A handle for making PostgreSQL databases, or a skip (outside CI) with the reason."""
    try:
        databases = PostgresDatabases(ADMIN_URL)
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


def _truncate_all() -> None:
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path):
    if backend == "sqlite":
        path = tmp_path / "clinic.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_template")


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


@contextmanager
def running_app(database_url: str, backend: str, **extra):
    """An app on the test's database with its context pushed; cleaned up afterwards."""
    app = make_app(database_url, **extra)
    with app.app_context():
        yield app
        db.session.remove()
        if backend == "postgresql":
            _truncate_all()
        db.engine.dispose()


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
    """A real SMTP server on a free loopback port (tests/smtp.py), stopped at teardown."""
    server = SmtpSink().start()
    yield server
    server.stop()


def csrf_token(html: str) -> str:
    """The CSRF token from a rendered form (CSRF stays on in tests)."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (each test gets its own context)."""
    from tests.browser_support import (
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
