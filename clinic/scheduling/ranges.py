"""Half-open ranges of instants, ``[start, end)``, and the algebra on them.

Every function takes and returns sorted, plain values and never mutates its input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """``[start, end)`` between two timezone-aware instants; empty when start == end."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Interval needs timezone-aware datetimes")
        if self.end < self.start:
            raise ValueError("Interval ends before it starts")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """True when some instant lies in both; an empty interval overlaps nothing."""
        return max(self.start, other.start) < min(self.end, other.end)

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def widened(self, before: timedelta, after: timedelta) -> Interval:
        return Interval(self.start - before, self.end + after)


_BOUNDS = attrgetter("start", "end")


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union: overlapping or touching intervals become one; empty ones vanish."""
    merged: list[Interval] = []
    # By (start, end), as the dataclass orders them, but without building two tuples for
    # each comparison: thousands of busy times from a calendar made that the main cost.
    for item in sorted((i for i in intervals if i.end > i.start), key=_BOUNDS):
        if merged and item.start <= merged[-1].end:
            if item.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, item.end)
        else:
            merged.append(item)
    return merged


def subtract(intervals: Iterable[Interval], cuts: Iterable[Interval]) -> list[Interval]:
    """What remains of ``intervals`` once every part covered by ``cuts`` is removed."""
    remaining: list[Interval] = []
    cut_list = merge(cuts)
    for piece in merge(intervals):
        start = piece.start
        for cut in cut_list:
            if cut.end <= start or cut.start >= piece.end:
                continue
            if cut.start > start:
                remaining.append(Interval(start, cut.start))
            start = max(start, cut.end)
            if start >= piece.end:
                break
        if start < piece.end:
            remaining.append(Interval(start, piece.end))
    return remaining
