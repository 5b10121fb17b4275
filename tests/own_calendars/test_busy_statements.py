"""The busy times of practitioners' own calendars cost a slots request no statements of their
own: 2,000 of them over the booking horizon, from two connected calendars, are read in the
same statements as none (one statement reads them all, for every practitioner asked about)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinic.availability.open_times import slot_cache
from clinic.core.extensions import db
from clinic.core.models import ExternalBusy
from tests.support import factories
from tests.support.own_calendars import connect_feed
from tests.support.queries import counting

BUSY = 2_000
HORIZON_DAYS = 60  # the clinic's (factories.clinic)


@pytest.fixture
def people(app):
    factories.clinic()  # all-day hours, a start every 30 minutes, a 10-minute buffer
    return [factories.practitioner(name="Dr Ada Lane").id, factories.practitioner().id]


def slots_request(client, url: str) -> tuple[int, set[str]]:
    """The statements behind one slots request worked out afresh (the cache of free times
    emptied first), and the free times it answered with."""
    with client.application.app_context():
        slot_cache().clear()
        with counting() as statements:
            response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    return len(statements), {s["start_utc"] for s in response.get_json()["slots"]}


def fill_calendars(practitioner_id: int) -> list[str]:
    """Two calendars connected, and 2,000 busy times in them spread over the horizon, as a
    sync stores them: a quarter of an hour every 43 minutes or so, day and night. Returns
    the grid times the busy times take (in the answer's form)."""
    connections = [connect_feed(practitioner_id, label=label) for label in ("Home", "Work")]
    first = factories.next_grid_time(days_ahead=1, hour=0)
    every = timedelta(days=HORIZON_DAYS - 2) / BUSY
    taken = []
    for i in range(BUSY):
        start = first + every * i
        db.session.add(
            ExternalBusy(
                connection_id=connections[i % 2],
                practitioner_id=practitioner_id,
                starts_at=start,
                ends_at=start + timedelta(minutes=15),
                key=f"{i:032x}",
            )
        )
        on_grid = first + timedelta(minutes=30) * ((start - first) // timedelta(minutes=30))
        taken.append(on_grid.isoformat().replace("+00:00", "Z"))
    db.session.commit()
    return taken


def test_slots_statements_are_the_same_with_2000_busy_times_as_with_none(client, people):
    ada = people[0]
    day = factories.next_grid_time().date()
    last = day + timedelta(days=HORIZON_DAYS - 1)
    urls = {
        "ada": f"/api/v1/slots?practitioner={ada}&timezone=UTC&from={day}&to={last}",
        "anyone": f"/api/v1/slots?timezone=UTC&from={day}&to={last}",
    }
    before = {who: slots_request(client, url) for who, url in urls.items()}
    taken = fill_calendars(ada)
    after = {who: slots_request(client, url) for who, url in urls.items()}

    # The busy times were read by the requests counted: Ada is offered none of their times
    # (no two busy times share one), while the other practitioner is free at all of them.
    ada_before, ada_after = before["ada"][1], after["ada"][1]
    assert not ada_after & set(taken)
    assert len(ada_before - ada_after) >= BUSY
    assert after["anyone"][1] == before["anyone"][1]

    counts = {who: count for who, (count, _) in before.items()}
    assert {who: count for who, (count, _) in after.items()} == counts
    # Settings, consult type, practitioners, then one each for hours, overrides, time off,
    # consults and the busy times of the practitioners' own calendars.
    assert counts["ada"] == counts["anyone"] <= 8
