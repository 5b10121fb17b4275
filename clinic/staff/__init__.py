"""The staff console: sign in, the day's consults, a consult's page with its intake."""

from flask import Blueprint

bp = Blueprint("staff", __name__)


@bp.after_request
def _private(response):
    """Staff pages show patients' details and health answers: never cache or leak them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


from clinic.staff import (  # noqa: E402,F401
    audit_log,
    auth,
    availability,
    calendars,
    closures,
    consult_actions,
    consult_list,
    consults,
    outbox_admin,
    phone_booking,
    schedule,
    settings_pages,
)
