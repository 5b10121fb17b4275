from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import Response, abort, current_app, redirect, render_template, request, url_for

from clinic import rate_limits
from clinic.booking import bp, services
from clinic.booking.availability import active_practitioners, consult_type, open_times
from clinic.booking.forms import (
    HoldForm,
    PatientDetailsForm,
    SlotQueryForm,
    set_practitioner_choices,
)
from clinic.extensions import limiter
from clinic.formatting import parse_zone
from clinic.notify.compose import clinic_mailbox
from clinic.notify.events import Version, consult_event
from clinic.notify.ics import Person, consult_calendar
from clinic.recent_answers import kept_briefly
from clinic.scheduling import group_by_day, local_day_window
from clinic.settings import clinic_settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def _uid_domain() -> str:
    return urlsplit(current_app.config["CLINIC_BASE_URL"]).hostname or "clinic.invalid"


@bp.after_request
def _no_referrer(response: Response) -> Response:
    """Pages under /book/<token> carry a secret in their URL: never leak it as a Referer."""
    if request.view_args and "token" in request.view_args:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


def picker_context(
    query: SlotQueryForm, practitioners, fixed_practitioner=None, moving=None
) -> dict:
    """Free times by day for a (validated or not) query, falling back to sensible defaults.

    ``fixed_practitioner`` limits the times to one person (rescheduling keeps the practitioner);
    ``moving`` is the consult being rescheduled, which does not count against its own day.
    """
    settings = clinic_settings()
    set_practitioner_choices(query.practitioner, practitioners)
    query.validate()
    zone = (None if query.tz.errors else query.tz.zone) or parse_zone(settings.timezone)
    query.tz.data = zone.key
    if fixed_practitioner is not None:
        practitioners, practitioner_id = [fixed_practitioner], fixed_practitioner.id
    else:
        practitioner_id = None if query.practitioner.errors else query.practitioner.practitioner_id
    now = utc_now()
    today = now.astimezone(zone).date()
    last_day = today + timedelta(days=settings.horizon_days)
    per_page = current_app.config["BOOKING_DAYS_PER_PAGE"]
    first_day = query.day.data if query.day.data and not query.day.errors else today
    first_day = max(today, min(first_day, last_day))
    days = [first_day + timedelta(days=i) for i in range(per_page)]
    window = local_day_window(first_day, per_page, zone)
    if moving is None:
        times = open_times(practitioners, practitioner_id, window, now)
    else:
        times = open_times(practitioners, practitioner_id, window, now, moving.id)
        times = [t for t in times if t.start != moving.starts_at]
    earlier = first_day - timedelta(days=per_page)
    later = first_day + timedelta(days=per_page)
    return dict(
        settings=settings,
        query=query,
        zone=zone,
        chosen=next((p for p in practitioners if p.id == practitioner_id), None),
        days=group_by_day(times, zone, days),
        earlier=max(earlier, today) if first_day > today else None,
        later=later if later <= last_day else None,
    )


def _render_picker(query: SlotQueryForm, *, status=200, taken=None, message=None):
    practitioners = active_practitioners()
    context = picker_context(query, practitioners)
    form = HoldForm(practitioner=query.practitioner.data, tz=context["zone"].key)
    set_practitioner_choices(form.practitioner, practitioners)
    return (
        render_template("booking/slots.html", form=form, taken=taken, message=message, **context),
        status,
    )


@bp.get("/book")
@kept_briefly
def slots():
    """Free times for the next days, grouped by day in the patient's zone."""
    return _render_picker(SlotQueryForm(formdata=request.args))


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
            _uid_domain(),
        )
    except services.SlotTaken as taken:
        return _render_picker(query, status=409, taken=taken.alternatives)
    except services.NotBookable as problem:
        return _render_picker(query, status=422, message=str(problem))
    return redirect(url_for("booking.details", token=token), code=303)


@bp.app_template_global()
def consult_minutes() -> int:
    """The free consult's length now, for the pages that offer times."""
    return consult_type().duration_minutes


def link_limit() -> str:
    return current_app.config["LINK_RATE_LIMIT"]


def appointment_or_404(token: str):
    try:
        return services.find_by_token(token, utc_now())
    except services.LinkExpired as expired:
        abort(410, description=str(expired))
    except services.HoldNotFound:
        abort(404, description="This booking link isn't valid. Please choose a time again.")


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
