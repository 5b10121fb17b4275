"""Helpers of the pages that open a consult by its secret link or offer free times: the
patient's booking and manage pages, the intake, and the staff console's pickers."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app

from clinic.availability.open_times import consult_type, kept_open_times, open_times
from clinic.booking import services
from clinic.booking.forms import SlotQueryForm
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.formatting import stored_zone
from clinic.scheduling import group_by_day, local_day_window
from clinic.web.fields import set_practitioner_choices


def appointment_or_404(token: str):
    try:
        return services.find_by_token(token, utc_now())
    except services.LinkExpired as expired:
        abort(410, description=str(expired))
    except services.HoldNotFound:
        abort(404, description="This booking link isn't valid. Please choose a time again.")


def picker_context(
    query: SlotQueryForm, practitioners, fixed_practitioner=None, moving=None, now=None
) -> dict:
    """Free times by day for a (validated or not) query, falling back to sensible defaults.

    ``days`` are the page's days (``BOOKING_DAYS_PER_PAGE``), each with its free times; the
    staff's pickers show them all. ``shown`` is the one whose times the patient's pages show,
    beside a strip of the days: the one asked for (``on``), else the first with free times.
    ``fixed_practitioner`` limits the times to one person (rescheduling keeps the practitioner);
    ``moving`` is the consult being rescheduled, which does not count against its own day.
    ``now``: the moment to work them out for (by default the clock's).
    """
    settings = clinic_settings()
    set_practitioner_choices(query.practitioner, practitioners)
    query.validate()
    zone = (None if query.tz.errors else query.tz.zone) or stored_zone(settings.timezone)
    query.tz.data = zone.key
    if fixed_practitioner is not None:
        practitioners, practitioner_id = [fixed_practitioner], fixed_practitioner.id
    else:
        practitioner_id = None if query.practitioner.errors else query.practitioner.practitioner_id
    now = now or utc_now()
    today = now.astimezone(zone).date()
    last_day = today + timedelta(days=settings.horizon_days)
    per_page = current_app.config["BOOKING_DAYS_PER_PAGE"]
    first_day = query.day.data if query.day.data and not query.day.errors else today
    first_day = max(today, min(first_day, last_day))
    days = [first_day + timedelta(days=i) for i in range(per_page)]
    window = local_day_window(first_day, per_page, zone)
    kind = consult_type()
    if moving is None:
        times, valid_until = kept_open_times(practitioners, practitioner_id, window, now, kind)
    else:  # not kept as a page: worked out for this consult
        times = open_times(practitioners, practitioner_id, window, now, moving.id, kind)
        times, valid_until = [t for t in times if t.start != moving.starts_at], now
    earlier = first_day - timedelta(days=per_page)
    later = first_day + timedelta(days=per_page)
    grouped = group_by_day(times, zone, days)
    asked = query.on.data if not query.on.errors else None
    shown = next((d for d in grouped if d.day == asked), None)
    if shown is None:
        shown = next((d for d in grouped if d.items), grouped[0])
    return dict(
        settings=settings,
        minutes=kind.duration_minutes,  # read here: rendering reads no database
        query=query,
        zone=zone,
        chosen=next((p for p in practitioners if p.id == practitioner_id), None),
        first_day=first_day,
        valid_until=valid_until,  # the free times on the page stay as they are until then
        days=grouped,
        shown=shown,
        earlier=max(earlier, today) if first_day > today else None,
        later=later if later <= last_day else None,
    )
