"""Free times already worked out, kept in each process and keyed by what they depend on.

The key holds everything the answer depends on but the clock: the booking rules (from the
settings and consult type), the window, the practitioners with their zones and schedule
versions (raised with every change to their hours, time off, overrides or consults:
``clinic.availability.schedule_version``), and a consult being moved. The clock is handled by the
entry: times worked out at one moment are still right a little later once those now closer
than the minimum notice are dropped, until a hold lapses (which frees its time without any
write) or ``max_age`` passes (the horizon's far end moves on; it also bounds how long anything
unforeseen could stay stale). Bookings never read this cache: they check under the lock.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from clinic.scheduling import OpenTime


@dataclass(frozen=True, slots=True)
class Entry:
    computed_at: datetime
    valid_until: datetime
    starts: tuple[datetime, ...]
    times: tuple[OpenTime, ...]


class SlotCache:
    """A small least-recently-used map, safe to share between a process's threads."""

    def __init__(self, size: int = 256, max_age: timedelta = timedelta(seconds=30)):
        self.size = size
        self.max_age = max_age
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def times(
        self,
        key: Hashable,
        now: datetime,
        min_notice: timedelta,
        compute: Callable[[], tuple[list[OpenTime], datetime | None]],
    ) -> list[OpenTime]:
        """The times for ``key`` at ``now``; ``compute`` gives them and when a hold next lapses."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None or not entry.computed_at <= now < entry.valid_until:
            found, next_lapse = compute()
            valid_until = now + self.max_age
            if next_lapse is not None:
                valid_until = min(valid_until, next_lapse)
            entry = Entry(now, valid_until, tuple(t.start for t in found), tuple(found))
            with self._lock:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return list(entry.times[bisect_left(entry.starts, now + min_notice) :])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
