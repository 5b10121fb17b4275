from datetime import UTC, datetime

from flask import Response, abort

from clinic.booking.routes import link_limit
from clinic.extensions import limiter
from clinic.feeds import bp, services
from clinic.settings import clinic_settings


@bp.get("/calendar/<token>.ics")
@limiter.limit(link_limit)
def feed(token: str):
    """A practitioner's consults, for Google, Outlook and Apple "subscribe by URL"."""
    practitioner = services.practitioner_for(token)
    if practitioner is None:
        abort(404, description="This calendar address isn't valid (it may have been replaced).")
    body = services.feed_bytes(practitioner, clinic_settings(), datetime.now(UTC))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "private, max-age=300"},
    )
