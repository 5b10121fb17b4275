"""The staff week view laid out as data: which days, which rows, where each consult goes.

Pure: standard library and ``clinic.scheduling`` only; no Flask, no database. The grid is in
wall-clock time in the clinic's zone: a row is ``ROW_MINUTES`` of local time, so a consult at
9:00 AM sits on the 9:00 AM row on either side of a daylight-saving change (the clocks, not the
elapsed hours, decide). A consult belongs to the local day it starts on; one that runs past
midnight is drawn to the bottom of that day and says where it ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from clinic.scheduling import Interval, WeeklyRange, local_day_window, wall_range

ROW_MINUTES = 5
# The hours always shown, in local minutes from midnight: 8:00 AM to 6:00 PM.
EARLIEST = 8 * 60
LATEST = 18 * 60
DAY_MINUTES = 24 * 60


class Timed(Protocol):
    @property
    def starts_at(self) -> datetime: ...

    @property
    def ends_at(self) -> datetime: ...


T = TypeVar("T", bound=Timed)


@dataclass(frozen=True, slots=True)
class Placed(Generic[T]):
    """One consult in its day's column; rows count from 1 at the top of the grid.

    ``lane`` (from 0) of ``lanes`` side by side keeps overlapping consults apart.
    """

    item: T
    start: datetime  # local
    end: datetime  # local
    row_start: int
    row_end: int  # exclusive, as in CSS ``grid-row: start / end``
    lane: int
    lanes: int
    ends_next_day: bool

    @property
    def grid_area(self) -> str:
        """The block's place as CSS; the last lane stretches to the column's edge."""
        last = self.lane == self.lanes - 1
        column = f"{self.lane + 1} / {'-1' if last else self.lane + 2}"
        return f"grid-row: {self.row_start} / {self.row_end}; grid-column: {column}"


@dataclass(frozen=True, slots=True)
class DayColumn(Generic[T]):
    day: date
    blocks: tuple[Placed[T], ...]
    lanes: int  # the most consults side by side that day (at least 1)


@dataclass(frozen=True, slots=True)
class HourMark:
    row: int
    label: str  # "9:00 AM"


@dataclass(frozen=True, slots=True)
class ClockChange:
    """The zone's UTC offset changes on ``day``; ``after`` is an instant with the new one."""

    day: date
    after: datetime


@dataclass(frozen=True, slots=True)
class Week(Generic[T]):
    """Monday to Sunday in ``zone``, the rows from ``first_minute`` to ``last_minute``."""

    zone: ZoneInfo
    window: Interval  # the week's instants, Monday 00:00 to the next Monday 00:00 local
    columns: tuple[DayColumn[T], ...]
    first_minute: int
    last_minute: int
    hours: tuple[HourMark, ...]
    clock_changes: tuple[ClockChange, ...]

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(c.day for c in self.columns)

    @property
    def rows(self) -> int:
        return (self.last_minute - self.first_minute) // ROW_MINUTES

    @property
    def previous(self) -> date:
        return self.days[0] - timedelta(days=7)

    @property
    def following(self) -> date:
        return self.days[0] + timedelta(days=7)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_window(day: date, zone: ZoneInfo) -> Interval:
    """The instants of the week (Monday to Sunday, local) that contains ``day``."""
    return local_day_window(monday_of(day), 7, zone)


def hours_in_week(
    weekly: Iterable[tuple[ZoneInfo, WeeklyRange]], day: date, zone: ZoneInfo
) -> list[Interval]:
    """Working hours (each in its practitioner's own zone) that fall in the week of ``day``."""
    window = week_window(day, zone)
    first = monday_of(day) - timedelta(days=1)  # other zones' days reach into this week
    pieces = []
    for own_zone, rng in weekly:
        for offset in range(9):
            local_day = first + timedelta(days=offset)
            if local_day.weekday() == rng.weekday:
                pieces.extend(wall_range(local_day, rng.start, rng.end, own_zone))
    return [
        Interval(max(p.start, window.start), min(p.end, window.end))
        for p in pieces
        if p.overlaps(window)
    ]


