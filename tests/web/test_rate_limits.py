"""Rate limits: each limited page trips at its configured limit with a plain 429 (HTML for
people, problem+json for the API) and a Retry-After; other addresses carry on; a throttled
booking writes nothing. The slow tests at the end run real processes against Redis."""

from __future__ import annotations

import os
import re
import shutil
import uuid

import pytest
import requests
import sqlalchemy as sa

import config
from clinic.core.extensions import db
from clinic.core.models import Appointment, OutboxMessage, Patient, Status
from clinic.web import rate_limits
from tests.support import factories
from tests.support.api import body
from tests.support.apps import make_app, running_app, unavailable
from tests.support.booking import book, fill_details, hold
from tests.support.servers import free_port, serving
from tests.support.staff import sign_in

OTHER_ADDRESS = "203.0.113.9"  # another client (TEST-NET-3), not the test client's 127.0.0.1


@pytest.fixture
def limited(database_url, backend):
    """``limited(NAME="3 per minute", ...)``: (app, practitioner): an app with those limits,
    a clinic and a practitioner working round the clock."""
    opened = []

    def start(**limits):
        context = running_app(database_url, backend, **limits)
        app = context.__enter__()
        opened.append(context)
        factories.clinic(timezone="America/New_York")
        return app, factories.practitioner(name="Dr Ada Lane")

    yield start
    for context in opened:
        context.__exit__(None, None, None)


def other_client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = OTHER_ADDRESS
    return client


def written() -> tuple[int, int, int]:
    """Consults, patients and emails in the database, as the requests left them."""
    db.session.rollback()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Appointment, Patient, OutboxMessage)
    )


def retry_after(response, most: int) -> int:
    seconds = int(response.headers["Retry-After"])
    # Flask-Limiter rounds the end of the window up by a second or two.
    assert 0 < seconds <= most + 2, response.headers
    return seconds


def assert_html_429(response, message: str, most: int = 60) -> None:
    assert response.status_code == 429, response.text[:300]
    assert response.mimetype == "text/html"
    main = re.search(r"<main.*</main>", response.text, re.S).group(0)
    assert "<h1>Too many requests</h1>" in main
    assert message in main, main
    assert "per 1 minute" not in main and "Traceback" not in main
    retry_after(response, most)


