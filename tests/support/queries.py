"""Counting the SQL statements behind a request, for tests/booking/test_query_count.py and
the bench.

Only what the database is asked counts: ``BEGIN``, ``PRAGMA``, ``SAVEPOINT`` and ``RELEASE``
are bookkeeping. A booking's count leaves out the pages fetched for their CSRF tokens.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import event

from clinic.core.extensions import db
from tests.support.apps import csrf_token

BOOKKEEPING = ("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")


@contextmanager
def counting():
    """The statements sent on the app's engine inside the block (an app context is needed)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(BOOKKEEPING):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def statements_for(client, url) -> int:
    """Statements behind one GET of ``url``, which must answer 200."""
    with client.application.app_context(), counting() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    return len(statements)


def api_booking_statements(client, practitioner: str, start: datetime, email: str) -> int:
    """Statements behind one ``POST /api/v1/bookings``, which must answer 201."""
    body = {
        "practitioner": practitioner,
        "start": start.isoformat(),
        "timezone": "UTC",
        "name": "Query Count",
        "email": email,
        "consent_privacy": True,
        "consent_not_emergency": True,
    }
    with client.application.app_context(), counting() as statements:
        response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.text[:500]
    return len(statements)


def web_booking_statements(
    client, practitioner: str, start: datetime, email: str
) -> tuple[int, int]:
    """Statements behind the web booking: holding the time, then sending the details form."""
    token = csrf_token(client.get("/book?tz=UTC").text)
    form = {"csrf_token": token, "practitioner": practitioner, "tz": "UTC"}
    with client.application.app_context(), counting() as hold:
        held = client.post("/book/hold", data={**form, "start": start.isoformat()})
    assert held.status_code == 303, held.text[:500]
    details = held.headers["Location"]
    token = csrf_token(client.get(details).text)
    answers = {
        "csrf_token": token,
        "name": "Query Count",
        "email": email,
        "consent_privacy": "y",
        "consent_not_emergency": "y",
    }
    with client.application.app_context(), counting() as confirm:
        done = client.post(details, data=answers)
    assert done.status_code == 303 and done.headers["Location"].endswith("/done"), done.text[:500]
    return len(hold), len(confirm)
