"""Booking: the slot picker, the details form, the confirmation and its calendar file."""

from flask import Blueprint

bp = Blueprint("booking", __name__)

from clinic.booking import routes  # noqa: E402,F401
