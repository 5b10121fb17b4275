"""The patient's booking pages: free times, holding one, the details form, the confirmation
and its calendar file. The manage pages (``manage``) share this blueprint."""

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from clinic.availability.open_times import active_practitioners, schedule_proof
from clinic.booking import services
from clinic.booking.forms import HoldForm, PatientDetailsForm, SlotQueryForm
from clinic.booking.pages import appointment_or_404, picker_context
from clinic.calendar.events import Version, consult_event
from clinic.calendar.ics import Person, consult_calendar
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.database import reads_only
from clinic.core.extensions import limiter
from clinic.core.formatting import parse_zone
from clinic.core.links import uid_domain
from clinic.notify.compose import clinic_mailbox
from clinic.web import rate_limits
from clinic.web.fields import set_practitioner_choices
from clinic.web.kept_answers import kept_briefly
from clinic.web.rate_limits import link_limit
from clinic.web.versioned_answers import answered

bp = Blueprint("booking", __name__)


@bp.after_request
def _no_referrer(response: Response) -> Response:
    """Pages under /book/<token> carry a secret in their URL: never leak it as a Referer."""
    if request.view_args and "token" in request.view_args:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


def _picker(query: SlotQueryForm, practitioners, taken=None, message=None, now=None):
    """The page of free times, and until when the times on it stay as they are."""
    context = picker_context(query, practitioners, now=now)
    form = HoldForm(practitioner=query.practitioner.data, tz=context["zone"].key)
    set_practitioner_choices(form.practitioner, practitioners)
    page = render_template("booking/slots.html", form=form, taken=taken, message=message, **context)
    return page, context["valid_until"]


def _render_picker(query: SlotQueryForm, *, status=200, taken=None, message=None):
    page, _ = _picker(query, active_practitioners(), taken, message)
    return page, status


@bp.get("/book")
@kept_briefly
def slots():
    """Free times for the next days, grouped by day in the patient's zone."""
    reads_only()
    practitioners = active_practitioners()
    return answered(
        schedule_proof(practitioners),
        lambda now: _picker(SlotQueryForm(formdata=request.args), practitioners, now=now),
    )


@bp.post("/book/hold")
@rate_limits.booking
def hold():
    """Keep the chosen time for the patient while they fill in their details."""
    form = HoldForm()
    set_practitioner_choices(form.practitioner, active_practitioners())
    query = SlotQueryForm(formdata=request.form)
    if not form.validate():
        errors = [e for field in form for e in field.errors]
        return _render_picker(query, status=422, message=" ".join(errors))
    try:
        appointment, token = services.hold_slot(
            form.practitioner.practitioner_id,
            form.start.data,
            form.tz.zone,
            utc_now(),
            uid_domain(),
        )
    except services.SlotTaken as taken:
        return _render_picker(query, status=409, taken=taken.alternatives)
    except services.NotBookable as problem:
        return _render_picker(query, status=422, message=str(problem))
    return redirect(url_for("booking.details", token=token), code=303)


@bp.route("/book/<token>", methods=["GET", "POST"])
@limiter.limit(link_limit)
@rate_limits.booking
def details(token: str):
    """The patient's details and consents for a held time."""
    appointment = appointment_or_404(token)
    if appointment.status == "confirmed":
        return redirect(url_for("booking.done", token=token), code=303)
    if appointment.status not in ("held", "expired"):  # cancelled or over
        return redirect(url_for("booking.manage", token=token), code=303)
    form = PatientDetailsForm()
    if form.validate_on_submit():
        if form.is_bot():
            abort(422, description="We couldn't accept this form. Please try again.")
        patient = services.PatientDetails(
            form.name.data, form.email.data, form.phone.data or "", form.marketing_opt_in.data
        )
        try:
            services.confirm_hold(token, patient, utc_now())
        except services.SlotTaken as taken:
            query = SlotQueryForm(formdata=None, tz=appointment.patient_timezone)
            return _render_picker(query, status=409, taken=taken.alternatives)
        except services.HoldNotFound as gone:
            abort(410, description=str(gone))
        return redirect(url_for("booking.done", token=token), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "booking/details.html",
        form=form,
        appointment=appointment,
        zone=parse_zone(appointment.patient_timezone),
        settings=clinic_settings(),
        held=appointment.is_active(utc_now()),
    ), status


@bp.get("/book/<token>/done")
@limiter.limit(link_limit)
def done(token: str):
    """The confirmation: reference, time in both zones, video link, calendar file."""
    appointment = appointment_or_404(token)
    if appointment.status != "confirmed":
        return redirect(url_for("booking.details", token=token), code=303)
    settings = clinic_settings()
    return render_template(
        "booking/done.html",
        appointment=appointment,
        settings=settings,
        zone=parse_zone(appointment.patient_timezone),
        clinic_zone=parse_zone(settings.timezone),
        token=token,
    )


@bp.get("/book/<token>/consult.ics")
@limiter.limit(link_limit)
def calendar_file(token: str):
    """The confirmed consult as a calendar file to open or import."""
    appointment = appointment_or_404(token)
    if appointment.status != "confirmed":
        abort(404, description="This consult is not confirmed.")
    settings = clinic_settings()
    organizer, patient = clinic_mailbox(settings), appointment.patient
    event = consult_event(
        appointment,
        settings,
        organizer=Person(organizer.email, organizer.name),
        attendee=Person(patient.email, patient.name),
        version=Version.current(appointment, utc_now()),
    )
    return Response(
        consult_calendar(event, "PUBLISH"),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="consult-{appointment.reference}.ics"'
        },
    )
