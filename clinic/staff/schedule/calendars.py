"""Calendars on /staff/calendar: the feed of booked consults each practitioner subscribes to,
and the practitioner's own calendars whose busy times booking keeps clear. Practitioners see
and change their own, admins everyone's."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from clinic.accounts.access import roles_required
from clinic.calendar import feed as feeds
from clinic.core.audit import audit
from clinic.core.clock import utc_now
from clinic.core.database import MAX_ROW_ID
from clinic.core.extensions import db
from clinic.core.formatting import stored_zone
from clinic.core.models import CalendarConnection, ConnectionKind, Practitioner, Role
from clinic.own_calendars import connections
from clinic.own_calendars.secrets import SecretsUnavailable
from clinic.staff import bp
from clinic.staff.schedule.forms import AccountForm, CalendarsForm, FeedForm
from clinic.web.client_address import client_address
from clinic.web.fields import show_refusal

STAFF_WITH_CALENDARS = (Role.ADMIN.value, Role.PRACTITIONER.value)


def _visible() -> list[Practitioner]:
    stmt = sa.select(Practitioner).order_by(Practitioner.name)
    if current_user.role != Role.ADMIN:
        stmt = stmt.where(Practitioner.id == current_user.practitioner_id)
    return list(db.session.scalars(stmt))


def _page(forms: dict[tuple[str, int], FlaskForm] | None = None, status: int = 200):
    """The page; ``forms`` keeps refused forms, by ("feed"|"account", practitioner) or
    ("calendars", connection), to be shown again with their messages."""
    practitioners = _visible()
    urls = {p.id: feeds.feed_url(p) for p in practitioners}
    db.session.commit()  # keeps a secret made on first view
    stale = timedelta(hours=current_app.config["CALENDAR_STALE_HOURS"])
    own = connections.statuses([p.id for p in practitioners], utc_now(), stale)
    forms = forms or {}
    for p in practitioners:
        forms.setdefault(("feed", p.id), _form(FeedForm, f"feed-{p.id}"))
        forms.setdefault(("account", p.id), _form(AccountForm, f"account-{p.id}"))
        for status_ in own[p.id]:
            connection = status_.connection
            if connection.kind == ConnectionKind.CALDAV.value:
                key = ("calendars", connection.id)
                forms.setdefault(key, _calendars_form(connection, formdata=None))
    page = render_template(
        "staff/calendars.html",
        practitioners=practitioners,
        urls=urls,
        own=own,
        forms=forms,
        zones={p.id: stored_zone(p.timezone) for p in practitioners},
    )
    return page, status


F = TypeVar("F", bound=FlaskForm)


def _form(kind: type[F], prefix: str, **kwargs) -> F:
    """A form for one section: its fields' ids made unique on the page (their names stay
    plain: each section posts to its own address). Shown empty unless posted here."""
    kwargs.setdefault("formdata", None)
    form = kind(**kwargs)
    for field in form:
        if field.name != "csrf_token":
            field.id = field.label.field_id = f"{prefix}-{field.name}"
    return form


def _calendars_form(connection: CalendarConnection, **kwargs) -> CalendarsForm:
    form = _form(
        CalendarsForm,
        f"own-{connection.id}",
        data={"busy": connection.busy_calendars, "push": connection.push_calendar},
        **kwargs,
    )
    form.offer(connection.calendars)
    return form


def _forget_secrets(form: FlaskForm) -> None:
    """A refused form is shown again without the address or password typed: secrets."""
    for name in ("url", "password"):
        if name in form:
            form[name].raw_data, form[name].data = None, ""


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
    form = _form(FeedForm, f"feed-{practitioner_id}", formdata=request.form)
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
    _forget_secrets(form)
    return _page({("feed", practitioner_id): form}, 422)


@bp.post("/calendar/<int:practitioner_id>/account")
@roles_required(*STAFF_WITH_CALENDARS)
def add_own_account(practitioner_id: int):
    practitioner = _editable(practitioner_id)
    form = _form(AccountForm, f"account-{practitioner_id}", formdata=request.form)
    if form.validate_on_submit():
        db.session.rollback()  # the server is asked with no transaction open
        try:
            connections.add_account(
                practitioner_id,
                form.label.data,
                form.server_url.data,
                form.username.data,
                form.password.data,
                current_user,
                utc_now(),
                address=client_address(),
                allow_private=current_app.config["CALENDAR_ALLOW_PRIVATE_HOSTS"],
            )
        except connections.ConnectionRefused as problem:
            show_refusal(form, problem)
        except SecretsUnavailable as problem:
            form.password.errors = [*form.password.errors, str(problem)]
        else:
            flash(
                f"{form.label.data} is connected to {practitioner.name}'s schedule: all its "
                "calendars count as busy until you choose below; busy times are read within "
                "a few minutes."
            )
            return redirect(url_for("staff.calendars"), code=303)
    _forget_secrets(form)
    return _page({("account", practitioner_id): form}, 422)


@bp.post("/calendar/own/<int:connection_id>/calendars")
@roles_required(*STAFF_WITH_CALENDARS)
def choose_own_calendars(connection_id: int):
    connection = _connection(connection_id)
    if connection.kind != ConnectionKind.CALDAV.value:
        abort(404, description="There is no such calendar account.")
    form = _calendars_form(connection, formdata=request.form)
    if form.validate_on_submit():
        try:
            connections.choose_calendars(
                connection,
                list(form.busy.data or []),
                form.push.data or "",
                current_user,
                utc_now(),
                address=client_address(),
            )
        except connections.ConnectionRefused as problem:
            show_refusal(form, problem)
        else:
            flash(f"{connection.label}: your choice of calendars is saved.")
            return redirect(url_for("staff.calendars"), code=303)
    return _page({("calendars", connection_id): form}, 422)


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
