"""Changing availability: weekly hours, time off, one-day overrides and clinic closures.

Each public function owns its transaction: it takes the write lock the booking path takes
(so no consult is booked into time being taken away while the change is made), checks, writes,
audits and commits once, or raises ``AvailabilityError`` having changed nothing. Wall-clock
values are in the practitioner's zone, or the clinic's for closures. A change never cancels a
consult: it returns the confirmed ones it left outside working time, for staff to deal with.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from functools import wraps
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.availability.checks import (
    WEEKDAYS,
    AvailabilityError,
    Range,
    booked_during,
    booked_outside_hours,
    check_day,
    check_no_overlap,
    check_range,
    local_span,
    range_label,
)
from clinic.core.audit import audit
from clinic.core.database import begin_write, lock_rows
from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    HoursOverride,
    HoursOverrideRange,
    Practitioner,
    StaffUser,
    TimeOff,
    WorkingHours,
)

P = ParamSpec("P")
R = TypeVar("R")


def _one_transaction(change: Callable[P, R]) -> Callable[P, R]:
    """Whatever goes wrong, leave nothing half-written and release the write lock."""

    @wraps(change)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return change(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return run


def _locked_practitioner(practitioner_id: int) -> Practitioner:
    begin_write()
    lock_rows(Practitioner, [practitioner_id])
    return db.get_or_404(Practitioner, practitioner_id)


def _finish(
    user: StaffUser,
    practitioner: Practitioner,
    action: str,
    detail: str,
    before: set[int] | None,
    now: datetime,
    address: str,
) -> list[Appointment]:
    """Audit and commit the change; return the consults it newly left outside working time
    (none looked for when ``before`` is None: the change only gave time back)."""
    db.session.flush()
    after = [] if before is None else booked_outside_hours(practitioner, now)
    subject = f"practitioner {practitioner.id}"
    audit(action, user, subject=subject, detail=detail, now=now, address=address, commit=False)
    db.session.commit()
    return [a for a in after if a.id not in (before or set())]


def _outside_ids(practitioner: Practitioner, now: datetime) -> set[int]:
    return {a.id for a in booked_outside_hours(practitioner, now)}


@_one_transaction
def add_weekly_hours(
    user: StaffUser,
    practitioner_id: int,
    weekday: int,
    start: time,
    end: time,
    now: datetime,
    *,
    address: str,
) -> list[Appointment]:
    practitioner = _locked_practitioner(practitioner_id)
    check_range(start, end, "end")
    same_day = [(h.start_time, h.end_time) for h in practitioner.hours if h.weekday == weekday]
    check_no_overlap((start, end), same_day, "start", WEEKDAYS[weekday])
    practitioner.hours.append(WorkingHours(weekday=weekday, start_time=start, end_time=end))
    detail = f"added {WEEKDAYS[weekday]} {range_label(start, end)}"
    return _finish(user, practitioner, "hours_changed", detail, None, now, address)


@_one_transaction
def remove_weekly_hours(
    user: StaffUser, practitioner_id: int, hours_id: int, now: datetime, *, address: str
) -> list[Appointment] | None:
    """None when the practitioner has no such range."""
    practitioner = _locked_practitioner(practitioner_id)
    row = next((h for h in practitioner.hours if h.id == hours_id), None)
    if row is None:
        db.session.rollback()
        return None
    before = _outside_ids(practitioner, now)
    practitioner.hours.remove(row)
    detail = f"removed {WEEKDAYS[row.weekday]} {range_label(row.start_time, row.end_time)}"
    return _finish(user, practitioner, "hours_changed", detail, before, now, address)


@_one_transaction
def add_time_off(
    user: StaffUser,
    practitioner_id: int,
    starts: datetime,
    ends: datetime,
    reason: str,
    now: datetime,
    *,
    address: str,
) -> list[Appointment]:
    """Time off from ``starts`` to ``ends``, wall-clock times in the practitioner's zone."""
    practitioner = _locked_practitioner(practitioner_id)
    start, end = local_span(starts, ends, ZoneInfo(practitioner.timezone), now)
    before = _outside_ids(practitioner, now)
    db.session.add(
        TimeOff(practitioner_id=practitioner.id, starts_at=start, ends_at=end, reason=reason)
    )
    detail = f"{starts:%Y-%m-%d %H:%M} to {ends:%Y-%m-%d %H:%M} {practitioner.timezone}"
    return _finish(user, practitioner, "time_off_added", detail, before, now, address)


