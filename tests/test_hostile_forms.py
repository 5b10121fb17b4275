"""Every form, posted with random and adversarial values: never a 5xx, and a refusal (4xx)
changes nothing in the database.

The forms are found by walking the app's routes (every POST outside the JSON API must have a
row in ``POSTS``) and the templates (every GET form must have a row in ``GETS``); their fields
are read from the page as a browser would see it, so a new field is fuzzed without being
listed. Each field is then sent as offered, hostile (NUL, control and bidi characters, emoji,
very long text, dates like 0001-01-01 and 9999-12-31, numbers out of range), twice, as bytes
that are not UTF-8, or not at all, with unknown fields added.

Fuzzing runs on SQLite only, to stay quick: what PostgreSQL alone refuses (NUL in text) has
explicit cases on both databases in test_hostile_nul.py.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from clinic.core.extensions import db
from clinic.intake.questionnaire import SECTIONS
from tests.conftest import make_app
from tests.hostile_support import digest, form_on, seed_world, sqlite_app
from tests.hostile_values import encode, form_body, sweep
from tests.staff_support import PASSWORD, sign_in

pytestmark = pytest.mark.slow
# Hypothesis's examples per form; raise it for a longer hunt (HOSTILE_EXAMPLES=500).
FUZZ = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# endpoint: (who signs in, the page showing the form, where the form posts)
POSTS = {
    "booking.hold": (None, "/book", "/book/hold"),
    "booking.details": (None, "/book/{hold}", "/book/{hold}"),
    "booking.reschedule": (None, "/manage/{token}/reschedule", "/manage/{token}/reschedule"),
    "booking.cancel": (None, "/manage/{token}", "/manage/{token}/cancel"),
    "intake.page": (None, "/intake/{token}/{section}", "/intake/{token}/{section}"),
    "staff.sign_in": (None, "/staff/sign-in", "/staff/sign-in"),
    "staff.sign_out": ("admin", "/staff/", "/staff/sign-out"),
    "staff.password": ("admin", "/staff/password", "/staff/password"),
    "staff.cancel_consult": ("admin", "/staff/consults/{ref}", "/staff/consults/{ref}/cancel"),
    "staff.record_outcome": ("admin", "/staff/consults/{past}", "/staff/consults/{past}/outcome"),
    "staff.add_note": ("admin", "/staff/consults/{ref}", "/staff/consults/{ref}/notes"),
    "staff.acknowledge_alert": (
        "admin",
        "/staff/consults/{ref}",
        "/staff/consults/{ref}/alerts/{alert}/acknowledge",
    ),
    "staff.reschedule": (
        "admin",
        "/staff/consults/{ref}/reschedule",
        "/staff/consults/{ref}/reschedule",
    ),
    "staff.phone_booking_details": ("admin", "{phone_details}", "/staff/book/details"),
    "staff.add_hours": ("admin", "/staff/availability/{ada}", "/staff/availability/{ada}/hours"),
    "staff.remove_hours": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/hours/{ada_hours}/remove",
    ),
    "staff.add_time_off": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/time-off",
    ),
    "staff.remove_time_off": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/time-off/{ada_off}/remove",
    ),
    "staff.add_override": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/overrides",
    ),
    "staff.remove_override": (
        "admin",
        "/staff/availability/{ada}",
        "/staff/availability/{ada}/overrides/{ada_override}/remove",
    ),
    "staff.add_closure": ("admin", "/staff/closures", "/staff/closures"),
    "staff.remove_closure": ("admin", "/staff/closures", "/staff/closures/{closure}/remove"),
    "staff.settings": ("admin", "/staff/settings", "/staff/settings"),
    "staff.change_crisis_line": (
        "admin",
        "/staff/settings/crisis-lines",
        "/staff/settings/crisis-lines/gb",
    ),
    "staff.new_practitioner": ("admin", "/staff/practitioners/new", "/staff/practitioners/new"),
    "staff.edit_practitioner": (
        "admin",
        "/staff/practitioners/{ada}",
        "/staff/practitioners/{ada}",
    ),
    "staff.edit_consult_type": (
        "admin",
        "/staff/consult-types/{kind}",
        "/staff/consult-types/{kind}",
    ),
    "staff.resend_message": ("admin", "/staff/outbox", "/staff/outbox/{failed}/resend"),
    "staff.rotate_calendar": ("admin", "/staff/calendar", "/staff/calendar/{ada}/rotate"),
}
# endpoint: (who signs in, the page showing the form, where the form goes). The CSV export is
# a link carrying the consult list's filter: it is sent that form's fields (SENT_TO).
GETS = {
    "booking.slots": (None, "/book", "/book"),
    "booking.reschedule_times": (None, "/manage/{token}/reschedule", "/manage/{token}/reschedule"),
    "staff.home": ("admin", "/staff/", "/staff/"),
    "staff.week": ("admin", "/staff/week", "/staff/week"),
    "staff.consult_list": ("admin", "/staff/consults", "/staff/consults"),
    "staff.consult_export": ("admin", "/staff/consults", "/staff/consults"),
    "staff.outbox": ("admin", "/staff/outbox", "/staff/outbox"),
    "staff.audit_log": ("admin", "/staff/audit", "/staff/audit"),
    "staff.phone_booking": ("admin", "/staff/book", "/staff/book"),
    "staff.phone_booking_details": ("admin", "/staff/book", "/staff/book/details"),
    "staff.reschedule_times": (
        "admin",
        "/staff/consults/{ref}/reschedule",
        "/staff/consults/{ref}/reschedule",
    ),
}
SENT_TO = {"staff.consult_export": "/staff/consults.csv"}
# Audit rows a refusal writes on purpose: a failed sign-in (401), and a consult page shown
# again with its errors re-shows the intake answers, and every view of those is audited.
AUDITED_ON_REFUSAL = {
    "staff.sign_in": frozenset({"sign_in_failed"}),
    **{
        e: frozenset({"view_intake"})
        for e in ("staff.cancel_consult", "staff.add_note", "staff.acknowledge_alert")
    },
    "staff.record_outcome": frozenset({"view_intake"}),
}


def _valid_values() -> dict[str, list[str]]:
    """Values that pass, offered after the page's own where the page shows the field empty, so
    fuzzing reaches the services (a body that changes one field sends the others' last)."""
    soon = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    return {
        "name": ["Ana Díaz"],
        "email": ["admin@clinic.test", "ana@example.com"],
        "phone": ["+44 20 7946 0000"],
        "reason": ["Family event"],
        "body": ["Please call first"],
        "note": ["Training"],
        "starts": [f"{soon}T09:00"],
        "ends": [f"{soon}T12:00"],
        "day": [soon],
        "start": ["09:00"],
        "end": ["12:00"],
        "start_1": ["09:00"],
        "end_1": ["11:00"],
        "current": [PASSWORD],
        "new": ["another long password"],
        "repeat": ["another long password"],
        "password": [PASSWORD],
        "meeting_link": ["https://meet.example.com/{reference}"],
        "consent": ["y"],
        "consent_privacy": ["y"],
        "consent_not_emergency": ["y"],
    }


@dataclass
class World:
    path: Path
    places: dict


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template) -> World:
    """The seeded clinic, made once; each test works on its own copy of the file."""
    path = tmp_path_factory.mktemp("world") / "world.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        places = seed_world()
        db.session.remove()
        db.engine.dispose()
    return World(path, places)


