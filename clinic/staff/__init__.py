"""The staff console: sign in, the day's consults, a consult's page with its intake."""

from flask import Blueprint

bp = Blueprint("staff", __name__)

from clinic.staff import auth, calendars, consults  # noqa: E402,F401
