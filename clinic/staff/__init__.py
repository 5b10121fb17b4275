"""The staff console: sign in, the day's consults, a consult's page with its intake."""

from flask import Blueprint
from sqlalchemy.exc import OperationalError

from clinic.core.clinic_settings import NotSetUp, clinic_settings
from clinic.staff.alert_words import alert_action, alert_kind

bp = Blueprint("staff", __name__)
bp.add_app_template_filter(alert_kind)
bp.add_app_template_filter(alert_action)


@bp.context_processor
def _clinic() -> dict:
    """Every staff page is headed with the clinic's name (``base.html`` reads ``settings``)."""
    try:
        return {"settings": clinic_settings()}
    except (NotSetUp, OperationalError):  # a new or unreachable database: still a page
        return {}


@bp.after_request
def _private(response):
    """Staff pages show patients' details and health answers: never cache or leak them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


from clinic.staff import admin, auth, availability, consults, schedule  # noqa: E402,F401 - routes