def _cases(table: dict) -> list:
    cases = []
    for endpoint, (who, page, action) in table.items():
        sections = [s.id for s in SECTIONS] if "{section}" in page else [None]
        cases += [
            pytest.param(endpoint, who, page, action, s, id=f"{endpoint}-{s}") for s in sections
        ]
    return cases


def _phone_details_page(client) -> str:
    """The details page for the first free time the front desk's picker offers."""
    picker = form_on(client.get("/staff/book").text, "get", "/staff/book/details")
    query = "&".join(f"{name}={values[0]}" for name, values in picker.fields.items())
    return "/staff/book/details?" + query.replace("+", "%2B")


def fuzz(world, tmp_path, endpoint, who, page, action, section, method):
    with sqlite_app(world.path, tmp_path) as app:
        client = app.test_client()
        if who:
            assert sign_in(client, who).status_code == 303
        places = dict(world.places, section=section)
        if "{phone_details}" in page:
            places["phone_details"] = _phone_details_page(client)
        page_url, target = page.format(**places), action.format(**places)
        shown = client.get(page_url)
        assert shown.status_code == 200, page_url
        form = form_on(shown.text, method, target, page_url)
        target = SENT_TO.get(endpoint, target)
        valid = _valid_values()
        fields = {
            # A value the page gives (a time button, a saved setting) is kept as the last.
            name: offered + (valid.get(name, []) if set(offered) <= {"", "y", "on"} else [])
            for name, offered in form.fields.items()
        }
        skip = AUDITED_ON_REFUSAL.get(endpoint, frozenset())
        session = client.get_cookie("session")

        def attempt(body):
            if session is not None:  # signing out (or in) must not end the next attempt
                client.set_cookie(session.key, session.value)
            with app.app_context():
                before = digest(skip)
            if method == "post":
                response = client.post(
                    target, data=encode(*body), content_type="application/x-www-form-urlencoded"
                )
            else:
                response = client.get(f"{target.split('?')[0]}?{encode(*body).decode()}")
            assert response.status_code < 500, (response.status_code, body)
            if 400 <= response.status_code < 500:
                with app.app_context():
                    assert digest(skip) == before, (response.status_code, body)

        # Every adversarial value in every field at once, then hypothesis's mixtures.
        for body in sweep(fields, keep=frozenset({"csrf_token"})):
            attempt(body)
        FUZZ(given(body=form_body(fields, keep=frozenset({"csrf_token"})))(attempt))()


@pytest.mark.parametrize(("endpoint", "who", "page", "action", "section"), _cases(POSTS))
def test_hostile_posts_never_fail_and_refusals_change_nothing(
    world, tmp_path, endpoint, who, page, action, section
):
    fuzz(world, tmp_path, endpoint, who, page, action, section, "post")


@pytest.mark.parametrize(("endpoint", "who", "page", "action", "section"), _cases(GETS))
def test_hostile_filters_never_fail(world, tmp_path, endpoint, who, page, action, section):
    fuzz(world, tmp_path, endpoint, who, page, action, section, "get")


def test_every_form_is_fuzzed():
    """A new POST route, or a new GET form in a template, fails here until it has a row."""
    app = make_app("sqlite://")
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.endpoint.startswith("api.")
    }
    assert posts == set(POSTS)
    gets = set()
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text()
        for form in re.findall(r'<form method="get" action="([^"]*)"', source):
            named = re.search(r"url_for\('([\w.]+)'", form)
            if named:
                gets.add(named.group(1))
            else:  # the schedule filter's macro, imported by the pages it filters
                gets |= {
                    f"staff.{t.stem}"
                    for t in TEMPLATES.rglob("*.html")
                    if template.name in t.read_text() and t != template
                }
    assert gets <= set(GETS), gets - set(GETS)
