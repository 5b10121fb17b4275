"""Rate limits per client address, and what a throttled visitor is told.

Each limit is a setting (config.py, read from the environment) in Flask-Limiter's notation,
read again at every request and counted per client address (``request.remote_addr``: behind a
reverse proxy that is the proxy's own unless ProxyFix is on). What each one covers:

- ``BOOKING_RATE_LIMIT``: choosing a time (POST /book/hold) and sending the details
  (POST /book/<token>) share one counter, since they are two steps of one booking. The slot
  picker (GET /book) only reads, like the landing page, and is not limited.
- ``API_RATE_LIMIT``: GET /api/v1/slots; ``API_BOOKING_RATE_LIMIT``: POST /api/v1/bookings.
- ``LINK_RATE_LIMIT``: each page opened by a secret link (booking, manage, intake, calendar
  feed) counts on its own (``link_limit``).
- ``SIGN_IN_ADDRESS_LIMIT`` and, for failed sign-ins per account, ``SIGN_IN_ACCOUNT_LIMIT``
  (clinic/staff/auth/views.py).

The defaults are sized for the busiest honest case, a clinic's front desk, a reception tablet
or a waiting room sharing one office address, and many mobile users behind one carrier
address. Staff book callers through /staff/book, which these limits do not touch. An online
booking takes two POSTs, a few more when a form comes back for a correction or the time was
just taken: 20 a minute and 100 an hour from one address is several bookings a minute and
twenty or more an hour, more than an office books online, while one address can keep at most
about seventeen times held at once (holds last 10 minutes). A page of free times over the API
is one GET: 120 a minute is two a second, for a website that shows the clinic's times to its
visitors from its own server. A patient's intake is about 30 requests to its part page, so
2000 a day lets a reception tablet serve dozens of patients; link tokens are far too long to
guess whatever the limit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from flask import Flask, current_app
from flask.logging import default_handler
from limits import parse_many

from clinic.core.extensions import limiter

SETTINGS = (
    "BOOKING_RATE_LIMIT",
    "API_RATE_LIMIT",
    "API_BOOKING_RATE_LIMIT",
    "LINK_RATE_LIMIT",
    "SIGN_IN_ADDRESS_LIMIT",
    "SIGN_IN_ACCOUNT_LIMIT",
)


def setting(name: str) -> Callable[[], str]:
    """The limit in setting ``name``, read when a request arrives (tests set their own)."""
    return lambda: current_app.config[name]


# The two steps of one online booking count together.
booking = limiter.shared_limit(setting("BOOKING_RATE_LIMIT"), scope="booking", methods=["POST"])
api_slots = limiter.limit(setting("API_RATE_LIMIT"))
api_booking = limiter.limit(setting("API_BOOKING_RATE_LIMIT"))


def link_limit() -> str:
    return current_app.config["LINK_RATE_LIMIT"]


def init_app(app: Flask) -> None:
    """Refuse to start with a limit Flask-Limiter can't read: it would otherwise log an error
    and let every request through. Let its warnings (storage unreachable, recovered) reach
    the app's log, where its own handler would drop them."""
    log = logging.getLogger("flask-limiter")
    if default_handler not in log.handlers:
        log.addHandler(default_handler)
    for name in SETTINGS:
        value = app.config[name]
        try:
            parse_many(value)
        except ValueError:
            raise RuntimeError(
                f"{name} must be a rate limit such as '20 per minute; 100 per hour', not {value!r}"
            ) from None


def seconds_to_wait() -> int:
    """Seconds until the limit just exceeded lets requests through again (the Retry-After)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def wait_phrase(seconds: int) -> str:
    """How long to wait, in words, to the nearest minute (Retry-After has the seconds): 'a
    minute', '12 minutes', 'about 3 hours'."""
    minutes = round(seconds / 60)
    if minutes <= 1:
        return "a minute"
    if minutes < 90:
        return f"{minutes} minutes"
    return f"about {round(minutes / 60)} hours"


def explanation(error: Exception, *, api: bool = False) -> str:
    """What to tell someone who was throttled, in plain words (never the limit's notation)."""
    limit = getattr(error, "limit", None)
    if limit is not None and limit.error_message:
        return str(getattr(error, "description", ""))
    wait = wait_phrase(seconds_to_wait())
    if api:
        return (
            f"Too many requests from this address in a short time. Please wait {wait} "
            "(the Retry-After header gives the seconds), then try again."
        )
    return (
        "Too many requests from your network in a short time. "
        f"Please wait {wait}, then try again. If you share an internet connection, at work "
        "for instance, other people's requests count too."
    )
