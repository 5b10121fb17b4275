from flask import Blueprint, Response, abort, request
from werkzeug.http import http_date, quote_etag
from werkzeug.sansio.http import is_resource_modified

from clinic.calendar import feed as services
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.extensions import limiter
from clinic.web.rate_limits import link_limit

bp = Blueprint("calendar", __name__)


@bp.get("/calendar/<token>.ics")
@limiter.limit(link_limit)
def feed(token: str):
    """A practitioner's consults, for Google, Outlook and Apple "subscribe by URL".

    Answers 304 Not Modified, without building the calendar, when the app's copy is current.
    """
    practitioner = services.practitioner_for(token)
    if practitioner is None:
        abort(404, description="This calendar address isn't valid (it may have been replaced).")
    current = services.current(practitioner, clinic_settings(), utc_now())
    headers = {
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, max-age=300",
        "ETag": quote_etag(current.etag),
    }
    if current.last_modified is not None:
        headers["Last-Modified"] = http_date(current.last_modified)
    if not _modified(current):
        return Response(status=304, headers=headers)
    return Response(services.feed_bytes(current.feed), mimetype="text/calendar", headers=headers)


def _modified(current: services.Current) -> bool:
    """RFC 9110 13.2.2: If-None-Match when the request has one, else If-Modified-Since."""
    if "If-None-Match" in request.headers:
        return is_resource_modified(
            http_if_none_match=request.headers["If-None-Match"], etag=current.etag
        )
    return is_resource_modified(
        http_if_modified_since=request.headers.get("If-Modified-Since"),
        last_modified=current.last_modified,
    )
