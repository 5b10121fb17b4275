"""The pure scheduling core.

Rule of this package: it imports only the standard library (``datetime``, ``zoneinfo``,
``dataclasses``, ``bisect``, ...). No Flask, no SQLAlchemy, no clock, no environment. The
current time and every time zone are explicit arguments; inputs and outputs are frozen
dataclasses. All instants are timezone-aware and compared in UTC; wall-clock values (working
hours) are only ever interpreted through the zone they belong to. ``tests/scheduling`` holds
the property tests and a test that enforces the import rule.
"""

from clinic.scheduling.office_hours import add_office_minutes
from clinic.scheduling.ranges import Interval, merge, subtract
from clinic.scheduling.slots import (
    Availability,
    DayOverride,
    OpenTime,
    Rules,
    Slot,
    TimeRange,
    WeeklyRange,
    by_window,
    first_available,
    free_slots,
    nearest,
    slot_at,
    working_intervals,
)
from clinic.scheduling.wallclock import (
    DaySlots,
    group_by_day,
    instant_at,
    local_day_window,
    wall_range,
)

__all__ = [
    "Availability",
    "by_window",
    "DayOverride",
    "DaySlots",
    "Interval",
    "OpenTime",
    "Rules",
    "Slot",
    "TimeRange",
    "WeeklyRange",
    "add_office_minutes",
    "first_available",
    "free_slots",
    "group_by_day",
    "instant_at",
    "local_day_window",
    "merge",
    "nearest",
    "slot_at",
    "subtract",
    "wall_range",
    "working_intervals",
]
