"""The intake questionnaire pages: /intake/<token>, one section per page, then a thank-you.

The same secret link as the booking opens it. Each section is saved when the patient moves on,
so the questionnaire can be left and resumed; it can be changed until the consult starts.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from clinic.booking.routes import appointment_or_404, link_limit, utc_now
from clinic.extensions import limiter
from clinic.formatting import parse_zone
from clinic.intake import services
from clinic.intake.questionnaire import ESTIMATED_MINUTES, SECTIONS, minutes_left, section
from clinic.intake.scoring import is_crisis
from clinic.settings import clinic_settings

bp = Blueprint("intake", __name__, url_prefix="/intake")


@bp.after_request
def _private(response: Response) -> Response:
    """Every page here carries the secret link and health answers: no Referer, no caching."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<token>")
@limiter.limit(link_limit)
def start(token: str):
    """What the questionnaire is, how long it takes, and where the patient left off."""
    appointment = appointment_or_404(token)
    response = appointment.intake
    done = set(response.sections_done if response else [])
    resume = next((s for s in SECTIONS if s.id not in done), SECTIONS[0])
    return render_template(
        "intake/start.html",
        token=token,
        appointment=appointment,
        settings=clinic_settings(),
        zone=parse_zone(appointment.patient_timezone),
        sections=SECTIONS,
        done=done,
        resume=resume,
        complete=bool(response and response.completed_at),
        closed=_closed_reason(appointment),
        minutes=ESTIMATED_MINUTES,
    )


@bp.route("/<token>/<section_id>", methods=["GET", "POST"])
@limiter.limit(link_limit)
def page(token: str, section_id: str):
    appointment = appointment_or_404(token)
    try:
        part = section(section_id)
    except KeyError:
        abort(404, description="There is no such part of the questionnaire.")
    closed = _closed_reason(appointment)
    if request.method == "GET" or closed:
        # A closed questionnaire is shown read-only; answers sent to it are refused (409).
        saved = appointment.intake.answers if appointment.intake else {}
        status = 409 if request.method == "POST" else 200
        return _render_page(token, appointment, part, _as_form_values(saved), {}, closed, status)
    submitted = {key: request.form.getlist(key) for key in request.form}
    try:
        services.save_section(token, section_id, submitted, utc_now())
    except services.IntakeClosed as problem:
        return _render_page(token, appointment, part, submitted, {}, str(problem), 409)
    except services.InvalidSubmission as problem:
        return _render_page(
            token, appointment, part, submitted, problem.errors, None, 422, str(problem)
        )
    except services.HoldNotFound:
        return appointment_or_404(token)
    if request.form.get("action") == "back":
        ids = [s.id for s in SECTIONS]
        previous = ids[max(ids.index(section_id) - 1, 0)]
        return redirect(url_for("intake.page", token=token, section_id=previous), code=303)
    following = services.next_section(section_id)
    if following is None:
        return redirect(url_for("intake.done", token=token), code=303)
    return redirect(url_for("intake.page", token=token, section_id=following), code=303)


@bp.get("/<token>/done")
@limiter.limit(link_limit)
def done(token: str):
    appointment = appointment_or_404(token)
    response = appointment.intake
    answers = response.answers if response else {}
    missing = [s for s in SECTIONS if not response or s.id not in response.sections_done]
    return render_template(
        "intake/done.html",
        token=token,
        appointment=appointment,
        settings=clinic_settings(),
        zone=parse_zone(appointment.patient_timezone),
        missing=missing,
        crisis=is_crisis(answers),
    )


def _closed_reason(appointment) -> str | None:
    try:
        services.check_open(appointment, utc_now())
    except services.IntakeClosed as closed:
        return str(closed)
    return None


def _as_form_values(answers: dict) -> dict[str, list[str]]:
    """Saved answers in the shape a submitted form has (field name -> list of strings)."""
    return {
        key: [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for key, value in answers.items()
    }


def _render_page(token, appointment, part, values, errors, closed, status=200, message=None):
    ids = [s.id for s in SECTIONS]
    index = ids.index(part.id)
    saved = appointment.intake.answers if appointment.intake else {}
    # Which choices signal a crisis on their own: the page marks them so that a script can show
    # the crisis panel the moment one is picked (without JavaScript it shows after saving).
    crisis_choices = {
        (q.id, c.value) for q in part.questions for c in q.choices if is_crisis({q.id: c.value})
    }
    return render_template(
        "intake/section.html",
        token=token,
        appointment=appointment,
        settings=clinic_settings(),
        part=part,
        number=index + 1,
        total=len(SECTIONS),
        minutes_left=minutes_left(part.id),
        previous=ids[index - 1] if index else None,
        values=values,
        errors=errors,
        message=message,
        closed=closed,
        crisis=is_crisis(saved),
        crisis_choices=crisis_choices,
    ), status
