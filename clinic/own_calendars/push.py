"""Consults copied into practitioners' own CalDAV calendars ("add consults here").

A change to a consult marks its copies due in the change's own transaction
(``consult_changed``), as the email outbox does, so a copy is never forgotten. The worker
(``push_due``) then makes each calendar match the consult as it is at that moment: the event
PUT at an address made of its UID (again and again if need be: one event, never two), with
``If-None-Match: *`` the first time and ``If-Match`` its ETag after; removed once the consult
is cancelled. A server that fails leaves the copy due again later (1, 2, 4... minutes, at
most an hour apart), for as long as it takes: delayed, never lost. A worker takes a copy
under a lease, so no two write it at once; a change made meanwhile leaves it due.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from clinic.calendar.feed import stored_copy
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, rowcount
from clinic.core.extensions import db
from clinic.core.models import Appointment, CalendarConnection, CalendarCopy, Status
from clinic.core.models.own_calendars import STALE
from clinic.notify.delivery import retry_delay
from clinic.outbound.urls import OutboundError, TooSlow, Unreachable
from clinic.own_calendars.caldav_account import Conflict, event_href
from clinic.own_calendars.secrets import SecretsUnavailable
from clinic.own_calendars.sync import signed_in

log = logging.getLogger("clinic.own_calendars")

KEPT = (Status.CONFIRMED.value, Status.COMPLETED.value, Status.NO_SHOW.value)  # as the feed
LEASE = timedelta(
    minutes=5
)  # a copy being written is taken again after this, should its worker die
BATCH = 200
# Consults that start from this long ago on are copied when a calendar is first chosen.
COPY_BACK = timedelta(days=1)


def consult_changed(appointment: Appointment, now: datetime) -> None:
    """Inside the change's transaction: every copy of the consult is due now, and its
    practitioner's calendars that receive consults get one if they have none."""
    receiving = db.session.scalars(
        sa.select(CalendarConnection.id).where(
            CalendarConnection.practitioner_id == appointment.practitioner_id,
            CalendarConnection.push_calendar != "",
        )
    ).all()
    existing = set(
        db.session.scalars(
            sa.select(CalendarCopy.connection_id).where(
                CalendarCopy.uid == appointment.calendar_uid
            )
        )
    )
    for connection_id in set(receiving) - existing:
        db.session.add(_copy(connection_id, appointment.id, appointment.calendar_uid, now))
    if existing:
        db.session.execute(
            sa.update(CalendarCopy)
            .where(CalendarCopy.uid == appointment.calendar_uid)
            .values(due_at=now, attempts=0)
        )


def calendar_chosen(connection: CalendarConnection, now: datetime) -> None:
    """Inside the caller's transaction, after ``connection.push_calendar`` changed: copies
    already written move (or go, when none is chosen), and the practitioner's consults from
    a day ago on are copied to the new calendar."""
    db.session.execute(
        sa.update(CalendarCopy)
        .where(CalendarCopy.connection_id == connection.id)
        .values(due_at=now, attempts=0)
    )
    if not connection.push_calendar:
        return
    copied = sa.select(CalendarCopy.uid).where(CalendarCopy.connection_id == connection.id)
    for appointment_id, uid in db.session.execute(
        sa.select(Appointment.id, Appointment.calendar_uid).where(
            Appointment.practitioner_id == connection.practitioner_id,
            Appointment.status.in_(KEPT),
            Appointment.starts_at >= now - COPY_BACK,
            Appointment.calendar_uid.not_in(copied),
        )
    ):
        db.session.add(_copy(connection.id, appointment_id, uid, now))


def _copy(connection_id: int, appointment_id: int, uid: str, now: datetime) -> CalendarCopy:
    return CalendarCopy(
        connection_id=connection_id, appointment_id=appointment_id, uid=uid, due_at=now
    )


