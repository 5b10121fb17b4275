"""The admin's settings pages: the clinic's settings, practitioners and consult types."""

from __future__ import annotations

from dataclasses import fields

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from clinic.accounts.access import roles_required
from clinic.availability.checks import booked_outside_hours
from clinic.availability.open_times import DEFAULT_CONSULT
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.formatting import parse_zone
from clinic.core.models import ConsultType, Practitioner, Role
from clinic.intake.crisis_help import followup_text
from clinic.setup.changes import (
    SETTINGS_FIELDS,
    PractitionerDetails,
    SettingsProblem,
    add_practitioner,
    change_consult_type,
    change_practitioner,
    change_settings,
)
from clinic.staff import bp
from clinic.staff.admin.forms import ClinicSettingsForm, ConsultTypeForm, PractitionerForm
from clinic.web.client_address import client_address

ADMIN = Role.ADMIN.value
PRACTITIONER_FIELDS = tuple(f.name for f in fields(PractitionerDetails))


def _saved(changed: list[str], what: str) -> None:
    flash(f"{what} saved." if changed else "Nothing changed.")


def _refused(form, problem: SettingsProblem) -> None:
    form[problem.field].errors = [*form[problem.field].errors, str(problem)]


def _status(form) -> int:
    return 422 if form.is_submitted() else 200


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(ADMIN)
def settings():
    """The clinic's settings; each change is audited by field name."""
    current = clinic_settings()
    form = ClinicSettingsForm(obj=current)
    if form.validate_on_submit():
        values = {name: form[name].data for name in SETTINGS_FIELDS}
        _saved(
            change_settings(values, current_user, utc_now(), address=client_address()),
            "The settings were",
        )
        return redirect(url_for("staff.settings"), code=303)
    return render_template(
        "staff/settings.html",
        form=form,
        settings=current,
        zone=parse_zone(current.timezone),
        followup=followup_text(current),
    ), _status(form)


@bp.get("/practitioners")
@roles_required(ADMIN)
def practitioners():
    """Every practitioner, active or not, with links to their details and hours."""
    people = db.session.scalars(sa.select(Practitioner).order_by(Practitioner.name)).all()
    return render_template(
        "staff/practitioners.html", practitioners=people, settings=clinic_settings()
    )


@bp.route("/practitioners/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def new_practitioner():
    """Add a practitioner; their working hours are set afterwards on their availability page."""
    settings = clinic_settings()
    form = PractitionerForm(data={"timezone": settings.timezone})
    if form.validate_on_submit():
        details = PractitionerDetails(**{name: form[name].data for name in PRACTITIONER_FIELDS})
        try:
            added = add_practitioner(details, current_user, utc_now(), address=client_address())
        except SettingsProblem as problem:
            _refused(form, problem)
        else:
            flash(f"{added.name} was added. Next, set their working hours.")
            return redirect(url_for("staff.edit_practitioner", practitioner_id=added.id), code=303)
    return render_template(
        "staff/practitioner_form.html", form=form, practitioner=None, settings=settings
    ), _status(form)


@bp.route("/practitioners/<int:practitioner_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_practitioner(practitioner_id: int):
    """A practitioner's details, name to video link; whether they take new bookings."""
    practitioner = db.get_or_404(
        Practitioner, practitioner_id, description="There is no practitioner with that number."
    )
    form = PractitionerForm(obj=practitioner)
    if form.validate_on_submit():
        details = PractitionerDetails(**{name: form[name].data for name in PRACTITIONER_FIELDS})
        try:
            changed = change_practitioner(
                practitioner, details, current_user, utc_now(), address=client_address()
            )
        except SettingsProblem as problem:
            _refused(form, problem)
        else:
            _saved(changed, f"{practitioner.name}'s details were")
            if "timezone" in changed and booked_outside_hours(practitioner, utc_now()):
                flash(
                    "In the new time zone some booked consults fall outside their working "
                    "hours. Nothing was cancelled: see their availability page to move them."
                )
            return redirect(
                url_for("staff.edit_practitioner", practitioner_id=practitioner.id), code=303
            )
    return render_template(
        "staff/practitioner_form.html",
        form=form,
        practitioner=practitioner,
        settings=clinic_settings(),
    ), _status(form)


@bp.get("/consult-types")
@roles_required(ADMIN)
def consult_types():
    """The kinds of consult and their lengths; patients book the free consult online."""
    kinds = db.session.scalars(sa.select(ConsultType).order_by(ConsultType.name)).all()
    return render_template(
        "staff/consult_types.html",
        kinds=kinds,
        free=DEFAULT_CONSULT,
        settings=clinic_settings(),
    )


@bp.route("/consult-types/<int:kind_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_consult_type(kind_id: int):
    """A consult type's name, length and whether it is offered (the free consult always is)."""
    kind = db.get_or_404(ConsultType, kind_id, description="There is no such consult type.")
    form = ConsultTypeForm(obj=kind)
    is_free = kind.slug == DEFAULT_CONSULT
    if is_free:
        del form.active  # the free consult always stays offered
    if form.validate_on_submit():
        try:
            changed = change_consult_type(
                kind,
                form.name.data,
                form.duration_minutes.data,
                True if is_free else form.active.data,
                current_user,
                utc_now(),
                address=client_address(),
            )
        except SettingsProblem as problem:
            _refused(form, problem)
        else:
            _saved(changed, f"{kind.name} was")
            return redirect(url_for("staff.edit_consult_type", kind_id=kind.id), code=303)
    return render_template(
        "staff/consult_type_form.html",
        form=form,
        kind=kind,
        is_free=is_free,
        settings=clinic_settings(),
    ), _status(form)
