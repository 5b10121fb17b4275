"""Clinic closures: time nobody works (holidays), in the clinic's zone. Admins and front desk."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from clinic.accounts.access import DESK_OR_ADMIN, roles_required
from clinic.availability import changes as services
from clinic.availability.checks import AvailabilityError, booked_in_closures
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.formatting import parse_zone
from clinic.core.models import TimeOff
from clinic.staff import bp
from clinic.staff.availability.forms import TimeOffForm
from clinic.web.client_address import client_address
from clinic.web.fields import show_refusal


def _zone():
    return parse_zone(clinic_settings().timezone) or parse_zone("UTC")


def _page(form: TimeOffForm | None = None, status: int = 200):
    closures = db.session.scalars(
        sa.select(TimeOff)
        .where(TimeOff.practitioner_id.is_(None), TimeOff.ends_at > utc_now())
        .order_by(TimeOff.starts_at)
    ).all()
    page = render_template(
        "staff/closures.html",
        zone=_zone(),
        closures=closures,
        booked=booked_in_closures(list(closures)),
        form=form or TimeOffForm(formdata=None),
    )
    return page, status


@bp.get("/closures")
@roles_required(*DESK_OR_ADMIN)
def closures():
    """Upcoming clinic closures, with the booked consults each one covers."""
    return _page()


@bp.post("/closures")
@roles_required(*DESK_OR_ADMIN)
def add_closure():
    form = TimeOffForm()
    if form.validate_on_submit():
        try:
            covered = services.add_closure(
                current_user,
                form.starts.data,
                form.ends.data,
                _zone(),
                form.reason.data or "",
                utc_now(),
                address=client_address(),
            )
        except AvailabilityError as problem:
            show_refusal(form, problem)
        else:
            flash("The closure is saved: no free times are offered during it.")
            if covered:
                refs = ", ".join(a.reference for a in covered)
                flash(
                    f"It covers booked consults that were not cancelled: {refs}. They are "
                    "listed under the closure."
                )
            return redirect(url_for("staff.closures"), code=303)
    return _page(form, 422)


@bp.post("/closures/<int:closure_id>/remove")
@roles_required(*DESK_OR_ADMIN)
def remove_closure(closure_id: int):
    if not services.remove_closure(current_user, closure_id, utc_now(), address=client_address()):
        abort(404, description="There is no such closure.")
    flash("The closure is removed.")
    return redirect(url_for("staff.closures"), code=303)
