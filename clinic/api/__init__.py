"""JSON API v1, for clinics that embed booking in their own website."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from clinic.api import routes  # noqa: E402,F401
