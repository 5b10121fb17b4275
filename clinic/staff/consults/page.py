"""A consult's page as staff see it, shared by the page itself and the actions that show it
again with a form's errors."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template
from flask_login import current_user

from clinic.accounts.access import can_act_on, can_read_intake
from clinic.booking.lifecycle import can_mark, can_move, find_consult
from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.formatting import parse_zone
from clinic.core.models import Appointment
from clinic.intake.summary import build_summary
from clinic.staff.consults.forms import (
    AcknowledgeAlertForm,
    CancelConsultForm,
    NoteForm,
    OutcomeForm,
)
from clinic.web.client_address import client_address


def consult_or_404(reference: str) -> Appointment:
    found = find_consult(reference)
    if found is None:
        abort(404, description="There is no consult with that reference.")
    return found


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
        summary=intake_summary(appointment),
        contact=contact_preference(appointment),
        may_act=can_act_on(current_user, appointment),
        may_move=can_move(appointment, now),
        may_mark=can_mark(appointment, now),
        **forms,
    ), status


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


def intake_summary(appointment: Appointment):
    """The intake summary if this user may read it (each reading is audited), else None."""
    intake = appointment.intake
    if intake is None or not can_read_intake(current_user, appointment):
        return None
    audit(
        "view_intake",
        current_user,
        subject=f"consult {appointment.reference}",
        now=utc_now(),
        address=client_address(),
    )
    return build_summary(
        intake.answers, intake.version, intake.sections_done or (), intake.flags_raised
    )
