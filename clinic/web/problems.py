"""RFC 9457 problem details: every API error is ``application/problem+json``."""

from __future__ import annotations

from flask import Response, json

PROBLEM_TYPES = "https://clinic-booking.invalid/problems/"


def problem(status: int, title: str, detail: str | None = None, kind: str | None = None, **extra):
    body = {
        "type": PROBLEM_TYPES + kind if kind else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


def invalid(errors: dict[str, list[str]]):
    """422 naming each field that was wrong and why."""
    listed = [
        {"field": field, "message": message} for field, msgs in errors.items() for message in msgs
    ]
    return problem(
        422,
        "Some of the information is not valid",
        "; ".join(f"{e['field']}: {e['message']}" for e in listed),
        "invalid-input",
        errors=listed,
    )


def field_errors(form) -> dict[str, list[str]]:
    """A form's errors keyed by the names the client sent (``from``, not ``start_day``)."""
    return {field.name: list(field.errors) for field in form if field.errors}