@_one_transaction
def remove_time_off(
    user: StaffUser, practitioner_id: int, time_off_id: int, now: datetime, *, address: str
) -> bool:
    """False when the practitioner has no such time off."""
    practitioner = _locked_practitioner(practitioner_id)
    row = db.session.get(TimeOff, time_off_id)
    if row is None or row.practitioner_id != practitioner.id:
        db.session.rollback()
        return False
    db.session.delete(row)
    detail = f"{row.starts_at:%Y-%m-%d %H:%M} to {row.ends_at:%Y-%m-%d %H:%M} UTC"
    _finish(user, practitioner, "time_off_removed", detail, None, now, address)
    return True


@_one_transaction
def add_override(
    user: StaffUser,
    practitioner_id: int,
    day: date,
    ranges: dict[str, Range],
    reason: str,
    now: datetime,
    *,
    address: str,
) -> list[Appointment]:
    """Hours for one local ``day`` in place of the weekly ones; no ranges: not working.

    ``ranges`` maps the form field of each range's start to the range, to place messages.
    """
    practitioner = _locked_practitioner(practitioner_id)
    today = now.astimezone(ZoneInfo(practitioner.timezone)).date()
    check_day(day, today, "day", earliest=today)
    taken = db.session.scalar(
        sa.select(HoursOverride.id).where(
            HoursOverride.practitioner_id == practitioner.id, HoursOverride.day == day
        )
    )
    if taken is not None:
        raise AvailabilityError("day", "That day already has its own hours: remove them first.")
    checked: list[Range] = []
    for field, (start, end) in ranges.items():
        check_range(start, end, field.replace("start", "end"))
        check_no_overlap((start, end), checked, field, "the range")
        checked.append((start, end))
    before = _outside_ids(practitioner, now)
    db.session.add(
        HoursOverride(
            practitioner_id=practitioner.id,
            day=day,
            reason=reason,
            ranges=[HoursOverrideRange(start_time=a, end_time=b) for a, b in sorted(checked)],
        )
    )
    hours = ", ".join(range_label(a, b) for a, b in sorted(checked)) or "not working"
    return _finish(user, practitioner, "override_added", f"{day}: {hours}", before, now, address)


@_one_transaction
def remove_override(
    user: StaffUser, practitioner_id: int, override_id: int, now: datetime, *, address: str
) -> list[Appointment] | None:
    """None when the practitioner has no such override, else the consults left outside."""
    practitioner = _locked_practitioner(practitioner_id)
    row = db.session.get(HoursOverride, override_id)
    if row is None or row.practitioner_id != practitioner.id:
        db.session.rollback()
        return None
    before = _outside_ids(practitioner, now)
    db.session.delete(row)
    return _finish(user, practitioner, "override_removed", f"{row.day}", before, now, address)


@_one_transaction
def add_closure(
    user: StaffUser,
    starts: datetime,
    ends: datetime,
    zone: ZoneInfo,
    reason: str,
    now: datetime,
    *,
    address: str,
) -> list[Appointment]:
    """Close the clinic from ``starts`` to ``ends`` (wall-clock, the clinic's ``zone``).

    Returns the confirmed consults it covers.
    """
    begin_write()
    lock_rows(Practitioner, db.session.scalars(sa.select(Practitioner.id)).all())
    start, end = local_span(starts, ends, zone, now)
    db.session.add(TimeOff(practitioner_id=None, starts_at=start, ends_at=end, reason=reason))
    detail = f"{starts:%Y-%m-%d %H:%M} to {ends:%Y-%m-%d %H:%M} {zone.key}"
    audit(
        "closure_added",
        user,
        subject="clinic",
        detail=detail,
        now=now,
        address=address,
        commit=False,
    )
    covered = booked_during(start, end, None)
    db.session.commit()
    return covered


@_one_transaction
def remove_closure(user: StaffUser, closure_id: int, now: datetime, *, address: str) -> bool:
    begin_write()
    row = db.session.get(TimeOff, closure_id)
    if row is None or row.practitioner_id is not None:
        db.session.rollback()
        return False
    detail = f"{row.starts_at:%Y-%m-%d %H:%M} to {row.ends_at:%Y-%m-%d %H:%M} UTC"
    db.session.delete(row)
    audit(
        "closure_removed",
        user,
        subject="clinic",
        detail=detail,
        now=now,
        address=address,
        commit=False,
    )
    db.session.commit()
    return True
