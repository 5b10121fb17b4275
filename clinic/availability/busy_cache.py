"""Busy times read from practitioners' own calendars, kept in each process by version.

They change only when a sync finds the calendar changed (every few minutes at most), while
free times are worked out again after every booking: reading thousands of busy times each
time cost more than the rest of the work. Each practitioner's ``busy_version`` is raised in
the transaction that changes their busy times (``clinic.availability.schedule_version``),
and it is read in the same statement that would read the busy times, under the booking lock
too, so a kept copy is only ever used while it is still the stored one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict

import sqlalchemy as sa
from flask import current_app

from clinic.core.extensions import db
from clinic.core.models import ExternalBusy, Practitioner
from clinic.scheduling import Interval


class BusyCache:
    """(practitioner, busy version) to that practitioner's busy times, sorted; least
    recently used dropped beyond ``size``; safe to share between a process's threads."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, int], tuple[Interval, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def kept(self, practitioner_ids: list[int]) -> dict[tuple[int, int], tuple[Interval, ...]]:
        """What is held for these practitioners, by (practitioner, version): a snapshot, so
        that another thread dropping an entry meanwhile changes nothing for the caller."""
        wanted = set(practitioner_ids)
        with self._lock:
            found = {key: busy for key, busy in self._entries.items() if key[0] in wanted}
            for key in found:
                self._entries.move_to_end(key)
        return found

    def put(self, practitioner_id: int, version: int, busy: tuple[Interval, ...]) -> None:
        with self._lock:
            self._entries[(practitioner_id, version)] = busy
            self._entries.move_to_end((practitioner_id, version))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def external_busy(ids: list[int]) -> dict[int, tuple[Interval, ...]]:
    """Each practitioner's busy times from their own calendars, all of them, sorted.

    One statement reads every practitioner's busy version and, joined, the busy times of
    those whose kept copy (``busy_cache``) is not of that version: usually none, so thousands
    of busy times cost nothing more than a few free times do."""
    cache = busy_cache()
    kept = cache.kept(ids)
    stale = (
        sa.tuple_(Practitioner.id, Practitioner.busy_version).not_in(list(kept))
        if kept
        else sa.true()
    )
    rows = db.session.execute(
        sa.select(
            Practitioner.id, Practitioner.busy_version, ExternalBusy.starts_at, ExternalBusy.ends_at
        )
        .outerjoin(ExternalBusy, sa.and_(ExternalBusy.practitioner_id == Practitioner.id, stale))
        .where(Practitioner.id.in_(ids))
        .order_by(Practitioner.id, ExternalBusy.starts_at, ExternalBusy.ends_at)
    )
    versions: dict[int, int] = {}
    read: dict[int, list[Interval]] = defaultdict(list)
    for pid, version, starts, ends in rows:
        versions[pid] = version
        if starts is not None:
            read[pid].append(Interval(starts, ends))
    found = {}
    for pid, version in versions.items():
        busy = kept.get((pid, version))
        if busy is None:  # not kept, or an older version: the rows read are this version's
            busy = tuple(read[pid])
            cache.put(pid, version, busy)
        found[pid] = busy
    return found


def busy_cache() -> BusyCache:
    """This app's kept busy times (one per app, so each test's app starts with none)."""
    return current_app.extensions["clinic.busy_cache"]
