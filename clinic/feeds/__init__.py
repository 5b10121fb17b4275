"""Per-practitioner calendar feeds: /calendar/<token>.ics for "subscribe by URL"."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)

from clinic.feeds import routes  # noqa: E402,F401
