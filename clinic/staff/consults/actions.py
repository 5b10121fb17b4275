"""Staff actions on a consult's page: cancel, reschedule, mark the outcome, add a note,
acknowledge an intake alert."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from clinic.accounts.access import ANY_STAFF, can_act_on, roles_required
from clinic.booking import lifecycle
from clinic.booking.forms import SlotQueryForm
from clinic.booking.pages import picker_context
from clinic.booking.services import NotBookable, SlotTaken
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.formatting import stored_zone, when_label
from clinic.core.models import Appointment
from clinic.intake import alerts
from clinic.staff import bp
from clinic.staff.consults.forms import (
    AcknowledgeAlertForm,
    CancelConsultForm,
    NoteForm,
    OutcomeForm,
    StaffRescheduleForm,
)
from clinic.staff.consults.page import consult_or_404, render_consult
from clinic.web.client_address import client_address


def _actionable(reference: str) -> Appointment:
    appointment = consult_or_404(reference)
    if not can_act_on(current_user, appointment):
        abort(
            403,
            description="Only the front desk, admins and the consult's practitioner "
            "can change this consult.",
        )
    return appointment


def _back(reference: str):
    return redirect(url_for("staff.consult", reference=reference), code=303)


@bp.post("/consults/<reference>/cancel")
@roles_required(*ANY_STAFF)
def cancel_consult(reference: str):
    """Cancel with a reason; the patient and the practitioner get the cancellation."""
    appointment = _actionable(reference)
    form = CancelConsultForm()
    if not form.validate():
        return render_consult(appointment, 422, cancel_form=form)
    try:
        lifecycle.cancel_by_staff(
            reference, form.reason.data, current_user, utc_now(), address=client_address()
        )
    except lifecycle.Refused as refused:
        flash(str(refused))
        return _back(reference)
    flash("The consult is cancelled. The patient and the practitioner have been emailed.")
    return _back(reference)


@bp.post("/consults/<reference>/outcome")
@roles_required(*ANY_STAFF)
def record_outcome(reference: str):
    """Completed or no-show, once the consult has started."""
    appointment = _actionable(reference)
    form = OutcomeForm()
    if not form.validate():
        return render_consult(appointment, 422, outcome_form=form)
    try:
        lifecycle.record_outcome(
            reference, form.outcome.data, current_user, utc_now(), address=client_address()
        )
    except lifecycle.Refused as refused:
        flash(str(refused))
        return _back(reference)
    label = "completed" if form.outcome.data == "completed" else "a no-show"
    flash(f"The consult is marked as {label}.")
    return _back(reference)


@bp.post("/consults/<reference>/notes")
@roles_required(*ANY_STAFF)
def add_note(reference: str):
    appointment = _actionable(reference)
    form = NoteForm()
    if not form.validate():
        return render_consult(appointment, 422, note_form=form)
    lifecycle.add_note(reference, form.body.data, current_user, utc_now(), address=client_address())
    flash("Your note is saved.")
    return _back(reference)


@bp.post("/consults/<reference>/alerts/<int:alert_id>/acknowledge")
@roles_required(*ANY_STAFF)
def acknowledge_alert(reference: str, alert_id: int):
    """Say who took on an intake alert and what they did; it then no longer escalates."""
    appointment = _actionable(reference)
    form = AcknowledgeAlertForm()
    if not form.validate():
        return render_consult(appointment, 422, ack_form=form, ack_for=alert_id)
    try:
        alerts.acknowledge_alert(
            reference,
            alert_id,
            form.action.data,
            form.note.data or "",
            current_user,
            utc_now(),
            address=client_address(),
        )
    except alerts.AlertNotFound:
        abort(404, description="This consult has no such alert.")
    except alerts.AlertRefused as refused:
        flash(str(refused))
        return _back(reference)
    flash("The alert is acknowledged, with your name on it.")
    return _back(reference)


@bp.get("/consults/<reference>/reschedule")
@roles_required(*ANY_STAFF)
def reschedule_times(reference: str):
    """Free times with the same practitioner, in the clinic's zone unless staff chose another."""
    appointment = _actionable(reference)
    if not lifecycle.can_move(appointment, utc_now()):
        flash("Only a booked consult that has not ended can be moved.")
        return _back(reference)
    return _render_picker(appointment, SlotQueryForm(formdata=request.args))


@bp.post("/consults/<reference>/reschedule")
@roles_required(*ANY_STAFF)
def reschedule(reference: str):
    appointment = _actionable(reference)
    form = StaffRescheduleForm()
    query = SlotQueryForm(formdata=MultiDict({"tz": request.form.get("tz", "")}))
    if not form.validate():
        message = " ".join(e for field in form for e in field.errors)
        return _render_picker(appointment, query, status=422, message=message)
    try:
        moved, _previous = lifecycle.reschedule_by_staff(
            reference, form.start.data, current_user, utc_now(), address=client_address()
        )
    except SlotTaken as taken:
        return _render_picker(appointment, query, status=409, taken=taken.alternatives)
    except (NotBookable, lifecycle.Refused) as problem:
        return _render_picker(appointment, query, status=422, message=str(problem))
    zone = stored_zone(clinic_settings().timezone)
    flash(
        f"The consult is now on {when_label(moved.starts_at, zone)}. The patient and the "
        "practitioner have been emailed the updated invite."
    )
    return _back(reference)


def _render_picker(appointment, query, *, status=200, taken=None, message=None):
    context = picker_context(
        query, [appointment.practitioner], appointment.practitioner, moving=appointment
    )
    form = StaffRescheduleForm(formdata=None, tz=context["zone"].key)
    return render_template(
        "staff/reschedule.html",
        appointment=appointment,
        form=form,
        taken=taken,
        message=message,
        **context,
    ), status
