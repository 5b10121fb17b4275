"""Calendars on /staff/calendar: the feed of booked consults each practitioner subscribes to,
and the practitioner's own calendars whose busy times booking keeps clear. Practitioners see
and change their own, admins everyone's."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from clinic.accounts.access import roles_required
from clinic.calendar import feed as feeds
from clinic.core.audit import audit
from clinic.core.clock import utc_now
from clinic.core.database import MAX_ROW_ID
from clinic.core.extensions import db
from clinic.core.formatting import stored_zone
from clinic.core.models import CalendarConnection, Practitioner, Role
from clinic.own_calendars import connections
from clinic.own_calendars.secrets import SecretsUnavailable
from clinic.staff import bp
from clinic.staff.schedule.forms import FeedForm
from clinic.web.client_address import client_address
from clinic.web.fields import show_refusal

STAFF_WITH_CALENDARS = (Role.ADMIN.value, Role.PRACTITIONER.value)


def _visible() -> list[Practitioner]:
    stmt = sa.select(Practitioner).order_by(Practitioner.name)
    if current_user.role != Role.ADMIN:
        stmt = stmt.where(Practitioner.id == current_user.practitioner_id)
    return list(db.session.scalars(stmt))


def _page(forms: dict[int, FeedForm] | None = None, status: int = 200):
    practitioners = _visible()
    urls = {p.id: feeds.feed_url(p) for p in practitioners}
    db.session.commit()  # keeps a secret made on first view
    stale = timedelta(hours=current_app.config["CALENDAR_STALE_HOURS"])
    own = connections.statuses([p.id for p in practitioners], utc_now(), stale)
    forms = forms or {}
    for p in practitioners:
        forms.setdefault(p.id, _feed_form(p.id, formdata=None))
    page = render_template(
        "staff/calendars.html",
        practitioners=practitioners,
        urls=urls,
        own=own,
        forms=forms,
        zones={p.id: stored_zone(p.timezone) for p in practitioners},
    )
    return page, status


def _feed_form(practitioner_id: int, **kwargs) -> FeedForm:
    """The form for one practitioner's section: its fields' ids are made unique on the page
    (their names stay plain: each section posts to its own address)."""
    form = FeedForm(**kwargs)
    for field in (form.label, form.url):
        field.id = field.label.field_id = f"feed-{practitioner_id}-{field.name}"
    return form


def _forget_address(form: FeedForm) -> None:
    """A refused form is shown again without the address typed: it is a secret."""
    form.url.raw_data, form.url.data = None, ""


def _editable(practitioner_id: int) -> Practitioner:
    practitioner = next((p for p in _visible() if p.id == practitioner_id), None)
    if practitioner is None:
        abort(404, description="There is no such calendar you can change.")
    return practitioner


def _connection(connection_id: int) -> CalendarConnection:
    if not 0 < connection_id <= MAX_ROW_ID:  # a number no row can have (and SQLite can't bind)
        abort(404, description="There is no such calendar.")
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None:
        abort(404, description="There is no such calendar.")
    _editable(connection.practitioner_id)
    return connection


@bp.get("/calendar")
@roles_required(*STAFF_WITH_CALENDARS)
def calendars():
    return _page()


@bp.post("/calendar/<int:practitioner_id>/rotate")
@roles_required(*STAFF_WITH_CALENDARS)
def rotate_calendar(practitioner_id: int):
    practitioner = _editable(practitioner_id)
    feeds.rotate(practitioner)
    audit(
        "calendar_feed_rotated",
        current_user,
        subject=f"practitioner {practitioner.id}",
        now=utc_now(),
        address=client_address(),
    )
    flash(
        f"{practitioner.name}'s calendar has a new address. Subscribe to it again; "
        "the old address no longer works."
    )
    return redirect(url_for("staff.calendars"), code=303)


@bp.post("/calendar/<int:practitioner_id>/own")
@roles_required(*STAFF_WITH_CALENDARS)
def add_own_calendar(practitioner_id: int):
    practitioner = _editable(practitioner_id)
    form = _feed_form(practitioner_id)
    if form.validate_on_submit():
        try:
            connections.add_feed(
                practitioner_id,
                form.label.data,
                form.url.data,
                current_user,
                utc_now(),
                address=client_address(),
            )
        except connections.ConnectionRefused as problem:
            show_refusal(form, problem)
        except SecretsUnavailable as problem:
            form.url.errors = [*form.url.errors, str(problem)]
        else:
            flash(
                f"{form.label.data} is connected to {practitioner.name}'s schedule; its busy "
                "times are read within a few minutes."
            )
            return redirect(url_for("staff.calendars"), code=303)
    _forget_address(form)
    return _page({practitioner_id: form}, 422)


@bp.post("/calendar/own/<int:connection_id>/sync")
@roles_required(*STAFF_WITH_CALENDARS)
def sync_own_calendar(connection_id: int):
    connection = _connection(connection_id)
    connections.read_again_soon(connection, utc_now())
    flash(f"{connection.label} will be read again within a minute.")
    return redirect(url_for("staff.calendars"), code=303)


@bp.post("/calendar/own/<int:connection_id>/remove")
@roles_required(*STAFF_WITH_CALENDARS)
def remove_own_calendar(connection_id: int):
    connection = _connection(connection_id)
    label = connection.label
    connections.remove(connection, current_user, utc_now(), address=client_address())
    flash(f"{label} is disconnected; its busy times no longer block bookings.")
    return redirect(url_for("staff.calendars"), code=303)
