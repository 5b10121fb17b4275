"""The number of SQL statements behind a slots request is a constant.

It must not grow with the days shown, the practitioners asked about, or the consults booked.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import time, timedelta

import pytest
from sqlalchemy import event

from clinic.extensions import db
from clinic.models import HoursOverride, HoursOverrideRange
from tests import factories


@contextmanager
def counting():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def statements_for(client, url) -> int:
    with counting() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    return len(statements)


@pytest.fixture
def clinic(app):
    factories.clinic()
    people = [factories.practitioner(timezone=tz) for tz in ("UTC", "Europe/London", "Asia/Tokyo")]
    start = factories.next_grid_time(days_ahead=1)
    for i in range(20):
        factories.appointment(people[i % 3], start + timedelta(days=i, hours=i % 5))
    factories.time_off(start + timedelta(days=3), start + timedelta(days=4), people[0].id)
    for days, ranges in [(2, []), (5, [(time(9), time(12)), (time(13), time(0))])]:
        db.session.add(
            HoursOverride(
                practitioner_id=people[1].id,
                day=start.date() + timedelta(days=days),
                ranges=[HoursOverrideRange(start_time=a, end_time=b) for a, b in ranges],
            )
        )
    db.session.commit()
    return people


def test_api_slots_statements_do_not_grow_with_days_or_practitioners(client, clinic):
    day = factories.next_grid_time().date()
    one_week_one = statements_for(
        client, f"/api/v1/slots?practitioner={clinic[0].id}&from={day}&to={day + timedelta(6)}"
    )
    two_months_any = statements_for(
        client, f"/api/v1/slots?from={day}&to={day + timedelta(days=59)}"
    )
    assert one_week_one == two_months_any
    # Settings, consult type, practitioners, then one each for hours, overrides, time off and
    # consults.
    assert one_week_one <= 7


def test_booking_page_statements_do_not_grow_with_practitioners(client, clinic):
    one = statements_for(client, f"/book?practitioner={clinic[0].id}")
    every = statements_for(client, "/book")
    for _ in range(5):
        factories.practitioner()
    more = statements_for(client, "/book")
    assert one == every == more