def layout_week(
    items: Iterable[T], zone: ZoneInfo, day: date, working: Iterable[Interval] = ()
) -> Week[T]:
    """The week containing ``day`` with ``items`` placed by their local start and end.

    Items starting outside the week are left out. The rows run, on whole hours, from the
    earliest to the latest consult or working time of the week, and at least 8 AM to 6 PM.
    """
    window = week_window(day, zone)
    days = tuple(monday_of(day) + timedelta(days=i) for i in range(7))
    spans: dict[date, list[tuple[int, int, bool, T]]] = {d: [] for d in days}
    for item in sorted(items, key=lambda i: (i.starts_at, i.ends_at)):
        if not window.start <= item.starts_at < window.end:
            continue
        start, end, next_day = _local_minutes(item.starts_at, item.ends_at, zone)
        spans[item.starts_at.astimezone(zone).date()].append((start, end, next_day, item))
    lo, hi = EARLIEST, LATEST
    for entries in spans.values():
        for start, end, _, _ in entries:
            lo, hi = min(lo, start), max(hi, end)
    for piece in working:  # hours running past midnight need the whole day shown
        start, end, next_day = _local_minutes(piece.start, piece.end, zone)
        lo, hi = (0, DAY_MINUTES) if next_day else (min(lo, start), max(hi, end))
    lo, hi = lo // 60 * 60, min(DAY_MINUTES, -(-hi // 60) * 60)
    columns = tuple(_column(d, spans[d], lo, zone) for d in days)
    hours = tuple(
        HourMark((m - lo) // ROW_MINUTES + 1, _hour_label(m // 60)) for m in range(lo, hi, 60)
    )
    return Week(zone, window, columns, lo, hi, hours, _clock_changes(days, zone))


def _local_minutes(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[int, int, bool]:
    """Wall-clock minutes from local midnight; an end past the day's midnight counts as 24:00.

    A fall-back hour can make the local end read earlier than the start; the block then keeps
    one row, the least it can have.
    """
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    first = local_start.hour * 60 + local_start.minute
    if local_end.date() > local_start.date():
        next_day = local_start.date() + timedelta(days=1)
        at_midnight = local_end.date() == next_day and local_end.time() == time(0)
        return first, DAY_MINUTES, not at_midnight
    last = local_end.hour * 60 + local_end.minute + (1 if local_end.second else 0)
    return first, max(last, first + ROW_MINUTES), False


def _column(day: date, entries: list[tuple[int, int, bool, T]], lo: int, zone: ZoneInfo):
    rows = []
    for start, end, _, _ in entries:
        first = (start - lo) // ROW_MINUTES + 1
        rows.append((first, max(first + 1, -(-(end - lo) // ROW_MINUTES) + 1)))
    lanes, widths = _lanes(rows)
    blocks = tuple(
        Placed(
            item=item,
            start=item.starts_at.astimezone(zone),
            end=item.ends_at.astimezone(zone),
            row_start=a,
            row_end=b,
            lane=lane,
            lanes=width,
            ends_next_day=next_day,
        )
        for (a, b), lane, width, (_, _, next_day, item) in zip(
            rows, lanes, widths, entries, strict=True
        )
    )
    return DayColumn(day, blocks, max(widths, default=1))


def _lanes(rows: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """A lane for each row range (sorted by start) so that no two in one lane overlap, and
    how many lanes its cluster of overlapping ranges uses."""
    lanes: list[int] = []
    widths: list[int] = []
    lane_ends: list[int] = []  # where the last range in each lane of the cluster ends
    cluster_start, cluster_end = 0, 0
    for index, (start, end) in enumerate(rows):
        if start >= cluster_end:  # nothing before overlaps: a new cluster
            for i in range(cluster_start, index):
                widths[i] = len(lane_ends)
            cluster_start, lane_ends = index, []
        free = next((n for n, last in enumerate(lane_ends) if last <= start), None)
        if free is None:
            free = len(lane_ends)
            lane_ends.append(end)
        else:
            lane_ends[free] = end
        lanes.append(free)
        widths.append(0)
        cluster_end = max(cluster_end, end)
    for i in range(cluster_start, len(rows)):
        widths[i] = len(lane_ends)
    return lanes, widths


def _hour_label(hour: int) -> str:
    return f"{hour % 12 or 12}:00 {'AM' if hour < 12 else 'PM'}"


def _clock_changes(days: tuple[date, ...], zone: ZoneInfo) -> tuple[ClockChange, ...]:
    changes = []
    for d in days:
        window = local_day_window(d, 1, zone)
        if window.start.astimezone(zone).utcoffset() != window.end.astimezone(zone).utcoffset():
            changes.append(ClockChange(d, window.end))
    return tuple(changes)
