"""Shared by the hostile-input tests: an app on its own SQLite file, a seeded clinic with
something behind every form, and a digest of the tables a refused request must not touch."""

from __future__ import annotations

import hashlib
import shutil
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.booking import services
from clinic.extensions import db
from clinic.models import ConsultType, OutboxMessage, Practitioner
from tests import factories
from tests.availability_support import availability_places
from tests.conftest import make_app
from tests.staff_support import seed_staff_clinic


@contextmanager
def sqlite_app(template, tmp_path, **extra):
    """An app on a fresh copy of the migrated SQLite template, no app context pushed (each
    request gets its own, as under a server)."""
    path = tmp_path / "hostile.db"
    shutil.copy(template, path)
    app = make_app(f"sqlite:///{path}", **extra)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def seed_world() -> dict:
    """The staff clinic plus a second booked consult whose link token is known, and the ids
    every route's URL needs. Call inside an app context."""
    reference = seed_staff_clinic()
    ids = dict(db.session.execute(sa.select(Practitioner.email, Practitioner.id)).all())
    appointment, token = services.book(
        ids["ben@clinic.test"],
        factories.next_grid_time(days_ahead=5, hour=14),
        ZoneInfo("America/Chicago"),
        services.PatientDetails("Sam Caller", "sam@example.com", "+1 555 0100"),
        datetime.now(UTC),
        "clinic.test",
    )
    return {
        "ref": reference,
        "ref2": appointment.reference,
        "token": token,
        "ada": ids["ada@clinic.test"],
        "ben": ids["ben@clinic.test"],
        "message": db.session.scalar(sa.select(OutboxMessage.id).limit(1)),
        "kind": db.session.scalar(sa.select(ConsultType.id).limit(1)),
        **availability_places(ids["ada@clinic.test"]),
    }


def digest() -> str:
    """A hash of every row of every table: equal before and after means nothing changed."""
    db.session.rollback()
    h = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
        h.update(f"{table.name}:{len(rows)}:{rows!r}".encode())
    db.session.rollback()
    return h.hexdigest()
