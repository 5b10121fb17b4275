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
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from clinic.intake.questionnaire import SECTIONS
from tests.support.apps import make_app
from tests.support.hostile import digest, form_on, seed_world_file, sqlite_app
from tests.support.hostile_forms import (
    AUDITED_ON_REFUSAL,
    GETS,
    POSTS,
    SENT_TO,
    _phone_details_page,
    _valid_values,
)
from tests.support.hostile_values import encode, form_body, sweep
from tests.support.staff import sign_in

pytestmark = pytest.mark.slow
# Hypothesis's examples per form; raise it for a longer hunt (HOSTILE_EXAMPLES=500).
FUZZ = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@dataclass
class World:
    path: Path
    places: dict


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template) -> World:
    """The seeded clinic, made once; each test works on its own copy of the file."""
    path = tmp_path_factory.mktemp("world") / "world.db"
    places = seed_world_file(path, sqlite_template)
    return World(path, places)


def _cases(table: dict) -> list:
    cases = []
    for endpoint, (who, page, action) in table.items():
        sections = [s.id for s in SECTIONS] if "{section}" in page else [None]
        cases += [
            pytest.param(endpoint, who, page, action, s, id=f"{endpoint}-{s}") for s in sections
        ]
    return cases


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
