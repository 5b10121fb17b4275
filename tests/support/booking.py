"""Booking over HTTP and through the service, as the patient's pages and the API do."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from clinic.booking import services
from tests.support.apps import csrf_token


def hold(client, start, practitioner="any", tz="Europe/London"):
    page = client.get(f"/book?tz={tz}")
    return hold_from(client, page.text, start, practitioner, tz)


def hold_from(client, page: str, start, practitioner="any", tz="Europe/London", **request):
    """Take ``start`` (a datetime, or the string a page offered) from a booking page already
    fetched, with that page's CSRF token."""
    return client.post(
        "/book/hold",
        data={
            "csrf_token": csrf_token(page),
            "practitioner": practitioner,
            "tz": tz,
            "start": start if isinstance(start, str) else start.isoformat(),
        },
        **request,
    )


def fill_details(client, location, **changes):
    page = client.get(location)
    data = {"csrf_token": csrf_token(page.text), **DETAILS, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(location, data=data)


DETAILS = {
    "name": "Jo Patient",
    "email": "Jo@Example.com",
    "phone": "+44 20 7946 0000",
    "consent_privacy": "y",
    "consent_not_emergency": "y",
}


PATIENT_ZONE = "Europe/London"


def book(practitioner, start, email="jo@example.com", zone=PATIENT_ZONE):
    """Book ``start`` through the booking service, as the API would: (appointment, token)."""
    return services.book(
        practitioner.id,
        start,
        ZoneInfo(zone),
        services.PatientDetails("Jo Patient", email),
        datetime.now(UTC),
        "clinic.test",
    )
