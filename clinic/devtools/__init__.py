"""Development-only pages: the outbox, readable in the browser when no mail server is set.

Registered only when ``DEV_OUTBOX_PAGE`` is on (``DevelopmentConfig``, what ``make run`` uses).
These pages show patients' emails with their manage links: never enable them in production.
"""

from flask import Blueprint

bp = Blueprint("devtools", __name__, url_prefix="/dev")

from clinic.devtools import routes  # noqa: E402,F401
