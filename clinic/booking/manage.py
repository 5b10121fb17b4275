"""The manage link from every email: see the consult, reschedule it, or cancel it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from clinic.booking import lifecycle as changes
from clinic.booking import services
from clinic.booking.forms import CancelForm, RescheduleForm, SlotQueryForm
from clinic.booking.pages import appointment_or_404, picker_context
from clinic.booking.routes import bp
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.extensions import limiter
from clinic.core.formatting import parse_zone, stored_zone, when_label
from clinic.core.models import Status
from clinic.web.rate_limits import link_limit


@bp.get("/manage/<token>")
@limiter.limit(link_limit)
def manage(token: str):
    """The consult, with what the patient may still do about it."""
    appointment = appointment_or_404(token)
    if appointment.status in (Status.HELD, Status.EXPIRED):
        return redirect(url_for("booking.details", token=token), code=303)
    return _render_manage(token, appointment, CancelForm())


@bp.get("/manage/<token>/reschedule")
@limiter.limit(link_limit)
def reschedule_times(token: str):
    """Free times with the same practitioner, in the patient's zone unless they chose another."""
    appointment = appointment_or_404(token)
    if not changes.can_change(appointment, clinic_settings(), utc_now()):
        return redirect(url_for("booking.manage", token=token), code=303)
    args = MultiDict(request.args)
    args.setdefault("tz", appointment.patient_timezone)
    return _render_picker(token, appointment, SlotQueryForm(formdata=args))


@bp.post("/manage/<token>/reschedule")
@limiter.limit(link_limit)
def reschedule(token: str):
    appointment = appointment_or_404(token)
    form = RescheduleForm()
    # The week and day of the page the time was chosen on, should it be shown again.
    asked = [(name, request.form[name]) for name in ("day", "on") if request.form.get(name)]
    query = SlotQueryForm(formdata=MultiDict([("tz", request.form.get("tz", "")), *asked]))
    if not form.validate():
        message = " ".join(e for field in form for e in field.errors)
        return _render_picker(token, appointment, query, status=422, message=message)
    if form.start.data == appointment.starts_at:
        flash("That is already the time of your consult; nothing changed.")
        return redirect(url_for("booking.manage", token=token), code=303)
    try:
        moved = changes.reschedule(token, form.start.data, utc_now())
    except services.HoldNotFound:  # the link expired a moment ago
        return appointment_or_404(token)
    except changes.SlotTaken as taken:
        return _render_picker(token, appointment, query, status=409, taken=taken.alternatives)
    except changes.NotBookable as problem:
        return _render_picker(token, appointment, query, status=422, message=str(problem))
    except (changes.TooLate, changes.NotChangeable) as refused:
        return _render_manage(token, appointment, CancelForm(formdata=None), str(refused), 409)
    zone = stored_zone(moved.patient_timezone)
    flash(
        f"Your consult is now on {when_label(moved.starts_at, zone)}. "
        "We have emailed you the updated invite."
    )
    return redirect(url_for("booking.manage", token=token), code=303)


@bp.post("/manage/<token>/cancel")
@limiter.limit(link_limit)
def cancel(token: str):
    appointment = appointment_or_404(token)
    form = CancelForm()
    if not form.validate():
        return _render_manage(token, appointment, form, status=422)
    try:
        changes.cancel(token, form.reason.data or "", utc_now())
    except services.HoldNotFound:  # the link expired a moment ago
        return appointment_or_404(token)
    except (changes.TooLate, changes.NotChangeable) as refused:
        return _render_manage(token, appointment, form, str(refused), 409)
    flash("Your consult is cancelled. We have emailed you a cancellation for your calendar.")
    return redirect(url_for("booking.manage", token=token), code=303)


def _render_manage(token, appointment, cancel_form, message=None, status=200):
    settings = clinic_settings()
    now = utc_now()
    return render_template(
        "booking/manage.html",
        token=token,
        appointment=appointment,
        settings=settings,
        zone=parse_zone(appointment.patient_timezone),
        clinic_zone=parse_zone(settings.timezone),
        can_change=changes.can_change(appointment, settings, now),
        deadline=changes.change_deadline(appointment, settings),
        is_past=appointment.ends_at <= now,
        cancel_form=cancel_form,
        message=message,
    ), status


def _render_picker(token, appointment, query, *, status=200, taken=None, message=None):
    context = picker_context(
        query, [appointment.practitioner], appointment.practitioner, moving=appointment
    )
    form = RescheduleForm(tz=context["zone"].key)
    return render_template(
        "booking/reschedule.html",
        token=token,
        appointment=appointment,
        form=form,
        taken=taken,
        message=message,
        **context,
    ), status
