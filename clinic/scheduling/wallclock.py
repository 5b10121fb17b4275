"""Wall-clock times in a zone, turned into real instants, and instants grouped by local day.

A working range "09:00-17:00 on 2025-03-09 in America/New_York" means *every instant whose
local wall time that day falls in [09:00, 17:00)*. That one definition settles daylight-saving
days without special cases: a range crossing a spring-forward gap is an hour shorter in real
time, one crossing a fall-back overlap is an hour longer, and a wall time inside a gap is
simply never reached. Nothing is lost and nothing is invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from clinic.scheduling.ranges import Interval, merge

# Every real UTC offset lies in [-12:00, +14:00]; a wall time w is reached at some instant in
# [w - 14h, w + 12h].
_EAST = timedelta(hours=14)
_WEST = timedelta(hours=12)
# Offsets never change twice within this span, so probing at this pace finds every change.
_PROBE = timedelta(hours=2)


@lru_cache(maxsize=8192)
def _offset_segments(zone: ZoneInfo, day: date) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """Pieces of time around ``day`` during which ``zone``'s UTC offset is constant.

    The pieces cover every instant whose wall time falls on ``day`` (and the midnight after it).
    """
    start = datetime.combine(day, time(0), UTC) - _EAST
    end = datetime.combine(day + timedelta(days=1), time(0), UTC) + _WEST + timedelta(seconds=1)
    segments = []
    seg_start = start
    offset = _offset(start, zone)
    probe = start
    while probe < end:
        step_end = min(probe + _PROBE, end)
        if step_end.astimezone(zone).utcoffset() == offset:
            probe = step_end
            continue
        # Bisect on whole seconds for the first instant with the new offset.
        lo, hi = int(probe.timestamp()), int(step_end.timestamp())
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == offset:
                lo = mid
            else:
                hi = mid
        change = datetime.fromtimestamp(hi, UTC)
        segments.append((seg_start, change, offset))
        seg_start, probe = change, change
        offset = _offset(change, zone)
    segments.append((seg_start, end, offset))
    return tuple(segments)


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    """``zone``'s UTC offset at an aware ``instant`` (a zone always has one)."""
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def wall_range(day: date, start: time, end: time, zone: ZoneInfo) -> list[Interval]:
    """The instants whose wall time in ``zone`` on ``day`` lies in ``[start, end)``.

    ``end == time(0)`` means the midnight that closes the day. Usually one interval; two
    only when a fall-back overlap repeats part of the range's start.
    """
    lo = datetime.combine(day, start)
    hi = datetime.combine(day + timedelta(days=1) if end == time(0) else day, end)
    pieces = []
    for seg_start, seg_end, offset in _offset_segments(zone, day):
        piece_start = max(seg_start, (lo - offset).replace(tzinfo=UTC))
        piece_end = min(seg_end, (hi - offset).replace(tzinfo=UTC))
        if piece_start < piece_end:
            pieces.append(Interval(piece_start, piece_end))
    return merge(pieces)


def instant_at(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The first instant at or after wall time ``wall`` on ``day`` in ``zone``, in UTC.

    A wall time skipped by a spring-forward gap gives the gap's end; a repeated one its first
    occurrence. None only if the zone skipped the rest of that day altogether.
    """
    found = wall_range(day, wall, time(0), zone)
    return found[0].start if found else None


def local_day_window(first_day: date, days: int, zone: ZoneInfo) -> Interval:
    """From the first instant of ``first_day`` to the first instant of the day ``days`` later."""
    start = wall_range(first_day, time(0), time(0), zone)[0].start
    last = first_day + timedelta(days=days)
    end = wall_range(last, time(0), time(0), zone)[0].start
    return Interval(start, end)


class _Timed(Protocol):
    @property
    def start(self) -> datetime: ...


T = TypeVar("T", bound=_Timed)


@dataclass(frozen=True, slots=True)
class DaySlots(Generic[T]):
    """The items that start on one local ``day`` (possibly none), in order."""

    day: date
    items: tuple[T, ...]


def group_by_day(items: Iterable[T], zone: ZoneInfo, days: Sequence[date]) -> list[DaySlots[T]]:
    """One entry per requested local day, each holding the items that start on it in ``zone``."""
    by_day: dict[date, list[T]] = {d: [] for d in days}
    for item in sorted(items, key=lambda i: i.start):
        local_day = item.start.astimezone(zone).date()
        if local_day in by_day:
            by_day[local_day].append(item)
    return [DaySlots(d, tuple(by_day[d])) for d in days]
