"""NUL in every field of every form, in the API and in the URL's own segments: PostgreSQL
refuses NUL in text outright, so each must be refused (or ignored) by the app before it reaches
the database. Runs on both databases; on SQLite it checks the same answers.

The fields come from the pages as in test_hostile_forms.py: each is sent NUL while the rest of
the form is as a browser would send it. Every problem found is listed at the end, rather than
stopping at the first.
"""

from __future__ import annotations

import pytest

from clinic.intake.questionnaire import SECTIONS
from tests.support.hostile import digest, seed_world
from tests.support.hostile_forms import (
    AUDITED_ON_REFUSAL,
    GETS,
    POSTS,
    SENT_TO,
    _fields,
    _phone_details_page,
)
from tests.support.hostile_values import encode
from tests.support.staff import sign_in

NUL = "a\x00b"


@pytest.fixture
def world(app):
    return seed_world()


def _forms(app, table: dict, places: dict):
    """(client, endpoint, page, target) for every form; staff forms with an admin signed in."""
    admin = app.test_client()
    assert sign_in(admin, "admin").status_code == 303
    for endpoint, (who, page, action) in table.items():
        client = admin if who else app.test_client()
        here = dict(places, phone_details=_phone_details_page(admin))
        for section in [s.id for s in SECTIONS] if "{section}" in page else [None]:
            here["section"] = section
            yield client, endpoint, page.format(**here), action.format(**here)


def _send(client, method: str, target: str, pairs) -> int:
    if method == "post":
        return client.post(
            target, data=encode(pairs, {}), content_type="application/x-www-form-urlencoded"
        ).status_code
    return client.get(f"{target}?{encode(pairs, {}).decode()}").status_code


@pytest.mark.parametrize("method", ["post", "get"])
def test_nul_in_any_field_is_refused_before_the_database(app, world, method):
    problems = []
    table = POSTS if method == "post" else GETS
    for client, endpoint, page_url, target in _forms(app, table, world):
        fields = _fields(client, page_url, method, target)
        target = SENT_TO.get(endpoint, target).format(**world)
        skip = AUDITED_ON_REFUSAL.get(endpoint, frozenset())
        session = client.get_cookie("session")
        for name in fields:
            if name == "csrf_token":
                continue
            pairs = [(n, NUL if n == name else offered[-1]) for n, offered in fields.items()]
            if session is not None:
                client.set_cookie(session.key, session.value)
            before = digest(skip)
            status = _send(client, method, target, pairs)
            if status >= 500 or (400 <= status < 500 and digest(skip) != before):
                problems.append((endpoint, page_url, name, status))
    assert problems == []


PATHS = [
    "/book/a%00b",
    "/book/a%00b/done",
    "/manage/a%00b",
    "/intake/a%00b",
    "/intake/{token}/a%00b",
    "/calendar/a%00b.ics",
    "/staff/consults/A%00B",
    "/staff/consults/A%00B/intake/print",
    "/staff/consults/{ref}%00",
]


def test_nul_in_a_link_or_the_api_is_refused(app, world):
    """Links are looked up by a hash of their token, or by reference: NUL is simply not
    found. The API names the field."""
    staff, anyone = app.test_client(), app.test_client()
    assert sign_in(staff, "admin").status_code == 303
    before = digest()
    found = {
        path: (staff if path.startswith("/staff/") else anyone)
        .get(path.format(**world))
        .status_code
        for path in PATHS
    }
    assert found == dict.fromkeys(PATHS, 404)
    booking = {
        "practitioner": "any",
        "start": "2030-01-07T10:00:00Z",
        "timezone": "Europe/London",
        "name": "Ana Díaz",
        "email": "ana@example.com",
        "phone": "+44 20 7946 0000",
        "consent_privacy": True,
        "consent_not_emergency": True,
    }
    for field in ("practitioner", "timezone", "name", "email", "phone", "start"):
        response = anyone.post("/api/v1/bookings", json=booking | {field: NUL})
        assert response.status_code == 422, field
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    for field in ("practitioner", "timezone", "from", "to"):
        response = anyone.get("/api/v1/slots", query_string={field: NUL})
        assert response.status_code == 422, field
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert digest() == before
