"""The schedule: whose consults to show (today and week views), and the week as a grid.

Every time is in the clinic's zone. A practitioner's account shows their own consults unless
asked for the whole clinic (``?practitioner=all``); other roles start with the whole clinic.
"""

from __future__ import annotations

from datetime import time
from typing import TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user
from sqlalchemy.orm import joinedload

from clinic.accounts.access import ANY_STAFF, roles_required
from clinic.accounts.services import practitioners_without_account
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.formatting import parse_zone
from clinic.core.models import Appointment, Practitioner, Role, Status
from clinic.intake.open_alerts import open_alerts
from clinic.scheduling import Interval, WeeklyRange, local_day_window
from clinic.staff import bp
from clinic.staff.schedule.forms import WHOLE_CLINIC, ScheduleFilterForm, WeekQueryForm
from clinic.staff.schedule.week_layout import hours_in_week, layout_week, week_window

# Consults staff see on the schedule: booked ones and what became of them (never holds).
SHOWN = (Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED)

F = TypeVar("F", bound=ScheduleFilterForm)


def practitioners(with_hours: bool = False) -> list[Practitioner]:
    """Everyone who may have consults on the schedule, active ones first, by name; with their
    weekly hours loaded in the same statement if asked."""
    stmt = sa.select(Practitioner).order_by(Practitioner.active.desc(), Practitioner.name)
    if with_hours:
        stmt = stmt.options(joinedload(Practitioner.hours))
    return list(db.session.scalars(stmt).unique())


def own_practitioner_id() -> int | None:
    """The signed-in practitioner's own practitioner record, if they have one."""
    if current_user.role == Role.PRACTITIONER:
        return current_user.practitioner_id
    return None


def schedule_query(form_class: type[F], people: list[Practitioner]) -> F:
    """The filter form read from the query string, defaulting to the user's own consults."""
    own = own_practitioner_id()
    default = WHOLE_CLINIC if own is None else str(own)
    form = form_class(formdata=request.args, practitioner=default)
    form.set_practitioners(people)
    return form


def chosen_practitioner_id(query: ScheduleFilterForm) -> int | None:
    """Whose consults a validated filter chose; the user's own default when that choice was
    refused."""
    return own_practitioner_id() if query.practitioner.errors else query.practitioner_id


def consults_between(window: Interval, practitioner_id: int | None) -> list[Appointment]:
    """Consults starting in ``window`` (one practitioner's, or all), with patient and
    practitioner loaded in the same statement."""
    stmt = (
        sa.select(Appointment)
        .where(
            Appointment.starts_at >= window.start,
            Appointment.starts_at < window.end,
            Appointment.status.in_([s.value for s in SHOWN]),
        )
        .options(joinedload(Appointment.patient), joinedload(Appointment.practitioner))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if practitioner_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == practitioner_id)
    return list(db.session.scalars(stmt))


def filtered(window: Interval) -> tuple[ScheduleFilterForm, list[Appointment] | None]:
    """The filter form and the chosen consults starting in ``window``; None when the form
    is invalid."""
    query = schedule_query(ScheduleFilterForm, practitioners())
    if not query.validate():
        return query, None
    return query, consults_between(window, query.practitioner_id)


def weekly_hours(
    people: list[Practitioner], practitioner_id: int | None
) -> list[tuple[ZoneInfo, WeeklyRange]]:
    """Active practitioners' weekly hours (``people`` loaded with them), each with its
    practitioner's zone."""
    found: list[tuple[ZoneInfo, WeeklyRange]] = []
    for person in people:
        zone = parse_zone(person.timezone)
        if not person.active or practitioner_id not in (None, person.id) or zone is None:
            continue
        found.extend(
            (zone, WeeklyRange(r.weekday, r.start_time, r.end_time))
            for r in person.hours
            if r.end_time > r.start_time or r.end_time == time(0)
        )
    return found


@bp.get("/week")
@roles_required(*ANY_STAFF)
def week():
    """The week (Monday to Sunday, clinic's zone) containing ``day``, as a grid of consults;
    above it, the consults with alerts nobody has acknowledged yet."""
    settings = clinic_settings()
    zone = parse_zone(settings.timezone)
    now = utc_now()
    today = now.astimezone(zone).date()
    people = practitioners(with_hours=True)
    query = schedule_query(WeekQueryForm, people)
    context = dict(settings=settings, zone=zone, today=today, query=query, layout=None)
    valid = query.validate()
    context.update(alerts=open_alerts(chosen_practitioner_id(query)), now=now)
    if not valid:
        return render_template("staff/week.html", **context), 422
    day = query.day.data or today
    query.day.data = day
    chosen = query.practitioner_id
    consults = consults_between(week_window(day, zone), chosen)
    hours = hours_in_week(weekly_hours(people, chosen), day, zone)
    context.update(
        layout=layout_week(consults, zone, day, hours),
        chosen=next((p for p in people if p.id == chosen), None),
    )
    return render_template("staff/week.html", **context)


@bp.get("/")
@roles_required(*ANY_STAFF)
def home():
    """Today's consults in the clinic's zone, urgent ones marked: one practitioner's or all;
    above them, every consult of theirs with an alert nobody has acknowledged yet, and for
    admins, the practitioners who get alerts but have no account to open them with."""
    settings = clinic_settings()
    zone = parse_zone(settings.timezone)
    now = utc_now()
    today = now.astimezone(zone).date()
    query, consults = filtered(local_day_window(today, 1, zone))
    alerts = open_alerts(chosen_practitioner_id(query))
    return render_template(
        "staff/home.html",
        settings=settings,
        zone=zone,
        now=now,
        today=today,
        consults=consults,
        query=query,
        alerts=alerts,
        alerted={entry.appointment.id for entry in alerts},
        unlinked=practitioners_without_account() if current_user.role == Role.ADMIN else [],
    ), (422 if consults is None else 200)
