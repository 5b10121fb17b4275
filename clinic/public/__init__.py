"""The clinic's public pages."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from clinic.public import routes  # noqa: E402,F401
