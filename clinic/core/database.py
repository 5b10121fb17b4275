"""Engine set-up and the write lock that makes "check, then insert" one atomic step.

SQLite: every connection runs in WAL mode with a busy timeout, and SQLAlchemy (not the
``sqlite3`` module) issues ``BEGIN``, so a writer can ask for ``BEGIN IMMEDIATE`` and hold the
database's single write lock from its first read; a writer that finds the lock taken asks
again every millisecond until the busy timeout. PostgreSQL: the writer locks the
practitioner's row with ``SELECT ... FOR UPDATE``; an exclusion constraint backs it up, and a
pooled connection the server ended (a restart) is replaced before a request uses it.
"""

import select
import sqlite3
import time
import weakref
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from clinic.core.extensions import db

WRITE_LOCK_RETRY = 0.001  # seconds between a SQLite writer's tries for the write lock


_CONFIGURED: weakref.WeakSet[Engine] = weakref.WeakSet()


def configure_engine(engine: Engine, busy_timeout_ms: int = 15_000) -> None:
    """``busy_timeout_ms``: how long a SQLite writer waits for the write lock before giving up
    (the request then gets a "busy, try again" page)."""
    if engine in _CONFIGURED:
        return  # (an engine shared by several apps, as the tests share them, is set up once)
    _CONFIGURED.add(engine)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _replace_if_ended)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            wait_ms = connection.get_execution_options().get("write_lock_wait_ms")
            _begin_immediate(connection, busy_timeout_ms if wait_ms is None else wait_ms)
        else:
            connection.exec_driver_sql(f"BEGIN {mode}")


def _replace_if_ended(dbapi_connection, _record, _proxy) -> None:
    """A pooled PostgreSQL connection that the server ended while it sat idle (a restart, or
    ``pg_terminate_backend``) has the server's last message, or the end of the stream, waiting
    on its socket; a healthy idle one has nothing to read. So it is seen without a round trip
    (``pool_pre_ping`` sent a ``SELECT 1`` before every request's first statement, a fifth of a
    page of free times) and the pool replaces it before the request uses it."""
    try:
        ended = dbapi_connection.closed
        if not ended:  # poll, not select: select refuses file numbers past 1023
            waiting = select.poll()
            waiting.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
            ended = bool(waiting.poll(0))
    except (OSError, ValueError):  # no socket left to ask
        ended = True
    if ended:
        raise sa.exc.DisconnectionError("PostgreSQL ended this connection while it was idle")


def _begin_immediate(connection, busy_timeout_ms: int) -> None:
    """``BEGIN IMMEDIATE``, trying again every millisecond while another writer has the lock.

    SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms at a time),
    so with several workers booking, the lock often sat free while the next writer slept.
    Past ``busy_timeout_ms`` the last try raises SQLAlchemy's "database is locked", as before.
    """
    raw = connection.connection.dbapi_connection
    deadline = time.monotonic() + busy_timeout_ms / 1000
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # any BUSY_* variant
                    break  # not the lock: the try below raises it the usual way
            time.sleep(WRITE_LOCK_RETRY)
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def begin_write(wait_ms: int | None = None) -> None:
    """Start the request's transaction as a writer.

    Ends a read-only transaction the request may have opened, then begins one that holds
    SQLite's write lock from the start. Refuses if unsaved changes would be lost.
    ``wait_ms``: wait at most this long for a lock (SQLite's write lock; on PostgreSQL any row
    lock in this transaction) instead of ``SQLITE_BUSY_TIMEOUT_MS``, for a write that had
    better be skipped than keep a request waiting; it then fails with OperationalError.
    """
    session = db.session()  # the request's Session behind the scoped proxy
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() called with unsaved changes in the session")
        session.rollback()
    options: dict[str, str | int] = {"sqlite_begin": "IMMEDIATE"}
    if wait_ms is not None:
        options["write_lock_wait_ms"] = wait_ms
    connection = session.connection(execution_options=options)
    if wait_ms is not None and connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait_ms)}")


def reads_only() -> None:
    """Mark the request as one that only reads (the pages of free times), before its first
    statement. On PostgreSQL its statements then run each on its own (autocommit), without the
    BEGIN and ROLLBACK round trips around them: two of such a page's three. It sees no single
    snapshot across statements, which those pages don't need: free times are kept under the
    schedule versions read first, and taking a time checks again under the lock. A request
    already in a transaction keeps it; SQLite's BEGIN costs no round trip and stays."""
    session = db.session()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def lock_rows(model, ids) -> None:
    """Lock the given rows until commit (PostgreSQL); SQLite is already locked whole."""
    if db.session.get_bind().dialect.name == "sqlite":
        return
    stmt = sa.select(model.id).where(model.id.in_(sorted(ids))).order_by(model.id)
    db.session.execute(stmt.with_for_update()).all()


MAX_ROW_ID = 2**63 - 1  # the largest id a database row can have


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched. ``Session.execute`` is typed to return a
    ``Result``; for those statements it is a ``CursorResult``, which has the count."""
    return cast(sa.CursorResult[Any], result).rowcount
