"""Booking a consult for a patient on the phone: choose a free time, then their details.

No hold is taken while staff type: the booking re-checks the time under the practitioner's
lock (invariant 1) and offers the nearest free times if someone took it meanwhile.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic.accounts.access import DESK_OR_ADMIN, roles_required
from clinic.availability.open_times import active_practitioners
from clinic.booking.forms import SlotQueryForm
from clinic.booking.pages import picker_context
from clinic.booking.services import NotBookable, PatientDetails, SlotTaken
from clinic.booking.staff_booking import book_for_patient
from clinic.core.clock import utc_now
from clinic.core.formatting import when_label
from clinic.core.links import uid_domain
from clinic.core.models import Practitioner
from clinic.staff import bp
from clinic.staff.consults.forms import PhoneBookingForm
from clinic.web.client_address import client_address
from clinic.web.fields import set_practitioner_choices


@bp.get("/book")
@roles_required(*DESK_OR_ADMIN)
def phone_booking():
    """Free times by day, shown in the patient's zone (the clinic's until staff choose)."""
    return _render_picker(SlotQueryForm(formdata=request.args))


@bp.route("/book/details", methods=["GET", "POST"])
@roles_required(*DESK_OR_ADMIN)
def phone_booking_details():
    """The chosen time (from the picker's GET form) and the patient's details."""
    practitioners = active_practitioners()
    form = PhoneBookingForm(formdata=request.values)
    set_practitioner_choices(form.practitioner, practitioners)
    time_errors = _time_errors(form)
    if time_errors:
        query = SlotQueryForm(formdata=request.values)
        return _render_picker(query, status=422, message=" ".join(time_errors))
    if request.method == "GET":
        return _render_details(form, practitioners)
    if not form.validate():
        return _render_details(form, practitioners, 422)
    details = PatientDetails(form.name.data, form.email.data, form.phone.data or "")
    try:
        booked = book_for_patient(
            form.practitioner.practitioner_id,
            form.start.data,
            form.tz.zone,
            details,
            current_user,
            utc_now(),
            uid_domain(),
            address=client_address(),
        )
    except SlotTaken as taken:
        return _render_details(form, practitioners, 409, taken.alternatives)
    except NotBookable as problem:
        query = SlotQueryForm(formdata=request.values)
        return _render_picker(query, status=422, message=str(problem))
    flash(
        f"Booked {booked.reference} for {booked.patient.name} on "
        f"{when_label(booked.starts_at, form.tz.zone)}. They have been emailed the "
        "confirmation, the calendar invite and the link to the health questionnaire."
    )
    return redirect(url_for("staff.consult", reference=booked.reference), code=303)


def _time_errors(form: PhoneBookingForm) -> list[str]:
    """Errors in the chosen time itself (as opposed to the patient's details)."""
    fields = (form.practitioner, form.tz, form.start)
    return [e for field in fields if not field.validate(form) for e in field.errors]


def _render_details(
    form: PhoneBookingForm, practitioners: list[Practitioner], status: int = 200, taken=None
):
    """The details form; ``taken`` are the nearest free times when the chosen one went."""
    chosen = next((p for p in practitioners if p.id == form.practitioner.practitioner_id), None)
    return render_template(
        "staff/phone_details.html", form=form, chosen=chosen, zone=form.tz.zone, taken=taken
    ), status


def _render_picker(query: SlotQueryForm, *, status=200, taken=None, message=None):
    practitioners = active_practitioners()
    context = picker_context(query, practitioners)
    form = PhoneBookingForm(
        formdata=None, practitioner=query.practitioner.data, tz=context["zone"].key
    )
    set_practitioner_choices(form.practitioner, practitioners)
    return render_template(
        "staff/phone_book.html", form=form, taken=taken, message=message, **context
    ), status
