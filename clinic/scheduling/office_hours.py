"""Deadlines counted in office hours: "two hours of office time after this instant".

Office hours are a wall-clock range on some weekdays in one zone. An instant counts as office
time when its wall time in that zone falls in the range on one of the days, exactly as a
practitioner's working hours do (``wall_range``), so a daylight-saving day's office hours are
as long as the clocks say: an hour shorter or longer in real time, never shifted.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinic.scheduling.wallclock import wall_range


def add_office_minutes(
    start: datetime,
    minutes: int,
    zone: ZoneInfo,
    days: frozenset[int],
    opens: time,
    closes: time,
) -> datetime:
    """The first instant (UTC) by which ``minutes`` of office time have passed since ``start``.

    ``start`` is timezone-aware; ``days`` are weekdays (Monday=0 .. Sunday=6) and ``opens`` to
    ``closes`` the wall-clock hours in ``zone`` (``closes`` of 00:00 means midnight). Time
    outside office hours does not count: a start outside them counts from the next opening,
    and a deadline that falls on a closing time is that closing time. Zero minutes is
    ``start`` itself. Raises ValueError when there is no office time to count in.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    if not days or not days <= frozenset(range(7)):
        raise ValueError("office days must be some of 0 (Monday) to 6 (Sunday)")
    if closes != time(0) and closes <= opens:
        raise ValueError("office hours must close after they open")
    start = start.astimezone(UTC)
    left = timedelta(minutes=minutes)
    if not left:
        return start
    day = start.astimezone(zone).date() - timedelta(days=1)  # a late range may reach past midnight
    while True:
        if day.weekday() in days:
            for piece in wall_range(day, opens, closes, zone):
                counted_from = max(piece.start, start)
                if counted_from >= piece.end:
                    continue
                if piece.end - counted_from >= left:
                    return counted_from + left
                left -= piece.end - counted_from
        day += timedelta(days=1)
