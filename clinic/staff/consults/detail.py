"""A consult's own page, and its intake printed, as the role allows."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from clinic.accounts.access import ANY_STAFF, can_read_intake, roles_required
from clinic.core.clinic_settings import clinic_settings
from clinic.core.formatting import parse_zone
from clinic.staff import bp
from clinic.staff.consults.page import consult_or_404, intake_summary, render_consult


@bp.get("/consults/<reference>")
@roles_required(*ANY_STAFF)
def consult(reference: str):
    """Patient details and how they like to be contacted, both zones, status, alerts, notes,
    the intake as the role allows, actions."""
    return render_consult(consult_or_404(reference))


@bp.get("/consults/<reference>/intake/print")
@roles_required(*ANY_STAFF)
def intake_print(reference: str):
    appointment = consult_or_404(reference)
    if not can_read_intake(current_user, appointment):
        abort(403, description="Only the consult's practitioner and admins can read the intake.")
    summary = intake_summary(appointment)
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
