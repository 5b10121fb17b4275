"""JSON bodies for the booking API."""

from __future__ import annotations


def body(when, **changes):
    payload = {
        "practitioner": "any",
        "start": when.isoformat(),
        "timezone": "Asia/Kolkata",
        "name": "Ravi Patient",
        "email": "ravi@example.com",
        "consent_privacy": True,
        "consent_not_emergency": True,
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not ...}
