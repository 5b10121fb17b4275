"""Apps on a fresh database (SQLite or PostgreSQL), a request's CSRF token, and the skip
that fails under CI."""

from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from typing import ClassVar

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy import SQLAlchemy
from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.routing import Rule

from clinic import create_app
from clinic.core.extensions import db
from config import TestingConfig

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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


class BuiltOnceRule(Rule):
    """A URL rule whose URL builders are compiled once per distinct rule for the whole run.

    Werkzeug compiles two small Python functions for every rule of every app (to build its
    URLs); with an app per test that was over half the cost of making one, and some tenth of
    the suite's time. A builder depends only on the rule's parsed parts (``_trace``) and its
    defaults, which make the key; a rule with a default for one of its own variables (whose
    builder also depends on a converter) is compiled afresh, as is everything should
    Werkzeug's internals change shape.
    """

    _builders: dict[tuple, object] = {}

    def _compile_builder(self, append_unknown: bool = True):  # type: ignore[no-untyped-def]
        trace = getattr(self, "_trace", None)
        defaults = self.defaults or {}
        if trace is None or any(dynamic and part in defaults for dynamic, part in trace):
            return super()._compile_builder(append_unknown)
        key = (tuple(trace), tuple(sorted(defaults.items(), key=repr)), append_unknown)
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder


# Flask makes every app's rules of its ``url_rule_class`` (a public hook for this): the apps
# the tests build, their rules built once.
Flask.url_rule_class = BuiltOnceRule


class SharedEngines:
    """One engine per database address (and engine settings) for the whole run, shared by
    the apps the tests build on it, instead of one per app: an engine compiles each SQL
    statement once and keeps it, and with an app per test, compiling every statement afresh
    was some sixth of the suite's time. Each test's app still disposes of its connections at
    the end (``running_app``), so a test starts with none."""

    engines: ClassVar[dict[tuple, sa.engine.Engine]] = {}
    addresses: ClassVar[set[str]] = set()  # the databases tests take turns on (conftest.py)

    @classmethod
    def make_engine(cls, bind_key, options: dict, app: Flask) -> sa.engine.Engine:
        address = sa.engine.make_url(options["url"]).render_as_string(hide_password=False)
        if address not in cls.addresses:  # a test's own copy of a database: its own engine
            return sa.engine_from_config(options, prefix="")
        key = (
            bind_key,
            repr(sorted((name, repr(value)) for name, value in options.items())),
            app.config.get("SQLITE_BUSY_TIMEOUT_MS"),  # configure_engine's listeners use it
        )
        engine = cls.engines.get(key)
        if engine is None:
            engine = cls.engines[key] = sa.engine_from_config(options, prefix="")
        return engine


def _make_engine(extension: SQLAlchemy, bind_key, options: dict, app: Flask) -> sa.engine.Engine:
    return SharedEngines.make_engine(bind_key, options, app)


# Flask-SQLAlchemy makes every app's engine here (documented as the place to customise it).
SQLAlchemy._make_engine = _make_engine  # type: ignore[method-assign]


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


class PostgresDatabases:
    """Creates and drops throwaway databases on the local PostgreSQL server."""

    def __init__(self, admin_url: str, **settings: str):
        """``settings``: parameters every database made here runs with (ALTER DATABASE SET)."""
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []
        self.settings = settings

    def create(self, prefix: str = "clinic_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            for setting, value in self.settings.items():
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET {setting} = {value}')
        self.created.append(name)
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def _truncate_all() -> None:
    """Empty every table and restart every id, as ``TRUNCATE ... RESTART IDENTITY`` would, but
    by DELETE: for the few rows a test leaves that takes milliseconds, where TRUNCATE (new
    files for all the tables) takes a tenth of a second or more, after every PostgreSQL test."""
    statements = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]
    statements.append(
        "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), "
        "start_value, false) FROM pg_sequences WHERE schemaname = current_schema()"
    )
    db.session.connection().exec_driver_sql("; ".join(statements))
    db.session.commit()


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


def csrf_token(html: str) -> str:
    """The CSRF token from a rendered form (CSRF stays on in tests)."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
