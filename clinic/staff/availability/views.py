"""Practitioners' availability: weekly hours, time off and one-day overrides.

Admins and the front desk may change anyone's; a practitioner only their own. Hours are
wall-clock times in the practitioner's own zone, and the pages say so.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from clinic.accounts.access import ANY_STAFF, roles_required
from clinic.availability import changes as services
from clinic.availability.checks import (
    WEEKDAYS,
    AvailabilityError,
    booked_outside_hours,
    range_label,
)
from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.formatting import day_label
from clinic.core.models import Appointment, HoursOverride, Practitioner, Role, TimeOff
from clinic.staff import bp
from clinic.staff.availability.forms import OverrideForm, TimeOffForm, WeeklyHoursForm
from clinic.web.client_address import client_address
from clinic.web.fields import show_refusal


def _editable(practitioner_id: int) -> Practitioner:
    """The practitioner whose availability this user may change, else 403 or 404."""
    if current_user.role == Role.PRACTITIONER and current_user.practitioner_id != practitioner_id:
        abort(403, description="You can see and change only your own availability.")
    return db.get_or_404(
        Practitioner, practitioner_id, description="There is no practitioner with that number."
    )


def flash_clashes(clashes: list[Appointment], what: str) -> None:
    if clashes:
        refs = ", ".join(a.reference for a in clashes)
        count = "1 booked consult" if len(clashes) == 1 else f"{len(clashes)} booked consults"
        flash(
            f"{what} leaves {count} outside working time: {refs}. Nothing was cancelled; "
            "see “Booked consults outside working time” to move or cancel them."
        )


def _page(practitioner: Practitioner, status: int = 200, **forms: FlaskForm):
    now = utc_now()
    zone = ZoneInfo(practitioner.timezone)
    today = now.astimezone(zone).date()
    time_off = db.session.scalars(
        sa.select(TimeOff)
        .where(TimeOff.practitioner_id == practitioner.id, TimeOff.ends_at > now)
        .order_by(TimeOff.starts_at)
    ).all()
    overrides = db.session.scalars(
        sa.select(HoursOverride)
        .where(HoursOverride.practitioner_id == practitioner.id, HoursOverride.day >= today)
        .options(selectinload(HoursOverride.ranges))
        .order_by(HoursOverride.day)
    ).all()
    closures = db.session.scalars(
        sa.select(TimeOff)
        .where(TimeOff.practitioner_id.is_(None), TimeOff.ends_at > now)
        .order_by(TimeOff.starts_at)
    ).all()
    hours = sorted(practitioner.hours, key=lambda h: (h.weekday, h.start_time))
    weekly = [(name, [h for h in hours if h.weekday == d]) for d, name in enumerate(WEEKDAYS)]
    page = render_template(
        "staff/availability.html",
        practitioner=practitioner,
        zone=zone,
        weekly=weekly,
        time_off=time_off,
        overrides=overrides,
        closures=closures,
        clashes=booked_outside_hours(practitioner, now),
        range_label=range_label,
        hours_form=forms.get("hours_form") or WeeklyHoursForm(formdata=None),
        off_form=forms.get("off_form") or TimeOffForm(formdata=None),
        override_form=forms.get("override_form") or OverrideForm(formdata=None),
    )
    return page, status


def _back(practitioner_id: int):
    return redirect(url_for("staff.availability", practitioner_id=practitioner_id), code=303)


@bp.get("/availability")
@roles_required(*ANY_STAFF)
def availability_index():
    """The practitioners whose availability this user may change."""
    stmt = sa.select(Practitioner).order_by(Practitioner.name)
    if current_user.role == Role.PRACTITIONER:
        stmt = stmt.where(Practitioner.id == current_user.practitioner_id)
    practitioners = db.session.scalars(stmt).all()
    return render_template("staff/availability_index.html", practitioners=practitioners)


@bp.get("/availability/<int:practitioner_id>")
@roles_required(*ANY_STAFF)
def availability(practitioner_id: int):
    return _page(_editable(practitioner_id))


@bp.post("/availability/<int:practitioner_id>/hours")
@roles_required(*ANY_STAFF)
def add_hours(practitioner_id: int):
    practitioner = _editable(practitioner_id)
    form = WeeklyHoursForm()
    if form.validate_on_submit():
        day, start, end = form.weekday.data, form.start.data, form.end.data
        try:
            services.add_weekly_hours(
                current_user, practitioner_id, day, start, end, utc_now(), address=client_address()
            )
        except AvailabilityError as problem:
            show_refusal(form, problem)
        else:
            flash(f"Added {WEEKDAYS[day]} {range_label(start, end)}, {practitioner.timezone}.")
            return _back(practitioner_id)
    return _page(practitioner, 422, hours_form=form)


@bp.post("/availability/<int:practitioner_id>/hours/<int:hours_id>/remove")
@roles_required(*ANY_STAFF)
def remove_hours(practitioner_id: int, hours_id: int):
    _editable(practitioner_id)
    clashes = services.remove_weekly_hours(
        current_user, practitioner_id, hours_id, utc_now(), address=client_address()
    )
    if clashes is None:
        abort(404, description="Those hours are not in this practitioner's week.")
    flash("Those weekly hours are removed.")
    flash_clashes(clashes, "Removing them")
    return _back(practitioner_id)


@bp.post("/availability/<int:practitioner_id>/time-off")
@roles_required(*ANY_STAFF)
def add_time_off(practitioner_id: int):
    practitioner = _editable(practitioner_id)
    form = TimeOffForm()
    if form.validate_on_submit():
        try:
            clashes = services.add_time_off(
                current_user,
                practitioner_id,
                form.starts.data,
                form.ends.data,
                form.reason.data or "",
                utc_now(),
                address=client_address(),
            )
        except AvailabilityError as problem:
            show_refusal(form, problem)
        else:
            flash("The time off is saved.")
            flash_clashes(clashes, "This time off")
            return _back(practitioner_id)
    return _page(practitioner, 422, off_form=form)


@bp.post("/availability/<int:practitioner_id>/time-off/<int:time_off_id>/remove")
@roles_required(*ANY_STAFF)
def remove_time_off(practitioner_id: int, time_off_id: int):
    _editable(practitioner_id)
    if not services.remove_time_off(
        current_user, practitioner_id, time_off_id, utc_now(), address=client_address()
    ):
        abort(404, description="That time off is not this practitioner's.")
    flash("The time off is removed.")
    return _back(practitioner_id)


@bp.post("/availability/<int:practitioner_id>/overrides")
@roles_required(*ANY_STAFF)
def add_override(practitioner_id: int):
    practitioner = _editable(practitioner_id)
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            clashes = services.add_override(
                current_user,
                practitioner_id,
                form.day.data,
                form.ranges(),
                form.note.data or "",
                utc_now(),
                address=client_address(),
            )
        except AvailabilityError as problem:
            show_refusal(form, problem)
        else:
            flash(f"{day_label(form.day.data)} has its own hours.")
            flash_clashes(clashes, "This day's new hours")
            return _back(practitioner_id)
    return _page(practitioner, 422, override_form=form)


@bp.post("/availability/<int:practitioner_id>/overrides/<int:override_id>/remove")
@roles_required(*ANY_STAFF)
def remove_override(practitioner_id: int, override_id: int):
    _editable(practitioner_id)
    clashes = services.remove_override(
        current_user, practitioner_id, override_id, utc_now(), address=client_address()
    )
    if clashes is None:
        abort(404, description="That day's hours are not this practitioner's.")
    flash("That day is back to the weekly hours.")
    flash_clashes(clashes, "Going back to the weekly hours")
    return _back(practitioner_id)
