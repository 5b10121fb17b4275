"""Every staff route, walked as anonymous, front desk, practitioner (own and other) and admin.

The table must name every ``staff.*`` endpoint the app registers: a new route that is not in it
fails the first test, so no page can be added without deciding who may use it. ``OK`` means
the role gets the page or its action (any status below 500 other than 401, 403, 404 or a
redirect to sign-in); a number is the exact status expected.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import ConsultType, OutboxMessage, Practitioner
from tests.support.apps import csrf_token
from tests.support.availability import availability_places
from tests.support.own_calendars import connect_account, connect_feed
from tests.support.staff import alert_on, seed_staff_clinic, sign_in

OK = "ok"
ROLES = ("desk", "own", "other", "admin")


def everyone(status=OK):
    return {role: status for role in ROLES}


def only(*roles, otherwise=403):
    return {role: (OK if role in roles else otherwise) for role in ROLES}


# endpoint: (method, URL template, expected per role). Placeholders come from ``places``.
# Order matters only in that signing out comes last.
WALK = {
    "staff.home": ("GET", "/staff/", everyone()),
    "staff.week": ("GET", "/staff/week", everyone()),
    "staff.consult": ("GET", "/staff/consults/{ref}", everyone()),
    "staff.intake_print": (
        "GET",
        "/staff/consults/{ref}/intake/print",
        only("admin", "own"),
    ),
    "staff.reschedule_times": (
        "GET",
        "/staff/consults/{ref}/reschedule",
        only("admin", "desk", "own"),
    ),
    # Actions posted empty: allowed roles get the form back with its message (422).
    "staff.reschedule": ("POST", "/staff/consults/{ref}/reschedule", only("admin", "desk", "own")),
    "staff.cancel_consult": ("POST", "/staff/consults/{ref}/cancel", only("admin", "desk", "own")),
    "staff.record_outcome": (
        "POST",
        "/staff/consults/{ref}/outcome",
        only("admin", "desk", "own"),
    ),
    "staff.add_note": ("POST", "/staff/consults/{ref}/notes", only("admin", "desk", "own")),
    "staff.acknowledge_alert": (
        "POST",
        "/staff/consults/{ref}/alerts/{alert}/acknowledge",
        only("admin", "desk", "own"),
    ),
    "staff.phone_booking": ("GET", "/staff/book", only("admin", "desk")),
    "staff.phone_booking_details": ("GET", "/staff/book/details", only("admin", "desk")),
    "staff.password": ("GET", "/staff/password", everyone()),
    "staff.calendars": ("GET", "/staff/calendar", only("admin", "own", "other")),
    "staff.rotate_calendar": (
        "POST",
        "/staff/calendar/{ada}/rotate",
        {"desk": 403, "own": OK, "other": 404, "admin": OK},
    ),
    "staff.add_own_calendar": (
        "POST",
        "/staff/calendar/{ada}/own",
        {"desk": 403, "own": OK, "other": 404, "admin": OK},
    ),
    "staff.add_own_account": (
        "POST",
        "/staff/calendar/{ada}/account",
        {"desk": 403, "own": OK, "other": 404, "admin": OK},
    ),
    "staff.choose_own_calendars": (
        "POST",
        "/staff/calendar/own/{ada_account}/calendars",
        {"desk": 403, "own": OK, "other": 404, "admin": OK},
    ),
    "staff.sync_own_calendar": (
        "POST",
        "/staff/calendar/own/{ada_calendar}/sync",
        {"desk": 403, "own": OK, "other": 404, "admin": OK},
    ),
    "staff.remove_own_calendar": (
        "POST",
        "/staff/calendar/own/{ada_calendar}/remove",
        {"desk": 403, "own": OK, "other": 404, "admin": OK},
    ),
    "staff.consult_list": ("GET", "/staff/consults", everyone()),
    "staff.consult_export": ("GET", "/staff/consults.csv", everyone()),
    "staff.outbox": ("GET", "/staff/outbox", only("admin", "desk")),
    "staff.resend_message": (  # the booking's first email is not failed: nothing to resend
        "POST",
        "/staff/outbox/{message}/resend",
        {"desk": 409, "own": 403, "other": 403, "admin": 409},
    ),
    "staff.audit_log": ("GET", "/staff/audit", only("admin")),
    "staff.settings": ("GET", "/staff/settings", only("admin")),
    "staff.crisis_lines": ("GET", "/staff/settings/crisis-lines", only("admin")),
    # Posted with no text: the admin gets the page back with its message (422).
    "staff.change_crisis_line": ("POST", "/staff/settings/crisis-lines/gb", only("admin")),
    "staff.practitioners": ("GET", "/staff/practitioners", only("admin")),
    "staff.new_practitioner": ("GET", "/staff/practitioners/new", only("admin")),
    "staff.edit_practitioner": ("GET", "/staff/practitioners/{ada}", only("admin")),
    "staff.consult_types": ("GET", "/staff/consult-types", only("admin")),
    "staff.edit_consult_type": ("GET", "/staff/consult-types/{kind}", only("admin")),
    "staff.availability_index": ("GET", "/staff/availability", everyone()),
    "staff.availability": ("GET", "/staff/availability/{ada}", only("admin", "desk", "own")),
    "staff.add_hours": ("POST", "/staff/availability/{ada}/hours", only("admin", "desk", "own")),
    "staff.remove_hours": (
        "POST",
        "/staff/availability/{ada}/hours/{ada_hours}/remove",
        only("admin", "desk", "own"),
    ),
    "staff.add_time_off": (
        "POST",
        "/staff/availability/{ada}/time-off",
        only("admin", "desk", "own"),
    ),
    "staff.remove_time_off": (
        "POST",
        "/staff/availability/{ada}/time-off/{ada_off}/remove",
        only("admin", "desk", "own"),
    ),
    "staff.add_override": (
        "POST",
        "/staff/availability/{ada}/overrides",
        only("admin", "desk", "own"),
    ),
    "staff.remove_override": (
        "POST",
        "/staff/availability/{ada}/overrides/{ada_override}/remove",
        only("admin", "desk", "own"),
    ),
    "staff.closures": ("GET", "/staff/closures", only("admin", "desk")),
    "staff.add_closure": ("POST", "/staff/closures", only("admin", "desk")),
    "staff.remove_closure": ("POST", "/staff/closures/{closure}/remove", only("admin", "desk")),
    "staff.sign_out": ("POST", "/staff/sign-out", everyone(303)),  # to the sign-in page
}
PUBLIC = {"staff.sign_in"}


@pytest.fixture
def places(app):
    """The consult's reference and the ids the routes' URLs need."""
    reference = seed_staff_clinic()
    ids = dict(db.session.execute(sa.select(Practitioner.email, Practitioner.id)).all())
    message = db.session.scalar(sa.select(OutboxMessage.id).limit(1))
    return {
        "ref": reference,
        "alert": alert_on(reference),
        "ada": ids["ada@clinic.test"],
        "ben": ids["ben@clinic.test"],
        "message": message,
        "kind": db.session.scalar(sa.select(ConsultType.id).limit(1)),
        **availability_places(ids["ada@clinic.test"]),
        "ada_calendar": connect_feed(ids["ada@clinic.test"]),
        "ada_account": connect_account(ids["ada@clinic.test"]),
    }


def test_the_walk_names_every_staff_route(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("staff.")}
    assert endpoints - PUBLIC == set(WALK), "add new staff routes to WALK"


def _request(client, method: str, url: str, token: str | None):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token} if token else {})


def _signed_in_page_token(client) -> str:
    return csrf_token(client.get("/staff/password").text)


@pytest.mark.parametrize("endpoint", sorted(WALK))
def test_anonymous_visitors_are_sent_to_sign_in(client, places, endpoint):
    method, template, _ = WALK[endpoint]
    token = csrf_token(client.get("/staff/sign-in").text)
    response = _request(client, method, template.format(**places), token)
    assert response.status_code == 302, (endpoint, response.status_code)
    assert "/staff/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("who", ROLES)
def test_each_role_may_use_only_its_routes(client, places, who):
    assert sign_in(client, who).status_code == 303
    token = _signed_in_page_token(client)
    seen = {}
    for endpoint, (method, template, expected) in WALK.items():
        response = _request(client, method, template.format(**places), token)
        location = response.headers.get("Location", "")
        if expected[who] == OK:
            allowed = (
                response.status_code < 500
                and response.status_code not in (401, 403, 404)
                and "/staff/sign-in" not in location
            )
            seen[endpoint] = OK if allowed else response.status_code
        else:
            seen[endpoint] = response.status_code
    assert seen == {endpoint: expected[who] for endpoint, (_, _, expected) in WALK.items()}
