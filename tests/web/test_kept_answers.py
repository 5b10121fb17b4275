"""Anonymous answers of /book and /api/v1/slots are kept a moment and served again as they were.

What must hold: a kept answer is the answer (same body, same headers but the per-visitor
cookie); it is served with no database work; the booking page's CSRF token is fresh for each
visitor and works; a visitor with a session never gets a kept answer; errors are never kept;
a write committed in this process forgets everything at once; and nothing outlives
RECENT_ANSWER_SECONDS.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import ClinicSettings
from clinic.web import kept_answers as recent_answers
from tests.support import factories
from tests.support.apps import csrf_token, running_app
from tests.support.booking import hold_from
from tests.support.concurrency import api_body
from tests.support.queries import counting

SLOTS = "/api/v1/slots?timezone=Europe/London"
BOOK = "/book?tz=Europe/London"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')


@pytest.fixture
def clinic(app):
    factories.clinic(timezone="Europe/London")
    return factories.practitioner(name="Dr Ada Lane")


@pytest.fixture
def visitor(app):
    """A first-time visitor each request: no cookie is kept between requests."""
    return app.test_client(use_cookies=False)


def fetch(client, url, **kwargs):
    with counting() as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.text[:300]
    return response, len(statements)


def comparable(response) -> dict:
    return {k: v for k, v in response.headers.items() if k not in ("Set-Cookie", "Date")}


def test_the_slots_api_is_answered_again_without_the_database(clinic, visitor):
    first, worked = fetch(visitor, SLOTS)
    again, kept = fetch(visitor, SLOTS)
    assert worked > 0 and kept == 0
    assert again.get_json() == first.get_json() and again.get_json()["slots"]
    assert comparable(again) == comparable(first)


def test_the_booking_page_is_served_again_with_a_fresh_working_csrf_token(clinic, visitor):
    first, worked = fetch(visitor, BOOK)
    again, kept = fetch(visitor, BOOK)
    assert worked > 0 and kept == 0
    assert TOKEN.sub("", again.text) == TOKEN.sub("", first.text)
    assert csrf_token(again.text) != csrf_token(first.text)
    assert "\x00" not in again.text
    assert comparable(again) == comparable(first)

    # The kept page's form works: its token belongs to the session it was served with.
    cookie = again.headers["Set-Cookie"].split(";", 1)[0]
    start = re.search(r'name="start" value="([^"]+)"', again.text).group(1)
    held = hold_from(visitor, again.text, start, headers={"Cookie": cookie})
    assert held.status_code == 303, held.text[:500]
    assert "/book/" in held.headers["Location"]


def test_a_visitor_with_a_session_is_never_served_a_kept_answer(clinic, client):
    fetch(client, BOOK)  # the page sets the session cookie the client then sends
    for url in (BOOK, SLOTS):
        _, statements = fetch(client, url)
        assert statements > 0, url


def test_errors_are_never_kept(clinic, visitor):
    for _ in range(2):
        with counting() as statements:
            response = visitor.get("/api/v1/slots?from=not-a-day")
        assert response.status_code == 422
        assert statements


def test_a_write_in_this_process_forgets_every_kept_answer(clinic, visitor):
    offered = fetch(visitor, SLOTS)[0].get_json()["slots"]
    fetch(visitor, SLOTS)
    chosen = offered[0]
    start = datetime.fromisoformat(chosen["start_utc"])
    booked = visitor.post(
        "/api/v1/bookings", json=api_body(start, chosen["practitioner_ids"][0], index=1)
    )
    assert booked.status_code == 201, booked.get_json()
    after, statements = fetch(visitor, SLOTS)
    assert statements > 0
    assert chosen["start_utc"] not in [s["start_utc"] for s in after.get_json()["slots"]]


def test_nothing_is_kept_longer_than_the_setting(clinic, visitor, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(recent_answers.time, "monotonic", lambda: clock[0])
    fetch(visitor, SLOTS)
    seconds = visitor.application.config["RECENT_ANSWER_SECONDS"]
    clock[0] += seconds - 0.01
    assert fetch(visitor, SLOTS)[1] == 0
    clock[0] += 0.01
    assert fetch(visitor, SLOTS)[1] > 0


def test_zero_seconds_keeps_nothing(database_url, backend):
    with running_app(database_url, backend, RECENT_ANSWER_SECONDS=0) as app:
        factories.clinic(timezone="Europe/London")
        factories.practitioner()
        visitor = app.test_client(use_cookies=False)
        for url in (SLOTS, BOOK, SLOTS, BOOK):
            assert fetch(visitor, url)[1] > 0


def test_a_kept_answer_moves_on_with_the_day_it_was_asked_for(clinic, visitor):
    """Different addresses are different answers: the next week's page is not this week's."""
    day = factories.next_grid_time(days_ahead=8).date()
    this_week, _ = fetch(visitor, BOOK)
    next_week, statements = fetch(visitor, f"{BOOK}&day={day}")
    assert statements > 0
    assert day.isoformat() in next_week.text and TOKEN.sub("", next_week.text) != TOKEN.sub(
        "", this_week.text
    )


def test_a_query_string_that_is_not_utf8_is_answered_not_crashed(clinic, visitor):
    # WSGI hands the query string over as bytes in a latin-1 str: "\xff" is the byte 0xFF.
    for path, raw in (("/book", "tz=\xff"), ("/api/v1/slots", "timezone=\xff&from=\xfe")):
        for _ in range(2):  # worked out, then perhaps kept: neither may fail
            response = visitor.get(path, environ_overrides={"QUERY_STRING": raw})
            assert response.status_code in (200, 422), (path, response.status_code)


def test_a_bulk_write_forgets_kept_answers_too(clinic, visitor):
    fetch(visitor, SLOTS)
    db.session.execute(sa.update(ClinicSettings).values(slot_step_minutes=20))
    db.session.commit()
    after, statements = fetch(visitor, SLOTS)
    assert statements > 0
    minutes = {datetime.fromisoformat(s["start"]).minute for s in after.get_json()["slots"]}
    assert minutes - {0, 30}, "the new 20-minute step shows at once"


def test_an_answer_worked_out_across_a_write_is_not_kept():
    """A threaded server: another thread commits while this answer is worked out."""
    answers = recent_answers.RecentAnswers(seconds=2)
    began = answers.generation
    answers.forget_all()  # the other thread's commit
    answers.keep("/api/v1/slots?", "{}", "application/json", False, began)
    assert answers.get("/api/v1/slots?") is None
    answers.keep("/api/v1/slots?", "{}", "application/json", False, answers.generation)
    assert answers.get("/api/v1/slots?") is not None
