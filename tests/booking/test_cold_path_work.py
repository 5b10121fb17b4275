"""The work behind a page of free times that no cache can answer (each request another day,
zone or practitioner, as the bench's cache-cold rows ask): the same statements every time,
all of them sent before rendering starts. Counted, not timed."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask import before_render_template, template_rendered
from sqlalchemy import event

from clinic.core.extensions import db
from clinic.core.models import Practitioner
from tests.support import factories
from tests.support.booking import book
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


def work(app, client, url: str) -> tuple[int, int]:
    """(statements in all, statements sent while rendering) behind one GET of ``url``."""
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


def test_the_staff_pages_of_free_times_send_nothing_while_rendering(app, client):
    with app.app_context():
        seed_staff_clinic()
    assert sign_in(client, "desk").status_code == 303
    for query in asks([1, 2]):
        _, during = work(app, client, f"/staff/book?{query}")
        assert during == 0, query
