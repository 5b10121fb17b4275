"""Free consult times: working hours, minus time off, minus busy consults, the busy times of
the practitioner's own calendars, and their buffers.

Every function is pure: the current instant comes in as ``now``, zones come in as ``ZoneInfo``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import chain
from typing import TypeVar
from zoneinfo import ZoneInfo

from clinic.scheduling.ranges import Interval, merge
from clinic.scheduling.wallclock import wall_range


@dataclass(frozen=True, slots=True)
class WeeklyRange:
    """Working hours on one weekday (0 = Monday), in the practitioner's wall-clock time.

    ``end`` is exclusive; ``time(0)`` as the end means the midnight closing the day.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if self.end != time(0) and self.end <= self.start:
            raise ValueError("working hours must end after they start")


@dataclass(frozen=True, slots=True)
class Rules:
    """The clinic's booking rules. ``daily_cap`` counts consults per practitioner per local day."""

    duration: timedelta
    step: timedelta
    buffer: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    daily_cap: int | None = None

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("duration and step must be positive")
        if self.buffer < timedelta(0) or self.min_notice < timedelta(0):
            raise ValueError("buffer and minimum notice cannot be negative")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Working hours within one day, in the practitioner's wall-clock time.

    ``end`` is exclusive; ``time(0)`` as the end means the midnight closing the day.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end != time(0) and self.end <= self.start:
            raise ValueError("working hours must end after they start")


@dataclass(frozen=True, slots=True)
class DayOverride:
    """Hours for one local ``day`` (practitioner's zone) that replace that weekday's hours.

    No ranges means not working that day. Several overrides of one day add up.
    """

    day: date
    ranges: tuple[TimeRange, ...] = ()


@dataclass(frozen=True, slots=True)
class Availability:
    """One practitioner's hours, one-day overrides of them, time off, active consults (held
    or confirmed, no buffers) and the busy times of their own calendars (``external``)."""

    practitioner_id: int
    zone: ZoneInfo
    weekly: tuple[WeeklyRange, ...]
    time_off: tuple[Interval, ...] = ()
    busy: tuple[Interval, ...] = ()
    overrides: tuple[DayOverride, ...] = ()
    external: tuple[Interval, ...] = ()


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    start: datetime
    end: datetime
    practitioner_id: int


@dataclass(frozen=True, slots=True, order=True)
class OpenTime:
    """A start time offered for "first available", with every practitioner free then."""

    start: datetime
    end: datetime
    practitioner_ids: tuple[int, ...]


Timed = TypeVar("Timed", Slot, OpenTime)


# Unless the hours cover the whole week, a stretch of working time ends at the next gap in the
# weekly hours: within a week, or two if a spring-forward hour swallows that gap once. So any
# 15 days in a row that no override touches hold the start of every stretch running past them.
_LOOK_BACK = timedelta(days=15)


def _first_day(day: date, overrides: tuple[DayOverride, ...]) -> date:
    """A local day early enough that no stretch of working time touching ``day`` began before it.

    Overrides can bridge the weekly gaps, so the look-back reaches 15 days behind the earliest
    override in an unbroken chain of overrides (each within 15 days of the next) before ``day``.
    """
    first = day - _LOOK_BACK
    for earlier in sorted({o.day for o in overrides if o.day < day}, reverse=True):
        if earlier < first:
            break
        first = earlier - _LOOK_BACK
    return first


def working_intervals(av: Availability, window: Interval) -> list[Interval]:
    """The practitioner's working time that touches ``window``, merged, in UTC.

    On a day with overrides only their ranges count; every other day has the weekly hours.
    """
    # Look back (see ``_first_day``): a stretch touching the window may have begun days before
    # it (hours running across midnights), and the slot grid counts from the stretch's true
    # start, so that start must not depend on the window asked for.
    first = _first_day(window.start.astimezone(av.zone).date(), av.overrides)
    last = window.end.astimezone(av.zone).date() + timedelta(days=1)
    by_weekday: dict[int, list[WeeklyRange]] = {}
    for weekly in av.weekly:
        by_weekday.setdefault(weekly.weekday, []).append(weekly)
    by_day: dict[date, list[TimeRange]] = {}
    for override in av.overrides:
        by_day.setdefault(override.day, []).extend(override.ranges)
    pieces: list[Interval] = []
    day = first
    while day <= last:
        ranges = by_day.get(day)
        for rng in by_weekday.get(day.weekday(), ()) if ranges is None else ranges:
            pieces.extend(wall_range(day, rng.start, rng.end, av.zone))
        day += timedelta(days=1)
    return [p for p in merge(pieces) if p.overlaps(window)]


