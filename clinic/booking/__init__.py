"""Booking: the slot picker, details form, confirmation, calendar file and manage link."""

from flask import Blueprint

bp = Blueprint("booking", __name__)

from clinic.booking import manage, routes  # noqa: E402,F401
