"""Checks on availability: that new hours and dates make sense, and which booked consults
fall outside working time; and how wall-clock hours are written.

Availability changes never cancel consults: these checks find the confirmed ones left outside
a practitioner's working time (weekly hours, overrides, time off, clinic closures) so staff
can deal with each.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.availability.loading import availabilities
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import Appointment, Practitioner, Status, TimeOff
from clinic.scheduling import Interval, instant_at, subtract, working_intervals

# How far from today (in the zone concerned) dates may lie: anything beyond is a typo.
PAST_LIMIT = timedelta(days=366)
FUTURE_LIMIT = timedelta(days=3 * 366)
Range = tuple[time, time]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def wall_label(value: time, end: bool = False) -> str:
    """'9:00 AM'; as the end of a range 00:00 is 'midnight'."""
    if end and value == time(0):
        return "midnight"
    return f"{value.hour % 12 or 12}:{value:%M} {'AM' if value.hour < 12 else 'PM'}"


def range_label(start: time, end: time) -> str:
    """'9:00 AM to 12:00 PM'."""
    return f"{wall_label(start)} to {wall_label(end, end=True)}"


class AvailabilityError(ClinicError, ValueError):
    """A plain-language reason a change was refused, and the form field it belongs to."""

    status = 422

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _minutes(start: time, end: time) -> tuple[int, int]:
    """A range as minutes of the day, 00:00 as an end counting as 1440 (midnight)."""
    stop = 1440 if end == time(0) else end.hour * 60 + end.minute
    return start.hour * 60 + start.minute, stop


def check_range(start: time, end: time, field: str) -> None:
    lo, hi = _minutes(start, end)
    if hi <= lo:
        raise AvailabilityError(field, "The end must be after the start (00:00 means midnight).")


def check_no_overlap(new: Range, existing: list[Range], field: str, where: str) -> None:
    lo, hi = _minutes(*new)
    for other in existing:
        other_lo, other_hi = _minutes(*other)
        if lo < other_hi and other_lo < hi:
            raise AvailabilityError(
                field, f"This overlaps {where} {range_label(*other)}. Ranges may not overlap."
            )


def check_day(day: date, today: date, field: str, earliest: date | None = None) -> None:
    first = earliest or today - PAST_LIMIT
    last = today + FUTURE_LIMIT
    if not first <= day <= last:
        raise AvailabilityError(
            field, f"Please choose a day between {_long(first)} and {_long(last)}."
        )


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def local_span(
    starts: datetime, ends: datetime, zone: ZoneInfo, now: datetime
) -> tuple[datetime, datetime]:
    """Naive wall-clock ``starts``/``ends`` in ``zone`` as UTC instants, checked for sense."""
    today = now.astimezone(zone).date()
    check_day(starts.date(), today, "starts")
    check_day(ends.date(), today, "ends")
    start = instant_at(starts.date(), starts.time(), zone)
    end = instant_at(ends.date(), ends.time(), zone)
    if start is None or end is None:
        raise AvailabilityError("starts", f"That day doesn't exist in {zone.key}.")
    if end <= start:
        raise AvailabilityError("ends", "The end must be after the start.")
    return start, end


def booked_outside_hours(practitioner: Practitioner, now: datetime) -> list[Appointment]:
    """Confirmed consults of ``practitioner`` not yet over that lie outside working time."""
    consults = list(
        db.session.scalars(
            sa.select(Appointment)
            .where(
                Appointment.practitioner_id == practitioner.id,
                Appointment.status == Status.CONFIRMED.value,
                Appointment.ends_at > now,
            )
            .order_by(Appointment.starts_at)
        )
    )
    if not consults:
        return []
    window = Interval(consults[0].starts_at, max(a.ends_at for a in consults))
    [av] = availabilities([practitioner], window, now)
    free = subtract(working_intervals(av, window), av.time_off)
    return [
        a for a in consults if not any(f.contains(Interval(a.starts_at, a.ends_at)) for f in free)
    ]


def booked_during(start: datetime, end: datetime, practitioner_id: int | None) -> list[Appointment]:
    """Confirmed consults overlapping ``[start, end)``: one practitioner's, or everyone's."""
    stmt = sa.select(Appointment).where(
        Appointment.status == Status.CONFIRMED.value,
        Appointment.starts_at < end,
        Appointment.ends_at > start,
    )
    if practitioner_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == practitioner_id)
    return list(db.session.scalars(stmt.order_by(Appointment.starts_at)))


def booked_in_closures(closures: list[TimeOff]) -> dict[int, list[Appointment]]:
    """For each closure, the confirmed consults (any practitioner) that overlap it."""
    if not closures:
        return {}
    lo = min(c.starts_at for c in closures)
    hi = max(c.ends_at for c in closures)
    consults = booked_during(lo, hi, None)
    return {
        c.id: [a for a in consults if a.starts_at < c.ends_at and a.ends_at > c.starts_at]
        for c in closures
    }
