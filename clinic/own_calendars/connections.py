"""Connecting, removing and re-reading a practitioner's own calendars; and how each is doing,
for the staff page. Each change is one transaction, audited (by label and kind, never the
address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from clinic.availability.schedule_version import raise_versions
from clinic.core.audit import audit
from clinic.core.database import begin_write, lock_rows
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import CalendarConnection, ConnectionKind, Practitioner, StaffUser
from clinic.outbound.urls import BadAddress, checked_url
from clinic.own_calendars.secrets import seal


class ConnectionRefused(ClinicError):
    status = 422


@dataclass(frozen=True)
class Status:
    """How one connection is doing, in the words the staff page shows."""

    connection: CalendarConnection
    state: str  # "waiting" (never read yet), "ok", "stale" (old busy times), "failing"


def add_feed(
    practitioner_id: int, label: str, url: str, user: StaffUser, now: datetime, *, address: str
) -> CalendarConnection:
    """Connect an ICS feed, to be read by the next round of ``flask worker``."""
    try:
        url = checked_url(url)
    except BadAddress as problem:
        raise ConnectionRefused(str(problem), field="url") from None
    secret = seal(url)
    begin_write()
    connection = CalendarConnection(
        practitioner_id=practitioner_id,
        kind=ConnectionKind.ICS.value,
        label=label,
        secret=secret,
        created_at=now,
        sync_due_at=now,
    )
    db.session.add(connection)
    db.session.flush()
    audit(
        "calendar_connected",
        user,
        subject=f"practitioner {practitioner_id}",
        detail=f"calendar {connection.id}, ICS feed",
        now=now,
        address=address,
        commit=False,
    )
    db.session.commit()
    return connection


def remove(connection: CalendarConnection, user: StaffUser, now: datetime, *, address: str):
    """Disconnect it: its busy times go with it, and its secret."""
    practitioner_id, connection_id = connection.practitioner_id, connection.id
    begin_write()
    lock_rows(Practitioner, [practitioner_id])
    db.session.execute(
        sa.delete(CalendarConnection).where(CalendarConnection.id == connection_id),
        execution_options={"schedule_unchanged": True},  # raised just below, for one person
    )
    raise_versions(db.session(), {practitioner_id})
    audit(
        "calendar_removed",
        user,
        subject=f"practitioner {practitioner_id}",
        detail=f"calendar {connection_id}",
        now=now,
        address=address,
        commit=False,
    )
    db.session.commit()


def read_again_soon(connection: CalendarConnection, now: datetime) -> None:
    """ "Sync now": the next round of ``flask worker`` reads it."""
    begin_write()
    db.session.execute(  # a statement: nothing to fail if it was removed a moment ago
        sa.update(CalendarConnection)
        .where(CalendarConnection.id == connection.id)
        .values(sync_due_at=now)
    )
    db.session.commit()


def statuses(
    practitioner_ids: list[int], now: datetime, stale_after: timedelta
) -> dict[int, list[Status]]:
    found: dict[int, list[Status]] = {pid: [] for pid in practitioner_ids}
    for connection in db.session.scalars(
        sa.select(CalendarConnection)
        .where(CalendarConnection.practitioner_id.in_(practitioner_ids))
        .order_by(CalendarConnection.created_at, CalendarConnection.id)
    ):
        if connection.failing_since is not None:
            state = "failing"
        elif connection.last_success_at is None:
            state = "waiting"
        elif now - connection.last_success_at > stale_after:
            state = "stale"
        else:
            state = "ok"
        found[connection.practitioner_id].append(Status(connection, state))
    return found