def push_due(now: datetime) -> int:
    """Bring every due copy up to date. Each is taken under a lease first, so several workers
    may run: no copy is written by two at once. When a calendar server can't be reached, the
    rest of its copies wait for the next try without asking it again in this round."""
    due = db.session.execute(
        sa.select(CalendarCopy.id, CalendarCopy.due_at, CalendarCopy.connection_id)
        .where(
            CalendarCopy.due_at <= now,
            sa.or_(CalendarCopy.leased_until.is_(None), CalendarCopy.leased_until <= now),
        )
        .order_by(CalendarCopy.due_at, CalendarCopy.id)
        .limit(BATCH)
    ).all()
    db.session.rollback()
    started = time.monotonic()
    unreachable: dict[int, str] = {}  # connection: why, this round
    pushed = 0
    for copy_id, due_at, connection_id in due:
        at = now + timedelta(seconds=time.monotonic() - started)  # the round takes time
        claim = Claim(copy_id, due_at, at + LEASE)
        begin_write()
        taken = sa.update(CalendarCopy).where(
            CalendarCopy.id == copy_id,
            CalendarCopy.due_at == due_at,
            sa.or_(CalendarCopy.leased_until.is_(None), CalendarCopy.leased_until <= at),
        )
        claimed = rowcount(db.session.execute(taken.values(leased_until=claim.lease))) == 1
        db.session.commit()
        if not claimed:
            continue
        pushed += 1
        if connection_id in unreachable:
            _failed(claim, at, unreachable[connection_id])
            continue
        try:
            _push(claim)
        except (Unreachable, TooSlow) as problem:
            db.session.rollback()
            unreachable[connection_id] = str(problem)
            _failed(claim, at, str(problem))
        except (OutboundError, SecretsUnavailable) as problem:
            db.session.rollback()
            _failed(claim, at, str(problem))
        except Exception:  # noqa: BLE001 - one copy's surprise must not stop the round
            db.session.rollback()
            log.exception("Copying to calendar (copy %s) failed unexpectedly.", copy_id)
            _failed(claim, at, "The consult could not be copied (an unexpected error).")
    return pushed


@dataclass(frozen=True)
class Claim:
    copy_id: int
    due_at: datetime  # as it was when taken: a change since leaves the copy due
    lease: datetime


def _push(claim: Claim) -> None:
    copy = db.session.get(CalendarCopy, claim.copy_id)
    if copy is None:
        return
    connection = db.session.get(CalendarConnection, copy.connection_id)
    assert connection is not None  # copies go with their connection
    appointment = db.session.get(Appointment, copy.appointment_id) if copy.appointment_id else None
    wanted = ""
    if (
        connection.push_calendar
        and appointment is not None
        and appointment.practitioner_id == connection.practitioner_id
        and appointment.status in KEPT
    ):
        wanted = event_href(connection.push_calendar, copy.uid)
    body = stored_copy(appointment, clinic_settings()) if wanted and appointment else b""
    sequence = appointment.sequence if appointment is not None else None
    href, etag, written = copy.href, copy.etag, copy.written_sequence
    if href == wanted and (not wanted or written == sequence):
        _done(claim, href, etag, written)  # already as it should be
        return
    with signed_in(connection) as calendar:  # the transaction ends here: none is held meanwhile
        if href and href != wanted:  # cancelled, or another calendar chosen
            calendar.delete(href)  # (again, should the PUT below fail: gone counts as done)
            href, etag, written = "", "", None
        if wanted:
            try:
                result = calendar.put(wanted, body, etag=etag if href == wanted else None)
            except Conflict:  # written before without hearing back, or edited there since
                result = calendar.put(wanted, body, etag=calendar.etag(wanted))
            href, etag, written = wanted, result.etag, sequence
    _done(claim, href, etag, written)


def _done(claim: Claim, href: str, etag: str, written: int | None) -> None:
    """Record what the calendar holds now, if this worker still holds the lease. The copy is
    no longer due unless the consult changed meanwhile: then what was written may already
    be out of date (a new time, a name erased), so it is marked to be written again."""
    unchanged = CalendarCopy.due_at == claim.due_at
    again = STALE if href else None
    db_values = dict(
        href=href,
        etag=etag[:200],
        written_sequence=sa.case(
            (unchanged, sa.literal(written, sa.Integer)), else_=sa.literal(again, sa.Integer)
        ),
        due_at=sa.case((unchanged, None), else_=CalendarCopy.due_at),
        leased_until=None,
        attempts=0,
        last_error="",
    )
    begin_write()
    db.session.execute(
        sa.update(CalendarCopy)
        .where(CalendarCopy.id == claim.copy_id, CalendarCopy.leased_until == claim.lease)
        .values(db_values)
    )
    db.session.commit()


def _failed(claim: Claim, now: datetime, message: str) -> None:
    """Try again later (sooner, if the consult changed meanwhile), if still this worker's."""
    begin_write()
    copy = db.session.get(CalendarCopy, claim.copy_id)
    if copy is not None and copy.leased_until == claim.lease:
        copy.attempts += 1
        copy.last_error = message[:300]
        copy.leased_until = None
        if copy.due_at == claim.due_at:  # else it changed meanwhile: due as it says
            copy.due_at = now + retry_delay(copy.attempts)
    db.session.commit()
