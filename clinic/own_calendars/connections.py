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
from clinic.core.models import (
    CalendarConnection,
    CalendarCopy,
    ConnectionKind,
    Practitioner,
    StaffUser,
)
from clinic.outbound.urls import BadAddress, OutboundError, checked_url
from clinic.own_calendars.caldav_account import SignInRefused, account
from clinic.own_calendars.push import calendar_chosen
from clinic.own_calendars.secrets import seal


class ConnectionRefused(ClinicError):
    status = 422


@dataclass(frozen=True)
class Status:
    """How one connection is doing, in the words the staff page shows."""

    connection: CalendarConnection
    state: str  # "waiting" (never read yet), "ok", "stale" (old busy times), "failing"
    copies_waiting: int = 0  # consults not yet copied (or removed) as they should be
    copy_error: str = ""  # why the latest of them failed, if it did


def add_feed(
    practitioner_id: int, label: str, url: str, user: StaffUser, now: datetime, *, address: str
) -> CalendarConnection:
    """Connect an ICS feed, to be read by the next round of ``flask worker``."""
    try:
        url = checked_url(url)
    except BadAddress as problem:
        raise ConnectionRefused(str(problem), field="url") from None
    connection = CalendarConnection(
        practitioner_id=practitioner_id, kind=ConnectionKind.ICS.value, secret=seal(url)
    )
    return _connect(connection, label, user, now, address, "ICS feed")


def add_account(
    practitioner_id: int,
    label: str,
    server_url: str,
    username: str,
    password: str,
    user: StaffUser,
    now: datetime,
    *,
    address: str,
    allow_private: bool,
) -> CalendarConnection:
    """Connect a CalDAV account, once the server has let it sign in and listed its calendars
    (all of them count as busy until some are chosen). Call with no transaction open."""
    try:
        server_url = checked_url(server_url)
    except BadAddress as problem:
        raise ConnectionRefused(str(problem), field="server_url") from None
    try:
        with account(server_url, username, password, allow_private=allow_private) as dav:
            calendars = dav.calendars()
    except SignInRefused as problem:
        raise ConnectionRefused(str(problem), field="password") from None
    except OutboundError as problem:
        raise ConnectionRefused(str(problem), field="server_url") from None
    if not calendars:
        raise ConnectionRefused(
            "The account has no calendars: make one on the server, then connect again.",
            field="server_url",
        )
    connection = CalendarConnection(
        practitioner_id=practitioner_id,
        kind=ConnectionKind.CALDAV.value,
        secret=seal(password),
        server_url=server_url,
        username=username,
        calendars=[[c.url, c.name] for c in calendars],
        busy_calendars=[c.url for c in calendars],
        push_calendar="",
    )
    return _connect(connection, label, user, now, address, "CalDAV account")


def _connect(
    connection: CalendarConnection,
    label: str,
    user: StaffUser,
    now: datetime,
    address: str,
    kind: str,
) -> CalendarConnection:
    """Save ``connection``, to be read by the next round of ``flask worker``; audited by its
    kind, never its address or password."""
    connection.label, connection.created_at, connection.sync_due_at = label, now, now
    begin_write()
    db.session.add(connection)
    db.session.flush()
    audit(
        "calendar_connected",
        user,
        subject=f"practitioner {connection.practitioner_id}",
        detail=f"calendar {connection.id}, {kind}",
        now=now,
        address=address,
        commit=False,
    )
    db.session.commit()
    return connection


def choose_calendars(
    connection: CalendarConnection,
    busy: list[str],
    push: str,
    user: StaffUser,
    now: datetime,
    *,
    address: str,
) -> None:
    """Which of the account's calendars count as busy, and which one receives consults ("":
    none). Consults already copied move to the new choice, or leave the old one."""
    known = {url for url, _ in connection.calendars}
    if not set(busy) <= known or (push and push not in known):
        raise ConnectionRefused("Please choose among the account's calendars.", field="busy")
    connection_id, practitioner_id = connection.id, connection.practitioner_id
    begin_write()
    lock_rows(Practitioner, [practitioner_id])
    fresh = db.session.get(CalendarConnection, connection_id, populate_existing=True)
    if fresh is None:
        db.session.rollback()
        raise ConnectionRefused("That calendar was removed meanwhile.", field="busy")
    connection = fresh
    busy = [url for url, _ in connection.calendars if url in busy]  # in the account's order
    if busy != connection.busy_calendars:
        connection.busy_calendars = busy
        connection.sync_due_at = now  # read again, with the new choice
    if push != connection.push_calendar:
        connection.push_calendar = push
        db.session.flush()
        calendar_chosen(connection, now)
    audit(
        "calendar_changed",
        user,
        subject=f"practitioner {practitioner_id}",
        detail=f"calendar {connection_id}: {len(busy)} busy, consults {'in' if push else 'out'}",
        now=now,
        address=address,
        commit=False,
    )
    db.session.commit()


def remove(connection: CalendarConnection, user: StaffUser, now: datetime, *, address: str):
    """Disconnect it: its busy times go with it, and its secret."""
    practitioner_id, connection_id = connection.practitioner_id, connection.id
    begin_write()
    lock_rows(Practitioner, [practitioner_id])
    db.session.execute(
        sa.delete(CalendarConnection).where(CalendarConnection.id == connection_id),
        execution_options={"schedule_unchanged": True},  # raised just below, for one person
    )
    raise_versions(db.session(), {practitioner_id}, busy=True)
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
    waiting = {
        connection_id: (count, error or "")
        for connection_id, count, error in db.session.execute(
            sa.select(
                CalendarCopy.connection_id,
                sa.func.count(),
                sa.func.max(CalendarCopy.last_error),
            )
            .join(CalendarConnection, CalendarConnection.id == CalendarCopy.connection_id)
            .where(
                CalendarConnection.practitioner_id.in_(practitioner_ids),
                CalendarCopy.due_at.is_not(None),
            )
            .group_by(CalendarCopy.connection_id)
        )
    }
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
        copies, error = waiting.get(connection.id, (0, ""))
        found[connection.practitioner_id].append(Status(connection, state, copies, error))
    return found
