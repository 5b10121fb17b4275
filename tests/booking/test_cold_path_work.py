"""The work behind a page of free times that no cache can answer (the process's free times
emptied before each request, each request another day, zone or practitioner): the same
statements every time, all of them sent before rendering starts; and another day, zone or
practitioner asked of a warm cache is cut from it, with no statement for free times. Counted,
not timed."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask import before_render_template, template_rendered
from sqlalchemy import event

from clinic.availability.open_times import slot_cache
from clinic.core.extensions import db
from clinic.core.models import Practitioner
from tests.support import factories
from tests.support.booking import book, hold_from
from tests.support.queries import counting
from tests.support.staff import seed_staff_clinic, sign_in

ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC")


@contextmanager
def while_rendering(app):
    """The statements sent while a template renders, beside all of a request's."""
    rendering = []
    during: list[str] = []

    def started(*_args, **_kwargs) -> None:
        rendering.append(True)

    def finished(*_args, **_kwargs) -> None:
        rendering.pop()

    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    try:
        with app.app_context(), counting() as statements:
            yield statements, during, rendering
    finally:
        before_render_template.disconnect(started, app)
        template_rendered.disconnect(finished, app)


def asks(practitioners: list[int]) -> list[str]:
    """Query strings no two of which a cache could answer alike."""
    today = datetime.now(UTC).date()
    found = []
    for i, zone in enumerate(ZONES):
        who = ["any", *map(str, practitioners)][i % (len(practitioners) + 1)]
        day = (today + timedelta(days=3 * i + 1)).isoformat()
        found.append(f"tz={zone}&day={day}&practitioner={who}")
    return found


def work(app, client, url: str, cold: bool = True) -> tuple[int, int]:
    """(statements in all, statements sent while rendering) behind one GET of ``url``; with
    ``cold``, no free times are kept from earlier requests."""
    if cold:
        with app.app_context():
            slot_cache().clear()
    with while_rendering(app) as (statements, during, rendering):

        def record(*_args) -> None:
            if rendering:
                during.append("statement")

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            response = client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text[:300]
    return len(statements), len(during)


@pytest.fixture
def people(app):
    factories.clinic()
    ids = [factories.practitioner(timezone=zone).id for zone in ZONES[:3]]
    for i, pid in enumerate(ids):
        for day in range(2, 12, 3):
            start = factories.next_grid_time(day, 9 + i)
            book(db.session.get(Practitioner, pid), start, email=f"p{pid}-{day}@example.com")
    return ids


def test_the_booking_page_cold_sends_the_same_statements_and_none_while_rendering(
    app, client, people
):
    counts = [work(app, client, f"/book?{query}") for query in asks(people)]
    assert {during for _, during in counts} == {0}, counts
    assert len({total for total, _ in counts}) == 1, counts


def test_the_slots_api_cold_sends_the_same_statements(app, client, people):
    def api(query: str) -> str:
        return query.replace("tz=", "timezone=").replace("day=", "from=")

    counts = [work(app, client, f"/api/v1/slots?{api(query)}") for query in asks(people)]
    assert len({total for total, _ in counts}) == 1, counts


def test_another_day_zone_or_practitioner_is_cut_from_the_kept_free_times(app, client, people):
    """Each practitioner's free times are kept a week at a time: once every practitioner's
    weeks have been asked about, any other window, zone or choice within them sends one
    statement: the practitioners (with their versions), the settings and the consult type."""
    urls = [f"/book?{query}" for query in asks(people)]
    urls += [
        f"/api/v1/slots?{q.replace('tz=', 'timezone=').replace('day=', 'from=')}"
        for q in asks(people)
    ]
    today = datetime.now(UTC).date()
    weeks = f"/api/v1/slots?from={today - timedelta(days=1)}&to={today + timedelta(days=60)}"
    cold, _ = work(app, client, weeks)  # any practitioner: all of them, for these weeks
    counts = [work(app, client, url, cold=False)[0] for url in urls]
    assert max(counts) < cold, (cold, counts)
    assert set(counts) == {1}, counts


def test_the_staff_pages_of_free_times_send_nothing_while_rendering(app, client):
    with app.app_context():
        seed_staff_clinic()
    assert sign_in(client, "desk").status_code == 303
    for query in asks([1, 2]):
        _, during = work(app, client, f"/staff/book?{query}")
        assert during == 0, query


@pytest.mark.parametrize("backend", ["postgresql"])
def test_pages_of_free_times_read_outside_a_transaction_and_a_hold_inside_one(app, client, people):
    """On PostgreSQL the pages of free times only read, each statement on its own (no BEGIN
    and ROLLBACK round trips around it); taking a time still runs in one transaction."""
    modes: list[tuple[str, bool]] = []

    def record(connection, _cursor, statement, *_args) -> None:
        modes.append((statement.split()[0], connection.connection.dbapi_connection.autocommit))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            query = asks(people)[0]
            api = query.replace("tz=", "timezone=").replace("day=", "from=")
            for url in (f"/book?{query}", f"/api/v1/slots?{api}"):
                assert client.get(url).status_code == 200
                assert modes and all(autocommit for _, autocommit in modes), (url, modes)
                modes.clear()
            page = client.get("/book?tz=UTC")
            modes.clear()
            start = factories.next_grid_time(days_ahead=3, hour=15)
            held = hold_from(client, page.text, start, tz="UTC")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert held.status_code == 303, held.text[:300]
    assert any(verb == "INSERT" for verb, _ in modes), modes
    assert not any(autocommit for _, autocommit in modes), modes
