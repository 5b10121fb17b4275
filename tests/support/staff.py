"""Shared by the staff console's tests: the accounts, a seeded clinic, signing in."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.accounts.services import create_staff
from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.models import AlertKind, Appointment, AuditEvent, IntakeAlert
from clinic.intake.alerts import raise_alert
from clinic.intake.services import save_section
from tests.support import factories
from tests.support.apps import csrf_token

PASSWORD = "correct horse battery"
ACCOUNTS = {
    "admin": ("admin@clinic.test", "admin"),
    "own": ("ada@clinic.test", "practitioner"),
    "other": ("ben@clinic.test", "practitioner"),
    "desk": ("desk@clinic.test", "frontdesk"),
}


@dataclass(frozen=True)
class _Seeded:
    taken: float  # time.monotonic() when seeded
    rows: dict[str, list[dict]]  # every table's rows, by table name
    reference: str


# The seeded rows of each database (and day) this worker has seeded lately.
_SEEDED: dict[tuple[str, datetime], _Seeded] = {}
SEED_KEPT_SECONDS = 60.0


def seed_staff_clinic() -> str:
    """Two practitioners with staff accounts, an admin, a front desk, and one consult with
    Dr Ada whose intake has a red flag. Returns the consult's reference.

    Seeding books and answers through the services, some hundred statements; over 600 tests
    start from this clinic. So an empty database gets the very rows the last seeding on the
    same database wrote, if that was under a minute ago (timestamps at most that old) and on
    the same day (the consult three days ahead at the same hour): a dozen inserts."""
    key = (db.engine.url.render_as_string(hide_password=False), _consult_start())
    seeded = _SEEDED.get(key)
    if seeded and time.monotonic() - seeded.taken < SEED_KEPT_SECONDS and _empty():
        _insert(seeded.rows)
        return seeded.reference
    reference = _seed()
    _SEEDED[key] = _Seeded(time.monotonic(), _rows(), reference)
    return reference


def _consult_start() -> datetime:
    return factories.next_grid_time(days_ahead=3, hour=15)


def _empty() -> bool:
    db.session.rollback()
    anything = sa.or_(*(sa.exists().select_from(t) for t in db.metadata.sorted_tables))
    return not db.session.scalar(sa.select(anything))


def _rows() -> dict[str, list[dict]]:
    db.session.rollback()
    return {
        table.name: [dict(row) for row in db.session.execute(sa.select(table)).mappings()]
        for table in db.metadata.sorted_tables
    }


def _insert(rows: dict[str, list[dict]]) -> None:
    """Writes ``rows`` into the empty database, and moves PostgreSQL's id sequences on past
    them, as the inserts that first wrote them did."""
    for table in db.metadata.sorted_tables:
        if rows[table.name]:
            db.session.execute(table.insert(), rows[table.name])
    if db.engine.dialect.name == "postgresql":
        moves = [
            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
            f"{max(row['id'] for row in rows[table.name])})"
            for table in db.metadata.sorted_tables
            if rows[table.name]
            and "id" in table.c
            and table.c.id.autoincrement in (True, "auto")
            and isinstance(table.c.id.type, sa.Integer)
        ]
        if moves:
            db.session.connection().exec_driver_sql("; ".join(moves))
    db.session.commit()


def _seed() -> str:
    factories.clinic(timezone="America/New_York")
    ada = factories.practitioner(name="Dr Ada Lane", email="ada@clinic.test")
    factories.practitioner(name="Dr Ben Ode", email="ben@clinic.test")
    for email, role in ACCOUNTS.values():
        create_staff(email, role, PASSWORD)
    now = datetime.now(UTC)
    appointment, token = services.book(
        ada.id,
        _consult_start(),
        ZoneInfo("Europe/London"),
        services.PatientDetails("Jo Patient", "jo@example.com"),
        now,
        "clinic.test",
    )
    save_section(token, "about", {"consent_share": ["yes"]}, now)
    save_section(token, "mood", {"phq9_9": ["1"], "phq9_1": ["2"]}, now)
    save_section(token, "goals", {"goals_concerns": ["Sleeping badly since spring"]}, now)
    return appointment.reference


def sign_in(client, who: str, password: str = PASSWORD, next_: str | None = None):
    """Sign in as one of ``ACCOUNTS`` (by key) or any email; returns the POST's response."""
    email = ACCOUNTS[who][0] if who in ACCOUNTS else who
    page = client.get("/staff/sign-in")
    data = {"csrf_token": csrf_token(page.text), "email": email, "password": password}
    if next_ is not None:
        data["next"] = next_
    return client.post("/staff/sign-in", data=data)


def audit_count(action: str) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def clear_alerts() -> None:
    """Delete every intake alert (the seed's item 9 raised one), for tests that raise their own
    at a time they choose."""
    db.session.rollback()
    db.session.execute(sa.delete(IntakeAlert))
    db.session.commit()


def alert_on(reference: str, kind: AlertKind = AlertKind.SELF_HARM, now: datetime | None = None):
    """The consult's alert of ``kind``, raised now (or at ``now``) unless the intake already
    raised it; returns its id."""
    db.session.rollback()  # on SQLite a snapshot older than the last request could not write
    appointment = db.session.scalar(
        sa.select(Appointment).where(Appointment.reference == reference)
    )
    raise_alert(appointment, kind, now or datetime.now(UTC))
    db.session.commit()
    return db.session.scalar(
        sa.select(IntakeAlert.id).where(
            IntakeAlert.appointment_id == appointment.id, IntakeAlert.kind == kind.value
        )
    )
