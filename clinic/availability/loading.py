"""Reads what the scheduling core needs about practitioners' time in a fixed number of
statements.

The number of statements does not depend on how many days or practitioners are asked about:
each kind of row (hours, one-day overrides, time off, consults, the busy times of
practitioners' own calendars) is fetched once for all practitioners, restricted to the window
by indexed range conditions, never by loading history.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.availability.busy_cache import external_busy
from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    HoursOverride,
    HoursOverrideRange,
    Practitioner,
    Status,
    TimeOff,
    WorkingHours,
)
from clinic.scheduling import Availability, DayOverride, Interval, TimeRange, WeeklyRange

# How far beyond a window the rows that decide its free times can lie: daily caps count whole
# local days, which reach up to ~26 hours beyond a UTC window; buffers (at most 4 hours) and a
# consult's length fit in the rest.
ROWS_MARGIN = timedelta(days=2)
# The core looks 15 local days back for the start of a stretch of working time (its slot grid
# counts from there), so overrides are read from a little further back. Only a stretch that
# overrides keep unbroken for more than two weeks could begin before them.
_OVERRIDE_LOOK_BACK = timedelta(days=17)


def active_condition(now: datetime):
    """SQL for "this consult occupies its practitioner's time at ``now``"."""
    return sa.or_(
        Appointment.status == Status.CONFIRMED.value,
        sa.and_(Appointment.status == Status.HELD.value, Appointment.hold_expires_at > now),
    )


def availabilities(
    practitioners: list[Practitioner],
    window: Interval,
    now: datetime,
    ignore_appointment: int | None = None,
) -> list[Availability]:
    """Hours, time off and active consults around ``window`` for each practitioner."""
    return load(practitioners, window, now, ignore_appointment)[0]


def load(
    practitioners: list[Practitioner],
    window: Interval,
    now: datetime,
    ignore_appointment: int | None = None,
) -> tuple[list[Availability], datetime | None]:
    """The availabilities, and when the first of the holds among them lapses (if any does)."""
    found, lapses = load_each(practitioners, window, now, ignore_appointment)
    return found, min(lapses.values(), default=None)


def load_each(
    practitioners: list[Practitioner],
    window: Interval,
    now: datetime,
    ignore_appointment: int | None = None,
) -> tuple[list[Availability], dict[int, datetime]]:
    """The availabilities, and when the first hold of each practitioner with any lapses."""
    ids = [p.id for p in practitioners]
    if not ids:
        return [], {}
    lo, hi = window.start - ROWS_MARGIN, window.end + ROWS_MARGIN
    weekly: dict[int, list[WeeklyRange]] = defaultdict(list)
    for hours in db.session.execute(
        sa.select(
            WorkingHours.practitioner_id,
            WorkingHours.weekday,
            WorkingHours.start_time,
            WorkingHours.end_time,
        ).where(WorkingHours.practitioner_id.in_(ids))
    ):
        if hours.end_time > hours.start_time or hours.end_time == time(0):
            weekly[hours.practitioner_id].append(
                WeeklyRange(hours.weekday, hours.start_time, hours.end_time)
            )
    overrides = _overrides(ids, window)
    off: dict[int | None, list[Interval]] = defaultdict(list)
    for away in db.session.execute(
        sa.select(TimeOff.practitioner_id, TimeOff.starts_at, TimeOff.ends_at).where(
            sa.or_(TimeOff.practitioner_id.in_(ids), TimeOff.practitioner_id.is_(None)),
            TimeOff.ends_at > lo,
            TimeOff.starts_at < hi,
        )
    ):
        off[away.practitioner_id].append(Interval(away.starts_at, away.ends_at))
    busy: dict[int, list[Interval]] = defaultdict(list)
    stmt = sa.select(
        Appointment.practitioner_id,
        Appointment.starts_at,
        Appointment.ends_at,
        Appointment.status,
        Appointment.hold_expires_at,
    ).where(
        Appointment.practitioner_id.in_(ids),
        Appointment.starts_at < hi,
        Appointment.ends_at > lo,
        active_condition(now),
    )
    if db.engine.dialect.name == "postgresql":
        # The same overlap as a range, which the exclusion constraint's index of active
        # consults answers directly; without it the planner may read every active consult of
        # a practitioner, past ones left unmarked included.
        stmt = stmt.where(
            sa.func.tstzrange(Appointment.starts_at, Appointment.ends_at, "[)").op("&&")(
                sa.func.tstzrange(lo, hi, "[)")
            )
        )
    if ignore_appointment is not None:
        stmt = stmt.where(Appointment.id != ignore_appointment)
    lapses: dict[int, datetime] = {}
    for booked in db.session.execute(stmt):
        busy[booked.practitioner_id].append(Interval(booked.starts_at, booked.ends_at))
        if booked.status == Status.HELD.value:
            pid = booked.practitioner_id
            lapses[pid] = min(booked.hold_expires_at, lapses.get(pid, booked.hold_expires_at))
    external = {
        pid: tuple(b for b in kept if b.end > lo and b.start < hi)
        for pid, kept in external_busy(ids).items()
    }
    found = [
        Availability(
            practitioner_id=p.id,
            zone=ZoneInfo(p.timezone),
            weekly=tuple(weekly[p.id]),
            time_off=tuple(off[p.id] + off[None]),
            busy=tuple(busy[p.id]),
            overrides=overrides.get(p.id, ()),
            external=external.get(p.id, ()),
        )
        for p in practitioners
    ]
    return found, lapses


def _overrides(ids: list[int], window: Interval) -> dict[int, tuple[DayOverride, ...]]:
    """Each practitioner's one-day overrides near ``window``, in one statement."""
    first = (window.start - _OVERRIDE_LOOK_BACK).date()
    last = (window.end + ROWS_MARGIN).date()
    ranges: dict[tuple[int, date], list[TimeRange]] = {}
    for row in db.session.execute(
        sa.select(
            HoursOverride.practitioner_id,
            HoursOverride.day,
            HoursOverrideRange.start_time,
            HoursOverrideRange.end_time,
        )
        .outerjoin(HoursOverride.ranges)
        .where(
            HoursOverride.practitioner_id.in_(ids),
            HoursOverride.day >= first,
            HoursOverride.day <= last,
        )
    ):
        day_ranges = ranges.setdefault((row.practitioner_id, row.day), [])
        if row.start_time is not None and (
            row.end_time > row.start_time or row.end_time == time(0)
        ):
            day_ranges.append(TimeRange(row.start_time, row.end_time))
    found: dict[int, list[DayOverride]] = defaultdict(list)
    for (practitioner_id, day), day_ranges in ranges.items():
        found[practitioner_id].append(DayOverride(day, tuple(day_ranges)))
    return {pid: tuple(items) for pid, items in found.items()}
