"""Free times already worked out, kept in each process and keyed by what they depend on.

Each practitioner's free times are worked out and kept a week at a time (UTC weeks), so that
any window in any zone (the next days, another week, another visitor's zone) is cut from the
same entries, and one practitioner's change leaves the others' entries standing; the times of
several practitioners together are merged from theirs (``merged``).

The key holds everything the answer depends on but the clock: the booking rules (from the settings
and consult type), the week, the practitioner with their zone and schedule version (raised with
every change to their hours, time off, overrides or consults:
``clinic.availability.schedule_version``); a consult being moved is worked out for its own window
and practitioner, keyed by both. The clock is handled by the entry: times worked out at one moment
are still right a little later once those now closer than the minimum notice are dropped, until a
hold lapses (which frees its time without any write) or ``max_age`` passes (the horizon's far end
moves on; it also bounds how long anything unforeseen could stay stale). Bookings never read this
cache: they check under the lock.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from clinic.core.lru_map import LruMap
from clinic.scheduling import OpenTime


@dataclass(frozen=True, slots=True, eq=False)
class Entry:
    computed_at: datetime
    valid_until: datetime
    starts: tuple[datetime, ...]
    times: tuple[OpenTime, ...]
    parts: tuple[Entry, ...] = ()  # the practitioners' entries a merged one was made from

    def between(self, earliest: datetime, before: datetime) -> list[OpenTime]:
        """The times starting at or after ``earliest`` and before ``before``."""
        first = bisect_left(self.starts, earliest)
        return list(self.times[first : bisect_left(self.starts, before, first)])


class SlotCache:
    """Entries by key, the least recently used forgotten past ``size``."""

    def __init__(self, size: int = 1024, max_age: timedelta = timedelta(seconds=30)):
        self.max_age = max_age
        self._entries: LruMap[Entry] = LruMap(size)

    def times(
        self,
        key: Hashable,
        now: datetime,
        min_notice: timedelta,
        compute: Callable[[], tuple[list[OpenTime], datetime | None]],
    ) -> list[OpenTime]:
        """The times for ``key`` at ``now``; ``compute`` gives them and when a hold next lapses."""
        entry = self._get(key)
        if entry is None or not entry.computed_at <= now < entry.valid_until:
            entry = self._put(key, self._entry(now, *compute()))
        return list(entry.times[bisect_left(entry.starts, now + min_notice) :])

    def entries(
        self,
        keys: list[Hashable],
        now: datetime,
        compute: Callable[[list[int]], list[tuple[list[OpenTime], datetime | None]]],
    ) -> tuple[Entry, ...]:
        """The entry for each of ``keys`` valid at ``now``; those not kept are worked out
        together by ``compute`` (given their positions: for each, the times and when a hold
        among them next lapses)."""
        found = [self._get(key) for key in keys]
        missing = [
            i for i, e in enumerate(found) if e is None or not e.computed_at <= now < e.valid_until
        ]
        if missing:
            for i, (times, next_lapse) in zip(missing, compute(missing), strict=True):
                found[i] = self._put(keys[i], self._entry(now, times, next_lapse))
        return tuple(e for e in found if e is not None)

    def _entry(self, now: datetime, found: list[OpenTime], next_lapse: datetime | None) -> Entry:
        valid_until = now + self.max_age
        if next_lapse is not None:
            valid_until = min(valid_until, next_lapse)
        return Entry(now, valid_until, tuple(t.start for t in found), tuple(found))

    def merged(self, key: Hashable, parts: tuple[Entry, ...]) -> Entry:
        """One entry with the times of all ``parts`` (each a practitioner's), a time offered by
        several carrying all their ids; kept while the parts are the very same entries."""
        entry = self._get(key)
        if (
            entry is not None
            and len(entry.parts) == len(parts)
            and all(a is b for a, b in zip(entry.parts, parts, strict=True))
        ):
            return entry
        who: dict[tuple[datetime, datetime], list[int]] = {}
        for part in parts:
            for t in part.times:
                who.setdefault((t.start, t.end), []).extend(t.practitioner_ids)
        times = tuple(OpenTime(s, e, tuple(sorted(ids))) for (s, e), ids in sorted(who.items()))
        entry = Entry(
            max(p.computed_at for p in parts),
            min(p.valid_until for p in parts),
            tuple(t.start for t in times),
            times,
            parts,
        )
        return self._put(key, entry)

    def _get(self, key: Hashable) -> Entry | None:
        return self._entries.get(key)

    def _put(self, key: Hashable, entry: Entry) -> Entry:
        return self._entries.put(key, entry)

    def clear(self) -> None:
        self._entries.clear()
