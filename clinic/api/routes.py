from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for

from clinic.api import bp
from clinic.api.forms import SlotsQuery, json_to_formdata
from clinic.api.openapi import document
from clinic.availability.open_times import (
    active_practitioners,
    kept_open_times,
    schedule_proof,
)
from clinic.booking import services
from clinic.booking.forms import ApiBookingForm
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.database import reads_only
from clinic.core.formatting import stored_zone
from clinic.core.links import uid_domain
from clinic.scheduling import OpenTime, local_day_window
from clinic.web import rate_limits
from clinic.web.fields import set_practitioner_choices
from clinic.web.kept_answers import kept_briefly
from clinic.web.problems import field_errors, invalid, problem
from clinic.web.versioned_answers import answered

MAX_DAYS = 62
MAX_AHEAD_DAYS = 730


def _open_time(item, zone) -> dict:
    start, end, start_utc = _instants(item.start, item.end, zone)
    return {
        "start": start,
        "end": end,
        "start_utc": start_utc,
        "practitioner_ids": list(item.practitioner_ids),
    }


@lru_cache(maxsize=16_384)
def _instants(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[str, str, str]:
    """A free time's start and end in ``zone``, and its start in UTC, as the API writes them:
    kept, since the same times are asked about again and again (formatting them was half of
    a slots request's time). Equal instants give equal strings, whatever zone they carry."""
    return (
        start.astimezone(zone).isoformat(),
        end.astimezone(zone).isoformat(),
        start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    )


@lru_cache(maxsize=32_768)
def _open_time_json(item: OpenTime, zone: ZoneInfo, sort_keys: bool, ensure_ascii: bool) -> str:
    """One free time as compact JSON, as ``json.dumps`` writes ``_open_time``'s dict: written
    directly, since every value is an ASCII ISO 8601 string or a whole number (nothing to
    escape, ``ensure_ascii`` or not); kept, as the same times are asked about again and again
    (as many strings as times in the horizon and zones asked in, some 200 bytes each)."""
    start, end, start_utc = _instants(item.start, item.end, zone)
    ids = ",".join(str(i) for i in item.practitioner_ids)
    if sort_keys:
        return (
            f'{{"end":"{end}","practitioner_ids":[{ids}],'
            f'"start":"{start}","start_utc":"{start_utc}"}}'
        )
    return (
        f'{{"start":"{start}","end":"{end}","start_utc":"{start_utc}","practitioner_ids":[{ids}]}}'
    )


def _slots_answer(envelope: dict, times: list[OpenTime], zone: ZoneInfo):
    """``envelope`` with the free times under "slots", as Flask would write it, the times
    joined from their kept JSON rather than encoded afresh (a third of a request's time)."""
    provider = current_app.json
    if getattr(provider, "compact", None) is False or current_app.debug:
        return envelope | {"slots": [_open_time(t, zone) for t in times]}  # indented, as ever
    sort_keys = getattr(provider, "sort_keys", True)
    ensure_ascii = getattr(provider, "ensure_ascii", True)
    head = provider.dumps(envelope | {"slots": []}, separators=(",", ":"))
    items = ",".join(_open_time_json(t, zone, sort_keys, ensure_ascii) for t in times)
    body = head.replace('"slots":[]', f'"slots":[{items}]', 1)
    return current_app.response_class(
        f"{body}\n", mimetype=getattr(provider, "mimetype", "application/json")
    )


@bp.get("/slots")
@rate_limits.api_slots
@kept_briefly
def slots():
    """Free consult times between two local dates (inclusive) in the caller's zone."""
    reads_only()
    practitioners = active_practitioners()
    return answered(schedule_proof(practitioners), lambda now: _slots(practitioners, now))


def _slots(practitioners: list, now: datetime):
    """The answer, and until when the free times in it stay as they are."""
    query = SlotsQuery(formdata=request.args)
    set_practitioner_choices(query.practitioner, practitioners)
    if not query.validate():
        return invalid(field_errors(query)), now
    settings = clinic_settings()
    zone = query.timezone.zone or stored_zone(settings.timezone)
    first = query.start_day.data or now.astimezone(zone).date()
    last = query.end_day.data or first + timedelta(days=13)
    today = now.astimezone(zone).date()
    if not today - timedelta(days=1) <= first <= today + timedelta(days=MAX_AHEAD_DAYS):
        wrong = {"from": [f"must be between yesterday and {MAX_AHEAD_DAYS} days ahead."]}
        return invalid(wrong), now
    if last < first:
        return invalid({"to": ["must not be before from."]}), now
    if (last - first).days >= MAX_DAYS:
        return invalid({"to": [f"at most {MAX_DAYS} days after from."]}), now
    days = (last - first).days + 1
    window = local_day_window(first, days, zone)
    chosen = query.practitioner.practitioner_id
    times, until = kept_open_times(practitioners, chosen, window, now)
    envelope = {
        "timezone": zone.key,
        "practitioner": query.practitioner.data or "any",
        "from": first.isoformat(),
        "to": last.isoformat(),
    }
    return _slots_answer(envelope, times, zone), until


@bp.post("/bookings")
@rate_limits.api_booking
def create_booking():
    """Book a free time outright; 201 with the booking, 409 with nearby times if just taken."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return problem(
            400, "Expected a JSON object", "Send the booking as a JSON object.", "bad-json"
        )
    formdata, type_errors = json_to_formdata(payload)
    form = ApiBookingForm(formdata=formdata)
    set_practitioner_choices(form.practitioner, active_practitioners())
    if not form.validate() or type_errors:
        return invalid(field_errors(form) | type_errors)
    details = services.PatientDetails(
        form.name.data, form.email.data, form.phone.data or "", form.marketing_opt_in.data
    )
    zone = form.timezone.zone
    host = uid_domain()
    try:
        appointment, token = services.book(
            form.practitioner.practitioner_id,
            form.start.data,
            zone,
            details,
            utc_now(),
            host,
        )
    except services.SlotTaken as taken:
        return problem(
            409,
            "That time was just taken",
            "Someone booked this time a moment ago. Here are the nearest free times.",
            "slot-taken",
            alternatives=[_open_time(t, zone) for t in taken.alternatives],
        )
    except services.NotBookable as reason:
        return invalid({"start": [str(reason)]})
    base = current_app.config["CLINIC_BASE_URL"].rstrip("/")
    body = {
        "reference": appointment.reference,
        "status": appointment.status,
        "start": appointment.starts_at.astimezone(zone).isoformat(),
        "end": appointment.ends_at.astimezone(zone).isoformat(),
        "timezone": zone.key,
        "practitioner": {"id": appointment.practitioner.id, "name": appointment.practitioner.name},
        "meeting_link": appointment.practitioner.meeting_url(appointment.reference),
        "booking_url": base + url_for("booking.done", token=token),
        "calendar_url": base + url_for("booking.calendar_file", token=token),
        "manage_url": base + url_for("booking.manage", token=token),
    }
    return body, 201, {"Location": body["booking_url"]}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return document(current_app.config["CLINIC_BASE_URL"])
