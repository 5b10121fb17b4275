# ruff: noqa: E501  (long description strings read better unbroken)
"""The OpenAPI 3.1 document for ``/api/v1`` (kept beside the routes it describes)."""

from __future__ import annotations

_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "alternatives": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}},
    },
}

_SLOT = {
    "type": "object",
    "required": ["start", "end", "start_utc", "practitioner_ids"],
    "properties": {
        "start": {"type": "string", "format": "date-time", "description": "In the requested zone."},
        "end": {"type": "string", "format": "date-time"},
        "start_utc": {"type": "string", "format": "date-time"},
        "practitioner_ids": {"type": "array", "items": {"type": "integer"}},
    },
}

_BOOKING_REQUEST = {
    "type": "object",
    "required": ["start", "timezone", "name", "email", "consent_privacy", "consent_not_emergency"],
    "properties": {
        "practitioner": {
            "description": "A practitioner id, or 'any' for the first available (default).",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        },
        "start": {"type": "string", "format": "date-time", "description": "With its offset."},
        "timezone": {
            "type": "string",
            "description": "The patient's IANA zone, e.g. Europe/London.",
        },
        "name": {"type": "string", "maxLength": 100},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "phone": {"type": "string", "maxLength": 30},
        "consent_privacy": {"type": "boolean", "description": "Must be true."},
        "consent_not_emergency": {"type": "boolean", "description": "Must be true."},
        "marketing_opt_in": {"type": "boolean", "default": False},
    },
}

_BOOKING = {
    "type": "object",
    "required": ["reference", "status", "start", "end", "timezone", "practitioner"],
    "properties": {
        "reference": {"type": "string"},
        "status": {"type": "string", "enum": ["confirmed"]},
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "timezone": {"type": "string"},
        "practitioner": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "meeting_link": {"type": "string"},
        "booking_url": {"type": "string", "format": "uri"},
        "calendar_url": {"type": "string", "format": "uri"},
        "manage_url": {
            "type": "string",
            "format": "uri",
            "description": "Where the patient can reschedule or cancel (also in every email).",
        },
    },
}


def _problem_response(description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def _too_many_response() -> dict:
    response = _problem_response(
        "Too many requests from this address; wait as Retry-After says, then try again"
    )
    response["headers"] = {
        "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
    }
    return response


def document(base_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Clinic consult booking API",
            "version": "1.0.0",
            "description": "Free consult times and bookings. Errors are RFC 9457 problem details.",
        },
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "paths": {
            "/slots": {
                "get": {
                    "summary": "Free consult times",
                    "operationId": "listSlots",
                    "parameters": [
                        {
                            "name": "practitioner",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "A practitioner id or 'any' (default).",
                        },
                        {
                            "name": "from",
                            "in": "query",
                            "schema": {"type": "string", "format": "date"},
                            "description": "First local day (default today).",
                        },
                        {
                            "name": "to",
                            "in": "query",
                            "schema": {"type": "string", "format": "date"},
                            "description": "Last local day, inclusive (default from + 13 days, at most 62 days).",
                        },
                        {
                            "name": "timezone",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "IANA zone for days and times (default the clinic's).",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Free times",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["timezone", "from", "to", "slots"],
                                        "properties": {
                                            "timezone": {"type": "string"},
                                            "practitioner": {"type": "string"},
                                            "from": {"type": "string", "format": "date"},
                                            "to": {"type": "string", "format": "date"},
                                            "slots": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Slot"},
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        "422": _problem_response("Invalid query; each field is named"),
                        "429": _too_many_response(),
                    },
                }
            },
            "/bookings": {
                "post": {
                    "summary": "Book a free consult",
                    "operationId": "createBooking",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/BookingRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Booked",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Booking"}
                                }
                            },
                        },
                        "400": _problem_response("The body is not a JSON object"),
                        "409": _problem_response("That time was just taken; see alternatives"),
                        "422": _problem_response("Invalid input; each field is named"),
                        "429": _too_many_response(),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Slot": _SLOT,
                "Problem": _PROBLEM,
                "BookingRequest": _BOOKING_REQUEST,
                "Booking": _BOOKING,
            }
        },
    }
