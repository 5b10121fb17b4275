"""The intake questionnaire pages: /intake/<token>, one section per page, then a thank-you.

The same secret link as the booking opens it. The short form before the free consult comes
first; the fuller health history is offered after it. Each section is saved when the patient
moves on, so the questionnaire can be left and resumed; it can be changed until the consult
starts. Sections that depend on earlier answers are skipped when they don't apply.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from clinic.booking.pages import appointment_or_404
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.extensions import limiter
from clinic.core.formatting import parse_zone
from clinic.intake import services
from clinic.intake.patient_help import choice_panels, patient_country, patient_help
from clinic.intake.questionnaire import (
    ESTIMATED_MINUTES,
    FORMS,
    HISTORY,
    PRE_CONSULT,
    asked,
    minutes_left,
    next_section,
    previous_section,
    question,
    section,
)
from clinic.web.rate_limits import link_limit

bp = Blueprint("intake", __name__, url_prefix="/intake")

ITEM9_PROMPT = (
    "You left this question blank. You don't have to answer it, but your answer helps your "
    "practitioner keep you safe. To leave it blank, save the page again."
)


@bp.after_request
def _private(response: Response) -> Response:
    """Every page here carries the secret link and health answers: no Referer, no caching."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _progress(appointment) -> tuple[dict, set[str]]:
    intake = appointment.intake
    return (intake.answers if intake else {}), set(intake.sections_done if intake else [])


@bp.get("/<token>")
@limiter.limit(link_limit)
def start(token: str):
    """What the questionnaire is, how long it takes, and where the patient left off."""
    appointment = appointment_or_404(token)
    answers, done = _progress(appointment)
    pre, history = asked(PRE_CONSULT, answers), asked(HISTORY, answers)
    resume = next((s for s in pre if s.id not in done), None)
    return render_template(
        "intake/start.html",
        token=token,
        appointment=appointment,
        settings=clinic_settings(),
        zone=parse_zone(appointment.patient_timezone),
        sections=pre,
        history=history,
        done=done,
        resume=resume or pre[0],
        complete=resume is None,
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
        saved, _done = _progress(appointment)
        values = _as_form_values(saved)
        values.setdefault("country", [_listed_or_other(patient_country(appointment))])
        status = 409 if request.method == "POST" else 200
        return _render_page(token, appointment, part, values, {}, closed, status)
    submitted = {key: request.form.getlist(key) for key in request.form}
    try:
        response = services.save_section(token, section_id, submitted, utc_now())
    except services.IntakeClosed as problem:
        return _render_page(token, appointment, part, submitted, {}, str(problem), 409)
    except services.InvalidSubmission as problem:
        return _render_page(
            token, appointment, part, submitted, problem.errors, None, 422, str(problem)
        )
    except services.Item9Prompt:
        return _render_page(
            token, appointment, part, submitted, {}, None, 200, prompt={"phq9_9": ITEM9_PROMPT}
        )
    except services.HoldNotFound:
        return appointment_or_404(token)
    answers = response.answers
    if request.form.get("action") == "back":
        before = previous_section(section_id, answers) or part
        return redirect(url_for("intake.page", token=token, section_id=before.id), code=303)
    following = next_section(section_id, answers)
    if following is None:
        return redirect(url_for("intake.done", token=token), code=303)
    return redirect(url_for("intake.page", token=token, section_id=following.id), code=303)


@bp.get("/<token>/done")
@limiter.limit(link_limit)
def done(token: str):
    appointment = appointment_or_404(token)
    answers, saved = _progress(appointment)
    missing = [s for s in asked(PRE_CONSULT, answers) if s.id not in saved]
    history = asked(HISTORY, answers)
    return render_template(
        "intake/done.html",
        token=token,
        appointment=appointment,
        settings=clinic_settings(),
        zone=parse_zone(appointment.patient_timezone),
        missing=missing,
        history_next=next((s for s in history if s.id not in saved), None),
        history_started=any(s.id in saved for s in history),
        history_minutes=ESTIMATED_MINUTES[HISTORY],
        closed=_closed_reason(appointment),
        care=patient_help(appointment),
    )


def _listed_or_other(country: str) -> str:
    """The country to pre-select: one the questionnaire lists, else "Another country"."""
    listed = {c.value for c in question("country").choices}
    return country if country in listed else "other"


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


def _render_page(
    token, appointment, part, values, errors, closed, status=200, message=None, prompt=None
):
    saved, _done = _progress(appointment)
    parts = list(asked(part.form, saved))
    if part not in parts:  # opened though its answers don't call for it: count the whole form
        parts = list(FORMS[part.form])
    return render_template(
        "intake/section.html",
        token=token,
        appointment=appointment,
        settings=clinic_settings(),
        part=part,
        number=parts.index(part) + 1,
        total=len(parts),
        minutes_left=minutes_left(part.id, saved),
        previous=previous_section(part.id, saved),
        last=next_section(part.id, saved) is None,
        values=values,
        errors=errors,
        message=message,
        prompt=prompt or {},
        closed=closed,
        care=patient_help(appointment),
        choice_panels=choice_panels(part),
    ), status