def _full_days(av: Availability, rules: Rules) -> set[date]:
    if rules.daily_cap is None:
        return set()
    counts = Counter(b.start.astimezone(av.zone).date() for b in av.busy)
    return {day for day, count in counts.items() if count >= rules.daily_cap}


def _blocked(av: Availability, buffer: timedelta) -> tuple[list[datetime], list[datetime]]:
    """The starts and the ends of the stretches no consult may overlap, merged and in order:
    time off, and every consult and busy time with ``buffer`` on both sides. (``merge`` does
    the same with ``Interval`` objects; plain pairs keep thousands of busy times cheap.)"""
    spans = sorted(
        [(t.start, t.end) for t in av.time_off]
        + [(b.start - buffer, b.end + buffer) for b in chain(av.busy, av.external)]
    )
    starts: list[datetime] = []
    ends: list[datetime] = []
    for start, end in spans:
        if end <= start:
            continue
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def free_slots(av: Availability, rules: Rules, window: Interval, now: datetime) -> list[Slot]:
    """Bookable slots of one practitioner whose start lies in ``window``, in order.

    A slot starts on the step grid counted from the start of its working stretch, lies wholly
    inside working time, overlaps no time off, keeps ``rules.buffer`` clear of every busy
    consult and every busy time of the practitioner's own calendars on both sides, starts at
    least ``min_notice`` after ``now`` and no later than ``now + horizon``, and falls on a
    local day (practitioner's zone) not yet at the daily cap.
    """
    earliest = max(window.start, now + rules.min_notice)
    latest = min(window.end, now + rules.horizon + timedelta(microseconds=1))
    if earliest >= latest:
        return []
    blocked_starts, blocked_ends = _blocked(av, rules.buffer)
    full_days = _full_days(av, rules)
    slots: list[Slot] = []
    for stretch in working_intervals(av, Interval(earliest, latest + rules.duration)):
        skipped = max(0, -(-(earliest - stretch.start) // rules.step))
        start = stretch.start + skipped * rules.step
        while start < latest and start + rules.duration <= stretch.end:
            end = start + rules.duration
            i = bisect_right(blocked_ends, start)
            clear = i == len(blocked_ends) or blocked_starts[i] >= end
            if clear and start.astimezone(av.zone).date() not in full_days:
                slots.append(Slot(start, end, av.practitioner_id))
            start += rules.step
    return slots


def slot_at(av: Availability, rules: Rules, start: datetime, now: datetime) -> Slot | None:
    """The slot starting exactly at ``start`` if it is bookable now, else None."""
    window = Interval(start, start + timedelta(microseconds=1))
    found = free_slots(av, rules, window, now)
    return found[0] if found and found[0].start == start else None


def first_available(
    avails: Iterable[Availability], rules: Rules, window: Interval, now: datetime
) -> list[OpenTime]:
    """Every start time at which at least one practitioner is free, with who is free then."""
    who: dict[tuple[datetime, datetime], list[int]] = {}
    for av in avails:
        for slot in free_slots(av, rules, window, now):
            who.setdefault((slot.start, slot.end), []).append(slot.practitioner_id)
    return [OpenTime(s, e, tuple(sorted(ids))) for (s, e), ids in sorted(who.items())]


def by_window(
    av: Availability, windows: Sequence[Interval], margin: timedelta
) -> list[Availability]:
    """``av`` for each of ``windows``, holding only the time off, consults and busy times that
    come within ``margin`` of it: all that slots starting in the window depend on, when
    ``margin`` covers a day each side (a local day's daily cap), the buffer and a consult.
    Each list is sorted once, so working out a practitioner's weeks one at a time does not go
    through thousands of busy times over the whole horizon for every week."""
    cuts = []
    for found in (av.time_off, av.busy, av.external):
        ordered = sorted(found, key=lambda i: i.start)
        longest = max((i.end - i.start for i in ordered), default=timedelta(0))
        cuts.append((ordered, [i.start for i in ordered], longest))
    narrowed = []
    for window in windows:
        low, high = window.start - margin, window.end + margin
        time_off, busy, external = (
            tuple(
                i
                for i in ordered[bisect_left(starts, low - longest) : bisect_left(starts, high)]
                if i.end > low
            )
            for ordered, starts, longest in cuts
        )
        narrowed.append(replace(av, time_off=time_off, busy=busy, external=external))
    return narrowed


def nearest(times: Sequence[Timed], target: datetime, count: int = 3) -> list[Timed]:
    """The ``count`` times closest to ``target`` (ties go to the earlier), in time order."""
    ranked = sorted(times, key=lambda t: (abs(t.start - target), t.start))
    return sorted(ranked[:count], key=lambda t: t.start)
