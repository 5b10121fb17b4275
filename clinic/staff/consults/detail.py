"""The day's consults and a consult's own page, with its intake as the role allows."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template
from flask_login import current_user

from clinic.accounts.access import ANY_STAFF, can_act_on, can_read_intake, roles_required
from clinic.accounts.services import audit, practitioners_without_account
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.formatting import parse_zone
from clinic.core.models import Appointment, Role
from clinic.intake.open_alerts import open_alerts
from clinic.intake.summary import build_summary
from clinic.scheduling import local_day_window
from clinic.staff import bp
from clinic.staff.consult_services import can_mark, can_move, find_consult
from clinic.staff.forms import AcknowledgeAlertForm, CancelConsultForm, NoteForm, OutcomeForm
from clinic.staff.schedule import views as schedule


@bp.get("/")
@roles_required(*ANY_STAFF)
def home():
    """Today's consults in the clinic's zone, urgent ones marked: one practitioner's or all;
    above them, every consult of theirs with an alert nobody has acknowledged yet, and for
    admins, the practitioners who get alerts but have no account to open them with."""
    settings = clinic_settings()
    zone = parse_zone(settings.timezone)
    now = utc_now()
    today = now.astimezone(zone).date()
    query, consults = schedule.filtered(local_day_window(today, 1, zone))
    alerts = open_alerts(schedule.chosen_practitioner_id(query))
    return render_template(
        "staff/home.html",
        settings=settings,
        zone=zone,
        now=now,
        today=today,
        consults=consults,
        query=query,
        alerts=alerts,
        alerted={entry.appointment.id for entry in alerts},
        unlinked=practitioners_without_account() if current_user.role == Role.ADMIN else [],
    ), (422 if consults is None else 200)


def consult_or_404(reference: str) -> Appointment:
    found = find_consult(reference)
    if found is None:
        abort(404, description="There is no consult with that reference.")
    return found


@bp.get("/consults/<reference>")
@roles_required(*ANY_STAFF)
def consult(reference: str):
    """Patient details and how they like to be contacted, both zones, status, alerts, notes,
    the intake as the role allows, actions."""
    return render_consult(consult_or_404(reference))


def render_consult(appointment: Appointment, status: int = 200, **forms):
    """The consult page; ``forms`` replaces a blank form with one that has errors to show."""
    settings = clinic_settings()
    now = utc_now()
    forms = {
        "cancel_form": CancelConsultForm(formdata=None),
        "outcome_form": OutcomeForm(formdata=None),
        "note_form": NoteForm(formdata=None),
        "ack_form": AcknowledgeAlertForm(formdata=None),
        "blank_ack_form": AcknowledgeAlertForm(formdata=None),
        "ack_for": None,  # the alert whose form ``ack_form`` is, when it has errors
        **forms,
    }
    return render_template(
        "staff/consult.html",
        appointment=appointment,
        settings=settings,
        zone=parse_zone(settings.timezone),
        patient_zone=parse_zone(appointment.patient_timezone),
        summary=_intake_summary(appointment),
        contact=contact_preference(appointment),
        may_act=can_act_on(current_user, appointment),
        may_move=can_move(appointment, now),
        may_mark=can_mark(appointment, now),
        **forms,
    ), status


@bp.get("/consults/<reference>/intake/print")
@roles_required(*ANY_STAFF)
def intake_print(reference: str):
    appointment = consult_or_404(reference)
    if not can_read_intake(current_user, appointment):
        abort(403, description="Only the consult's practitioner and admins can read the intake.")
    summary = _intake_summary(appointment)
    if summary is None:
        abort(404, description="This consult has no intake answers yet.")
    settings = clinic_settings()
    return render_template(
        "intake/summary_print.html",
        appointment=appointment,
        settings=settings,
        zone=parse_zone(settings.timezone),
        summary=summary,
    )


@dataclass(frozen=True)
class ContactPreference:
    """How the patient asked to be contacted, in words; None where they have not said."""

    method: str | None
    leave_message: str | None


CONTACT_METHODS = {"email": "Email", "phone": "Phone"}
YES_NO = {"yes": "Yes", "no": "No"}


def contact_preference(appointment: Appointment) -> ContactPreference:
    """The two intake answers every role may see (the front desk takes the calls); never any
    other answer, and reading them is not a reading of the intake."""
    answers = appointment.intake.answers if appointment.intake is not None else {}

    def word(question: str, words: dict[str, str]) -> str | None:
        value = (answers or {}).get(question)
        return words.get(value) if isinstance(value, str) else None

    return ContactPreference(
        word("contact_method", CONTACT_METHODS), word("contact_leave_message", YES_NO)
    )


def _intake_summary(appointment: Appointment):
    """The intake summary if this user may read it (each reading is audited), else None."""
    intake = appointment.intake
    if intake is None or not can_read_intake(current_user, appointment):
        return None
    audit(
        "view_intake",
        current_user,
        subject=f"consult {appointment.reference}",
        now=utc_now(),
    )
    return build_summary(
        intake.answers, intake.version, intake.sections_done or (), intake.flags_raised
    )
