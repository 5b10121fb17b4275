"""Rows the staff route walk needs to find on the availability pages."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import HoursOverride, HoursOverrideRange, TimeOff, WorkingHours


def availability_places(practitioner_id: int) -> dict[str, int]:
    """Ids of one weekly range, time off, override and clinic closure (the first three the
    practitioner's own), for the URLs of the remove buttons."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    off = TimeOff(
        practitioner_id=practitioner_id, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    closure = TimeOff(practitioner_id=None, starts_at=start, ends_at=start + timedelta(days=1))
    override = HoursOverride(
        practitioner_id=practitioner_id,
        day=start.date() + timedelta(days=2),
        ranges=[HoursOverrideRange(start_time=time(9), end_time=time(12))],
    )
    db.session.add_all([off, closure, override])
    db.session.commit()
    hours = db.session.scalar(
        sa.select(WorkingHours.id).where(WorkingHours.practitioner_id == practitioner_id).limit(1)
    )
    return {
        "ada_hours": hours,
        "ada_off": off.id,
        "ada_override": override.id,
        "closure": closure.id,
    }
