"""Each practitioner's schedule version, raised in the same transaction as any change to their
free times, so free times cached by version (``clinic.availability.slot_cache``) are never served
once the change is committed.

Changes made through the ORM's unit of work are seen before each flush: a consult booked, held,
cancelled or moved, working hours, one-day overrides, time off and the busy times read from
practitioners' own calendars; a clinic closure (time off with no practitioner) raises
everyone's. ORM bulk statements on those tables raise everyone's
too, unless the statement declares it changes no free time with the execution option
``schedule_unchanged=True`` (releasing lapsed holds, anonymising consults, retention).
Settings and consult types need no version: the booking rules they give are part of the key.

A change to the busy times read from a practitioner's own calendars raises their
``busy_version`` as well, in the same statement: those busy times are kept in memory by it
(``clinic.availability.busy_cache``).
"""

from __future__ import annotations

import secrets
from itertools import chain

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from clinic.core.models import (
    Appointment,
    ExternalBusy,
    HoursOverride,
    HoursOverrideRange,
    Practitioner,
    TimeOff,
    WorkingHours,
)

SCHEDULE_MODELS = (
    Appointment,
    WorkingHours,
    TimeOff,
    HoursOverride,
    HoursOverrideRange,
    ExternalBusy,
)
# A consult's other columns (patient, notes, flags, timestamps) don't change anyone's free time.
APPOINTMENT_SCHEDULE = (
    "practitioner_id",
    "practitioner",
    "status",
    "starts_at",
    "ends_at",
    "hold_expires_at",
)
EVERYONE = object()


def _ids(obj, *attributes) -> set:
    """Every value ``attributes`` had or now have in this flush: old and new practitioners."""
    state = inspect(obj)
    found = set()
    for name in attributes:
        history = state.attrs[name].load_history()  # loads an expired value
        for value in chain(history.added, history.unchanged, history.deleted):
            found.add(value.id if isinstance(value, Practitioner) else value)
    return found


def _touched(session: Session) -> tuple[set, set]:
    """The practitioners whose free times change in this flush; those whose busy times do."""
    ids: set = set()
    busy: set = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        if isinstance(obj, Appointment):
            if obj in session.dirty and not any(
                inspect(obj).attrs[name].history.has_changes() for name in APPOINTMENT_SCHEDULE
            ):
                continue
            ids |= _ids(obj, "practitioner_id", "practitioner")
        elif isinstance(obj, WorkingHours):
            ids |= _ids(obj, "practitioner_id", "practitioner")
        elif isinstance(obj, HoursOverride):
            ids |= _ids(obj, "practitioner_id")
        elif isinstance(obj, ExternalBusy):
            busy |= _ids(obj, "practitioner_id")
            ids |= busy
        elif isinstance(obj, HoursOverrideRange):
            override = obj.override
            ids |= _ids(override, "practitioner_id") if override is not None else {EVERYONE}
        elif isinstance(obj, TimeOff):
            found = _ids(obj, "practitioner_id")
            ids |= {EVERYONE} if None in found else found
    ids.discard(None)  # a practitioner not yet flushed has no cached times to invalidate
    busy.discard(None)
    return ids, busy


def _raise(session: Session, ids: set, busy: bool = False) -> None:
    """Raise the schedule versions of ``ids`` (and their busy versions, with ``busy``)."""
    values: dict[str, object] = {"schedule_version": Practitioner.schedule_version + 1}
    if busy:
        # A random number rather than the next one: a transaction that changed busy times,
        # read them (keeping them under its new version) and then rolled back must not leave
        # a kept copy that the next change's version would match. (31 bits: the column's
        # size on both databases; a chance match is one in two billion.)
        values["busy_version"] = secrets.randbits(31)
    statement = sa.update(Practitioner).values(values)
    lock = sa.select(Practitioner.id).order_by(Practitioner.id).with_for_update()
    if EVERYONE not in ids:
        statement = statement.where(Practitioner.id.in_(sorted(ids)))
        lock = lock.where(Practitioner.id.in_(sorted(ids)))
    if session.get_bind().dialect.name == "postgresql":
        # Lock the rows in id order first, as bookings do: an UPDATE locks them in the order it
        # finds them on disk, which could deadlock with a booking for any practitioner.
        session.execute(lock).all()
    # "evaluate" keeps the versions of practitioners already loaded in this session right.
    session.execute(statement, execution_options={"synchronize_session": "evaluate"})


def raise_versions(session: Session, practitioner_ids: set[int], *, busy: bool = False) -> None:
    """For a bulk change the flush can't see (marked ``schedule_unchanged``): raise these
    practitioners' versions in the caller's transaction; ``busy``: their busy times changed."""
    if practitioner_ids:
        _raise(session, practitioner_ids, busy)


def _before_flush(session: Session, flush_context, instances) -> None:
    ids, busy = _touched(session)
    if busy:
        _raise(session, busy, busy=True)
        ids -= busy
    if ids:
        _raise(session, ids)


def _bulk_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    if state.execution_options.get("schedule_unchanged"):
        return
    if any(m.class_ in SCHEDULE_MODELS for m in state.all_mappers):
        busy = any(m.class_ is ExternalBusy for m in state.all_mappers)
        _raise(state.session, {EVERYONE}, busy)


_LISTENERS = (
    ("before_flush", _before_flush),
    ("do_orm_execute", _bulk_statement),
)


def listen() -> None:
    """Attach the session listeners: once, however many apps are made (create_app calls it)."""
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