def assert_problem_429(response) -> None:
    assert response.status_code == 429, response.text[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 429
    assert problem["type"].endswith("/rate-limited")
    assert problem["title"] == "Too many requests"
    assert "Please wait a minute" in problem["detail"] and "Retry-After" in problem["detail"]
    retry_after(response, 60)


# --- booking online ------------------------------------------------------------------------


def test_choosing_a_time_and_sending_details_share_the_booking_limit(limited):
    app, _ = limited(BOOKING_RATE_LIMIT="3 per minute")
    client = app.test_client()
    first, second, third = (factories.next_grid_time(days_ahead=3, hour=h) for h in (14, 15, 16))

    held = hold(client, first)  # 1
    assert held.status_code == 303
    assert fill_details(client, held.headers["Location"]).status_code == 303  # 2
    held = hold(client, second)  # 3
    assert held.status_code == 303
    details_url = held.headers["Location"]
    before = written()

    assert_html_429(hold(client, third), "Too many requests from your network")
    refused = fill_details(client, details_url)
    assert_html_429(refused, "Please wait a minute, then try again")

    assert written() == before, "a throttled booking wrote something"
    statuses = db.session.scalars(sa.select(Appointment.status).order_by(Appointment.starts_at))
    assert list(statuses) == [Status.CONFIRMED, Status.HELD]
    assert client.get("/book?tz=UTC").status_code == 200, "the picker itself is not limited"
    assert client.get(details_url).status_code == 200, "only the POST counts as booking"
    assert hold(other_client(app), third).status_code == 303


def test_the_page_says_how_long_to_wait_for_a_longer_limit(limited):
    app, _ = limited(BOOKING_RATE_LIMIT="1 per hour")
    client = app.test_client()
    assert hold(client, factories.next_grid_time(days_ahead=3, hour=14)).status_code == 303

    refused = hold(client, factories.next_grid_time(days_ahead=3, hour=15))

    assert_html_429(refused, "Please wait 60 minutes, then try again", most=3600)
    assert retry_after(refused, 3600) > 3500


@pytest.mark.parametrize(
    "seconds, words",
    [(1, "a minute"), (61, "a minute"), (89, "a minute"), (90, "2 minutes")]
    + [(3601, "60 minutes"), (5369, "89 minutes"), (5400, "about 2 hours")]
    + [(86400, "about 24 hours")],
)
def test_the_wait_in_words(seconds, words):
    assert rate_limits.wait_phrase(seconds) == words


# --- the JSON API ----------------------------------------------------------------------------


def test_the_slots_api_trips_at_its_limit_with_a_problem(limited):
    app, _ = limited(API_RATE_LIMIT="3 per minute")
    client = app.test_client()
    day = factories.next_grid_time(days_ahead=2).date()
    url = f"/api/v1/slots?timezone=UTC&from={day}&to={day}"

    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    assert_problem_429(client.get(url))

    assert other_client(app).get(url).status_code == 200
    booked = client.post("/api/v1/bookings", json=body(factories.next_grid_time(3, 14)))
    assert booked.status_code == 201, "bookings are counted apart from slot queries"


def test_the_booking_api_trips_at_its_own_limit_and_writes_nothing(limited):
    app, _ = limited(API_BOOKING_RATE_LIMIT="2 per minute")
    client = app.test_client()
    taken, free = factories.next_grid_time(3, 14), factories.next_grid_time(3, 16)
    assert client.post("/api/v1/bookings", json=body(taken)).status_code == 201
    assert client.post("/api/v1/bookings", json=body(taken)).status_code == 409
    before = written()

    assert_problem_429(client.post("/api/v1/bookings", json=body(free)))

    assert written() == before, "a throttled booking wrote something"
    assert client.get("/api/v1/slots").status_code == 200
    assert other_client(app).post("/api/v1/bookings", json=body(free)).status_code == 201


def test_the_openapi_document_names_the_429(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for operation in (paths["/slots"]["get"], paths["/bookings"]["post"]):
        assert "Retry-After" in operation["responses"]["429"]["headers"]


# --- secret links and sign-in ----------------------------------------------------------------


def test_a_manage_link_trips_at_its_limit_for_one_address_only(limited):
    app, doctor = limited(LINK_RATE_LIMIT="2 per minute")
    _, token = book(doctor, factories.next_grid_time(days_ahead=3, hour=15))
    client = app.test_client()

    assert [client.get(f"/manage/{token}").status_code for _ in range(2)] == [200, 200]
    assert_html_429(client.get(f"/manage/{token}"), "Too many requests from your network")
    assert other_client(app).get(f"/manage/{token}").status_code == 200


def test_sign_in_trips_at_its_address_limit_for_one_address_only(limited):
    app, _ = limited(SIGN_IN_ADDRESS_LIMIT="2 per minute")
    client = app.test_client()

    statuses = [sign_in(client, f"nobody{i}@clinic.test").status_code for i in range(2)]
    assert statuses == [401, 401]
    assert_html_429(sign_in(client, "nobody@clinic.test"), "Too many sign-in attempts")
    assert sign_in(other_client(app), "nobody@clinic.test").status_code == 401


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", rate_limits.SETTINGS)
def test_a_limit_that_cannot_be_read_stops_the_app_from_starting(name):
    with pytest.raises(RuntimeError, match=f"{name} must be a rate limit"):
        make_app("sqlite://", **{name: "lots"})


def test_the_production_limits_are_readable():
    defaults = {name: getattr(config.Config, name) for name in rate_limits.SETTINGS}
    app = make_app("sqlite://", **defaults)  # would raise on a limit it can't read
    assert {name: app.config[name] for name in defaults} == defaults


# --- counters shared by several processes (slow: real gunicorn processes) --------------------

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SHARED_LIMIT = "4 per hour"  # an hour, so no window can end halfway through a test


@pytest.fixture
def seeded_database(sqlite_template, tmp_path) -> str:
    """A SQLite database for several processes at once, with a clinic and a practitioner."""
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = make_app(url)
    with app.app_context():
        factories.clinic()
        factories.practitioner()
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture
def redis_prefix():
    """(prefix, keys): a key prefix of this test's own on the Redis server and a function
    listing its keys, which are deleted afterwards; or a skip (a failure under CI) where no
    Redis answers."""
    import redis

    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        server.ping()
    except redis.RedisError as error:
        unavailable(f"Redis not reachable at {REDIS_URL}: {type(error).__name__}")
    prefix = f"clinic-test-{uuid.uuid4().hex[:12]}"
    yield prefix, lambda: list(server.scan_iter(match=f"*{prefix}*"))
    for key in server.scan_iter(match=f"*{prefix}*"):
        server.delete(key)
    server.close()


def alternate(servers, count: int) -> list[requests.Response]:
    """``count`` slot queries, sent to each server in turn."""
    return [
        requests.get(f"{servers[i % len(servers)].base}/api/v1/slots", timeout=30)
        for i in range(count)
    ]


@pytest.mark.slow
def test_two_processes_on_redis_share_one_count(seeded_database, redis_prefix, tmp_path):
    prefix, keys = redis_prefix
    assert keys() == []
    settings = dict(
        API_RATE_LIMIT=SHARED_LIMIT, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix
    )
    with serving(seeded_database, tmp_path, 2, **settings) as servers:
        replies = alternate(servers, 5)

    # Each process has answered two; the fifth, the first's third, is over the shared four.
    assert [r.status_code for r in replies] == [200, 200, 200, 200, 429]
    refused = replies[-1]
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/rate-limited")
    assert 3000 < int(refused.headers["Retry-After"]) <= 3602
    assert keys(), "no counter under this run's prefix in Redis"


@pytest.mark.slow
def test_two_processes_in_memory_count_apart(seeded_database, tmp_path):
    """The same requests without Redis: each process counts alone, so the shared count above
    is Redis's doing."""
    with serving(seeded_database, tmp_path, 2, API_RATE_LIMIT=SHARED_LIMIT) as servers:
        replies = alternate(servers, 9)

    assert [r.status_code for r in replies] == [200] * 8 + [429]


@pytest.mark.slow
def test_with_redis_down_the_site_serves_and_still_counts(seeded_database, tmp_path):
    """Nothing listens at the Redis address: no request fails for it, and the process
    counts in its own memory instead."""
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings = dict(API_RATE_LIMIT=SHARED_LIMIT, RATELIMIT_STORAGE_URI=nowhere)
    with serving(seeded_database, tmp_path, 1, **settings) as servers:
        replies = alternate(servers, 5)
        log = servers[0].log()

    assert [r.status_code for r in replies] == [200, 200, 200, 200, 429]
    assert "falling back to in-memory storage" in log
    assert "Traceback" not in log
