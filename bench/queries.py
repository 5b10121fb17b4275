"""SQL statements per slots request and per booking: the same on a small clinic and a big one.

Counted in the app itself, through Flask's test client (a server would send the same
statements), with ``counting`` from tests/support/queries.py: every statement sent to the
database except ``BEGIN``, ``PRAGMA``, ``SAVEPOINT`` and ``RELEASE``. The small clinic has one
practitioner and nothing else; the one with history has ten practitioners in five zones, past
consults, two consults a day booked for 60 days ahead, one-day overrides and time off. Each
booking is for "any" practitioner, at a free time three to nine days ahead (so both reminders
are still due, as they would be on the other clinic). The web booking is two requests: holding
the time, then sending the details form; the pages fetched for their CSRF tokens don't count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench import data
from bench.report import Row
from clinic.availability.open_times import active_practitioners
from clinic.core.extensions import db
from tests.support.queries import api_booking_statements, statements_for, web_booking_statements

PRACTITIONERS = 10
SLOTS = (("1 practitioner × 14 days", True, 14), ("all practitioners × 60 days", False, 60))


def run(context) -> list[Row]:
    rows = []
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    past = 1_000 if context.quick else 100_000
    for kind in ("sqlite", "postgresql"):
        small = _counts(_small_clinic(context, kind), now)
        large = _counts(_clinic_with_history(context, kind, past, now), now)
        for measure, before in small.items():
            after = large[measure]
            rows.append(
                Row(
                    "Queries",
                    f"Statements per {measure}, {kind}: small clinic → {past:,} past consults",
                    f"{before} → {after}",
                    "constant",
                    before == after,
                )
            )
    return rows


def _small_clinic(context, kind: str):
    url = context.database(kind, "queries_small")
    data.seed_clinic(url, 1, horizon_days=90)
    return data.app_for(url)


def _clinic_with_history(context, kind: str, past: int, now: datetime):
    url = context.database(kind, "queries_history")
    ids = data.seed_clinic(url, PRACTITIONERS, horizon_days=90)
    data.add_past_consults(url, ids, past, now)
    data.add_booked_consults(url, ids, days=60, per_day=2, now=now)
    data.add_overrides_and_time_off(url, ids, days=60, now=now)
    return data.app_for(url)


def _counts(app, now: datetime) -> dict[str, str]:
    """Statements per request, by measure; the app's engine is disposed of afterwards."""
    client = app.test_client()
    with app.app_context():
        first = active_practitioners()[0].id
        db.session.remove()
    today = now.date()
    free = _free_times(client, today + timedelta(days=3), today + timedelta(days=9))
    counts = {}
    for label, one, days in SLOTS:
        who = f"practitioner={first}&" if one else ""
        url = f"/api/v1/slots?{who}from={today}&to={today + timedelta(days=days - 1)}"
        counts[f"slots request, {label}"] = str(statements_for(client, url))
    counts["API booking"] = str(api_booking_statements(client, "any", free[0], "api@example.com"))
    hold, details = web_booking_statements(client, "any", free[-1], "web@example.com")
    counts["web booking (hold + details)"] = f"{hold} + {details}"
    with app.app_context():
        db.engine.dispose()
    return counts


def _free_times(client, first, last) -> list[datetime]:
    """Free times for anyone between two days; asking also opens the app's first connection,
    so that no one-off statement of a new connection is counted later."""
    response = client.get(f"/api/v1/slots?timezone=UTC&from={first}&to={last}")
    assert response.status_code == 200, response.text[:500]
    found = [datetime.fromisoformat(s["start_utc"]) for s in response.json["slots"]]
    assert len(found) >= 2, "the benchmark clinic should have free times"
    return found
