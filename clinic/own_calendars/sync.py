"""Syncing a practitioner's own calendar: its busy times replaced by what it says now.

An ICS feed is fetched, a CalDAV account's chosen calendars are asked for the events in the
window (a time-range REPORT), outside any transaction (a slow server holds no lock). A feed
is asked with its last ETag and Last-Modified, so an unchanged feed answers 304 and costs
nothing. The busy times
are then written in one transaction under the practitioner's row lock, the one bookings
take, so a booking sees the old busy times or the new ones, never half of each; and only
when they changed, in which case the practitioner's schedule version moves with them.

A failure (the server, the address, the content) is recorded on the connection with a plain
message and when it began; the busy times of the last good sync stay in force.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from clinic.availability.schedule_version import raise_versions
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, lock_rows, rowcount
from clinic.core.extensions import db
from clinic.core.links import uid_domain
from clinic.core.models import (
    Appointment,
    CalendarConnection,
    ConnectionKind,
    ExternalBusy,
    Practitioner,
)
from clinic.outbound.http import Fetched, OutboundError, fetch
from clinic.own_calendars.busy_times import Busy, FeedError, read_busy, read_busy_in
from clinic.own_calendars.caldav_account import account
from clinic.own_calendars.outages import OUTAGE_GRACE, report_outage
from clinic.own_calendars.secrets import SecretsUnavailable, unseal

log = logging.getLogger("clinic.own_calendars")

LOOK_BACK = timedelta(days=1)  # busy times that began before now may still be running
# Read a week past the booking horizon, so an unchanged feed can answer 304 for a week
# before the window needed outgrows what was read.
READ_AHEAD = timedelta(days=7)

STATUS_MESSAGES = {
    401: "The calendar server asked for a password: the address may have been reset; copy it "
    "again from the calendar's sharing settings.",
    403: "The calendar server refused to share this calendar: check its sharing settings.",
    404: "There is no calendar at that address any more: copy it again from the calendar.",
    410: "There is no calendar at that address any more: copy it again from the calendar.",
}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    changed: bool = False
    error: str = ""


def sync_due(now: datetime) -> int:
    """Sync every feed that is due, each then due again ``CALENDAR_SYNC_MINUTES`` later.
    Several workers may run this at once: each claims a connection before syncing it."""
    interval = timedelta(minutes=current_app.config["CALENDAR_SYNC_MINUTES"])
    due = sa.or_(CalendarConnection.sync_due_at.is_(None), CalendarConnection.sync_due_at <= now)
    ids = db.session.scalars(
        sa.select(CalendarConnection.id)
        .where(due)
        .order_by(CalendarConnection.sync_due_at, CalendarConnection.id)
    ).all()
    db.session.rollback()
    synced = 0
    for connection_id in ids:
        begin_write()
        claim = (
            sa.update(CalendarConnection)
            .where(CalendarConnection.id == connection_id, due)
            .values(sync_due_at=now + interval)
        )
        claimed = rowcount(db.session.execute(claim)) == 1
        db.session.commit()
        if claimed:
            try:
                sync_connection(connection_id, now)
            except Exception:  # noqa: BLE001 - one calendar's surprise must not stop the round
                db.session.rollback()
                log.exception("Reading calendar %s failed unexpectedly.", connection_id)
                _fail(connection_id, now, "The calendar could not be read (an unexpected error).")
            synced += 1
    return synced


def sync_connection(connection_id: int, now: datetime) -> Outcome:
    """Read the busy times of ``connection_id`` afresh; record how it went."""
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None:
        return Outcome(ok=False, error="gone")
    practitioner = db.session.get(Practitioner, connection.practitioner_id)
    assert practitioner is not None  # the connection goes with its practitioner
    zone = ZoneInfo(practitioner.timezone)
    needed = now + timedelta(days=clinic_settings().horizon_days + 1)
    window = (now - LOOK_BACK, needed + READ_AHEAD)
    suffix, uids = f"@{uid_domain()}", _consult_uids(practitioner.id, window)
    try:
        if connection.kind == ConnectionKind.CALDAV.value:
            busy_calendars = list(connection.busy_calendars)
            with signed_in(connection) as calendars:  # no transaction is held meanwhile
                files = [file for url in busy_calendars for file in calendars.events(url, *window)]
            reading = read_busy_in(files, *window, zone, suffix, uids)
            validators = {"etag": "", "last-modified": ""}
        else:
            got = _fetch_feed(connection, needed)
            if got is None:  # unchanged (304)
                return _record(connection_id, now, None, "", "")
            reading = read_busy(got.body, *window, zone, suffix, uids)
            validators = got.headers
    except (OutboundError, FeedError, SecretsUnavailable) as problem:
        db.session.rollback()
        return _fail(connection_id, now, str(problem))
    notes = ""
    if reading.unknown_zones:
        names = ", ".join(sorted(reading.unknown_zones))[:150]
        notes = f"Times in unknown zones ({names}) were read in the practitioner's zone."
    return _record(
        connection_id,
        now,
        reading.busy,
        validators.get("etag", "")[:200],
        validators.get("last-modified", "")[:100],
        notes,
        covered_until=window[1],
    )


def _consult_uids(practitioner_id: int, window: tuple[datetime, datetime]) -> frozenset[str]:
    """The UIDs of the practitioner's consults in the window: their invites, and their copies
    this site wrote, are in the practitioner's calendar and are not busy time of their own
    (whatever the domain in their UIDs, should the site have moved)."""
    return frozenset(
        db.session.scalars(
            sa.select(Appointment.calendar_uid).where(
                Appointment.practitioner_id == practitioner_id,
                Appointment.ends_at > window[0],
                Appointment.starts_at < window[1],
            )
        )
    )


def _fetch_feed(connection: CalendarConnection, needed: datetime) -> Fetched | None:
    """The feed, asked with its validators while what was read still covers the window
    ``needed`` (else in full); None when the server says it is unchanged."""
    validators = {}
    covered = connection.covered_until is not None and connection.covered_until >= needed
    if covered and connection.etag:
        validators["If-None-Match"] = connection.etag
    if covered and connection.last_modified:
        validators["If-Modified-Since"] = connection.last_modified
    config = current_app.config
    url = unseal(connection.secret)
    db.session.rollback()  # no transaction is held while the server is asked
    got = fetch(
        url,
        allow_private=config["CALENDAR_ALLOW_PRIVATE_HOSTS"],
        headers=validators,
        max_bytes=config["CALENDAR_MAX_BYTES"],
    )
    if got.status == 304:
        return None
    if got.status != 200:
        fallback = f"The calendar server answered with an error ({got.status})."
        raise OutboundError(STATUS_MESSAGES.get(got.status, fallback))
    return got


def signed_in(connection: CalendarConnection):
    """The CalDAV account of ``connection``, signed in; the caller's transaction is ended
    first, so that no lock is held while the server is asked."""
    config = current_app.config
    server_url, username = connection.server_url, connection.username
    password = unseal(connection.secret)
    db.session.rollback()
    return account(
        server_url,
        username,
        password,
        allow_private=config["CALENDAR_ALLOW_PRIVATE_HOSTS"],
        max_bytes=config["CALENDAR_MAX_BYTES"],
    )


def _locked(connection_id: int) -> CalendarConnection | None:
    """The connection, its practitioner's row locked as a booking locks it (and as removing
    it does); None when it was removed meanwhile."""
    begin_write()
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None:
        return None
    lock_rows(Practitioner, [connection.practitioner_id])
    return db.session.get(CalendarConnection, connection_id, populate_existing=True)


def _record(
    connection_id: int,
    now: datetime,
    busy: list[Busy] | None,
    etag: str,
    last_modified: str,
    notes: str = "",
    covered_until: datetime | None = None,
) -> Outcome:
    """A good sync: ``busy`` replaces the stored busy times (None: unchanged, a 304)."""
    connection = _locked(connection_id)
    if connection is None:  # removed while the feed was read
        db.session.rollback()
        return Outcome(ok=False, error="gone")
    changed = busy is not None and _replace(connection, busy)
    if busy is not None:
        connection.etag, connection.last_modified, connection.notes = etag, last_modified, notes
        connection.covered_until = covered_until
    connection.last_attempt_at = connection.last_success_at = now
    connection.last_error, connection.failing_since, connection.outage_reported = "", None, False
    db.session.commit()
    return Outcome(ok=True, changed=changed)


def _replace(connection: CalendarConnection, busy: list[Busy]) -> bool:
    stored = db.session.execute(
        sa.select(ExternalBusy.starts_at, ExternalBusy.ends_at, ExternalBusy.key)
        .where(ExternalBusy.connection_id == connection.id)
        .order_by(ExternalBusy.starts_at, ExternalBusy.ends_at, ExternalBusy.key)
    ).all()
    if [tuple(row) for row in stored] == [(b.starts_at, b.ends_at, b.key) for b in busy]:
        return False
    unchanged = {"schedule_unchanged": True}  # raised below, for this practitioner only
    db.session.execute(
        sa.delete(ExternalBusy).where(ExternalBusy.connection_id == connection.id),
        execution_options=unchanged,
    )
    if busy:
        db.session.execute(
            sa.insert(ExternalBusy),
            [
                dict(
                    connection_id=connection.id,
                    practitioner_id=connection.practitioner_id,
                    starts_at=b.starts_at,
                    ends_at=b.ends_at,
                    key=b.key,
                )
                for b in busy
            ],
            execution_options=unchanged,
        )
    raise_versions(db.session(), {connection.practitioner_id}, busy=True)
    return True


def _fail(connection_id: int, now: datetime, message: str) -> Outcome:
    connection = _locked(connection_id)
    if connection is None:
        db.session.rollback()
        return Outcome(ok=False, error="gone")
    connection.last_attempt_at = now
    connection.last_error = message[:300]
    connection.failing_since = connection.failing_since or now
    if not connection.outage_reported and now - connection.failing_since >= OUTAGE_GRACE:
        report_outage(connection, now)
        connection.outage_reported = True  # until it works again: one email per outage
    db.session.commit()
    return Outcome(ok=False, error=message)
