# ruff: noqa: E501  (long description strings read better unbroken)
"""The OpenAPI 3.1 document for ``/api/v1`` (kept beside the routes it describes)."""

from __future__ import annotations

from clinic.core.formatting import zone_names

# What the query string and body accept, as strictly as a schema can say it. Rules that depend
# on the moment (a time still free, a day within the booking horizon, a practitioner taking
# bookings) are checked by the API and answered with 422 naming the field.
_ID_OR_ANY = {"type": "string", "pattern": "^(any|[0-9]+)$"}
_EMPTY = {"type": "string", "maxLength": 0}
_DAY = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}

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
            "description": "A practitioner id, or 'any' for the first available (the default, "
            "also when null).",
            "anyOf": [{"type": "integer", "minimum": 0}, _ID_OR_ANY, {"type": "null"}],
        },
        "start": {"type": "string", "format": "date-time", "description": "With its offset."},
        "timezone": {
            "$ref": "#/components/schemas/TimeZone",
            "description": "The patient's IANA zone, e.g. Europe/London.",
        },
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "phone": {
            "description": "Optional (empty or null for none): digits, spaces and + ( ) - . "
            "(6 to 30 once surrounding spaces are trimmed).",
            "anyOf": [
                {"type": "string", "pattern": "^\\s*\\+?[0-9 ()\\-.]{6,30}\\s*$"},
                _EMPTY,
                {"type": "null"},
            ],
        },
        "consent_privacy": {"const": True, "description": "Must be true."},
        "consent_not_emergency": {"const": True, "description": "Must be true."},
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
                            "schema": _ID_OR_ANY,
                            "description": "A practitioner id or 'any' (default).",
                        },
                        {
                            "name": "from",
                            "in": "query",
                            "schema": {"anyOf": [_DAY, _EMPTY]},
                            "description": "First local day (default today, also when empty); from yesterday to 730 days ahead.",
                        },
                        {
                            "name": "to",
                            "in": "query",
                            "schema": {"anyOf": [_DAY, _EMPTY]},
                            "description": "Last local day, inclusive (default from + 13 days, also when empty; at most 62 days).",
                        },
                        {
                            "name": "timezone",
                            "in": "query",
                            "schema": {
                                "anyOf": [{"$ref": "#/components/schemas/TimeZone"}, _EMPTY]
                            },
                            "description": "IANA zone for days and times (default the clinic's, also when empty).",
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
                "TimeZone": {"type": "string", "enum": list(zone_names())},
                "Problem": _PROBLEM,
                "BookingRequest": _BOOKING_REQUEST,
                "Booking": _BOOKING,
            }
        },
    }
