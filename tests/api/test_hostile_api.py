"""The JSON API against its own OpenAPI document, driven by schemathesis: generated queries
and bodies, fitting the document and not, never give a 5xx, and every response matches the
document (a listed status, its content type, body schema and headers).

Runs on SQLite: the API's text meets PostgreSQL only through the booking service, whose NUL
handling has explicit cases on both databases (test_hostile_nul.py). The operations are drawn
through ``as_strategy`` rather than ``@schema.parametrize()``, whose fixture-based loading
reads a pytest internal that pytest 9 removed.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from clinic.core.extensions import db
from tests.support import factories
from tests.support.hostile import sqlite_app

pytestmark = pytest.mark.slow
OPERATIONS = [("/slots", "GET"), ("/bookings", "POST")]


@pytest.fixture
def api_schema(sqlite_template, tmp_path):
    with sqlite_app(sqlite_template, tmp_path) as app:
        with app.app_context():
            factories.clinic(timezone="Europe/London")
            factories.practitioner(name="Dr Ada Lane", email="ada@clinic.example")
            db.session.remove()
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_document_lists_every_api_route(app, api_schema):
    rules = {
        (rule.rule.removeprefix("/api/v1"), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(op.path, op.method.upper()) for op in _operations(api_schema)}
    assert rules == documented == set(OPERATIONS)


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
@settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_api_conforms_to_its_document(api_schema, path, method, mode, data):
    operation = api_schema[path][method]
    case = data.draw(operation.as_strategy(generation_mode=mode))
    # Schema-valid requests may still be refused for reasons of the moment (a day beyond the
    # horizon, a time not free, an id nobody has): a 422 naming the field, checked against the
    # Problem schema like every other response. Everything else schemathesis checks applies.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


def test_a_real_booking_and_its_clash_match_the_document(api_schema):
    """Generated times are rarely free: book one that is, then the same again (409), so the
    201 and 409 bodies are checked against the document too."""
    listed = api_schema["/slots"]["GET"].Case(query={"timezone": "Asia/Tokyo"})
    free = listed.call_and_validate().json()["slots"][0]
    body = {
        "practitioner": free["practitioner_ids"][0],
        "start": free["start"],
        "timezone": "Asia/Tokyo",
        "name": "Ana Díaz",
        "email": "ana@example.com",
        "phone": "",
        "consent_privacy": True,
        "consent_not_emergency": True,
    }
    booking = api_schema["/bookings"]["POST"]
    first = booking.Case(body=body, media_type="application/json").call_and_validate()
    assert first.status_code == 201
    again = booking.Case(body=body, media_type="application/json").call_and_validate()
    assert again.status_code == 409
    assert again.json()["alternatives"]


@pytest.mark.parametrize("day", ["2026-1-5", " 2026-01-05", "20260105", "2026-01-05x"])
def test_days_must_be_written_as_the_document_says(client, day):
    factories.clinic()
    factories.practitioner()
    response = client.get("/api/v1/slots", query_string={"from": day})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "from"
