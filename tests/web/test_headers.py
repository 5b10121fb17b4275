"""Security headers and cookies on every kind of page, HSTS in production only, and who may
frame the patient pages."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from zoneinfo import ZoneInfo

import pytest

from clinic import create_app
from clinic.booking import services
from clinic.core.extensions import db
from clinic.web.headers import frame_ancestors
from config import ProductionConfig
from tests.support import factories
from tests.support.apps import FreshContextClient, _truncate_all, csrf_token, running_app
from tests.support.staff import PASSWORD, seed_staff_clinic, sign_in


def policy(frame_ancestors: str = "'none'") -> str:
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {frame_ancestors}"
    )


HEADERS = [
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Strict-Transport-Security",
    "Permissions-Policy",
]
SITE = {
    "Content-Security-Policy": policy(),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Strict-Transport-Security": None,
    "Permissions-Policy": "browsing-topics=()",
}
SECRET_LINK = SITE | {"Referrer-Policy": "no-referrer"}
HSTS = "max-age=31556926; includeSubDomains"
EMBEDDERS = "https://www.clinic.example https://clinic.example:8443"


def security_headers(response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in HEADERS}


def book_a_consult() -> str:
    """A consult three days ahead with Dr Ada (seed_staff_clinic); returns its link token."""
    _, token = services.book(
        None,
        factories.next_grid_time(days_ahead=3, hour=10),
        ZoneInfo("Europe/London"),
        services.PatientDetails("Sam Patient", "sam@example.com"),
        datetime.now(UTC),
        "clinic.test",
    )
    return token


def session_cookie(response) -> dict[str, str | bool]:
    """The session cookie's attributes, parsed from the response's Set-Cookie headers."""
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if "session" in cookie:
            morsel = cookie["session"]
            return {key: morsel[key] for key in ("secure", "httponly", "samesite", "path")}
    raise AssertionError("the response set no session cookie")


@contextmanager
def production_app(database_url: str, backend: str, **extra):
    """An app on ProductionConfig (as ``CLINIC_ENV=production`` makes), with a secret key."""

    class Production(ProductionConfig):
        SECRET_KEY = "a-production-secret-only-for-these-tests"
        SQLALCHEMY_DATABASE_URI = database_url

    for key, value in extra.items():
        setattr(Production, key, value)
    app = create_app(Production())
    app.test_client_class = FreshContextClient
    with app.app_context():
        seed_staff_clinic()
        yield app
        db.session.remove()
        if backend == "postgresql":
            _truncate_all()
        db.engine.dispose()


@pytest.fixture
def seeded(app):
    seed_staff_clinic()
    return book_a_consult()


# --- the headers on each kind of page -------------------------------------------------------


def test_a_public_page_gets_the_site_policy(client, seeded):
    for url in ("/", "/book", "/privacy", "/livez", "/no-such-page", "/static/js/timezone.js"):
        with client.get(url) as response:  # closes the static file
            assert security_headers(response) == SITE, url


def test_pages_opened_by_a_secret_link_send_no_referrer(client, seeded):
    token = seeded
    for url in (f"/manage/{token}", f"/intake/{token}", f"/intake/{token}/mood"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert security_headers(response) == SECRET_LINK, url

    sign_in(client, "own")
    address = re.search(
        r'value="https?://[^"/]+(/calendar/[^"]+\.ics)"', client.get("/staff/calendar").text
    )
    feed = client.get(address.group(1))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert security_headers(feed) == SECRET_LINK


def test_staff_pages_send_no_referrer(client, seeded):
    assert security_headers(client.get("/staff/sign-in")) == SECRET_LINK
    assert sign_in(client, "admin").status_code == 303
    for url in ("/staff/", "/staff/week", "/staff/consults"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert security_headers(response) == SECRET_LINK, url


def test_the_api_gets_the_site_policy(client, seeded):
    slots = client.get("/api/v1/slots?practitioner=any&timezone=UTC")
    assert slots.status_code == 200 and slots.mimetype == "application/json"
    assert security_headers(slots) == SITE
    refused = client.post("/api/v1/bookings", json={})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert security_headers(refused) == SITE


# --- HTTPS: HSTS and cookies ----------------------------------------------------------------


def test_production_sends_hsts_over_https_and_never_redirects(database_url, backend):
    with production_app(database_url, backend) as app:
        client = app.test_client()
        secure = client.get("/", base_url="https://clinic.example")
        assert secure.status_code == 200
        assert security_headers(secure) == SITE | {"Strict-Transport-Security": HSTS}
        # Behind a TLS-terminating proxy that isn't trusted, requests arrive as plain HTTP:
        # they are served, not redirected (a redirect would loop), and carry no HSTS.
        plain = client.get("/", base_url="http://clinic.example")
        assert plain.status_code == 200
        assert security_headers(plain) == SITE


def test_development_and_tests_send_no_hsts(client, seeded):
    response = client.get("/", base_url="https://clinic.example")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_the_session_cookie_is_httponly_and_samesite_lax(client, seeded):
    page = client.get("/staff/sign-in")
    assert session_cookie(page) == {"secure": "", "httponly": True, "samesite": "Lax", "path": "/"}


def test_in_production_the_session_cookie_is_also_secure(database_url, backend):
    with production_app(database_url, backend) as app:
        page = app.test_client().get("/staff/sign-in", base_url="https://clinic.example")
        assert session_cookie(page) == {
            "secure": True,
            "httponly": True,
            "samesite": "Lax",
            "path": "/",
        }


def test_over_https_a_form_from_a_no_referrer_page_is_accepted_and_a_forged_one_is_not(
    database_url, backend
):
    """Staff and secret-link pages send no Referer (their Referrer-Policy), so the form they
    post carries none: over HTTPS that must not be taken for a forgery. The form's own token
    still is checked."""
    with production_app(database_url, backend) as app:
        client = app.test_client()
        https = "https://clinic.example"
        page = client.get("/staff/sign-in", base_url=https)
        form = {"email": "admin@clinic.test", "password": PASSWORD}
        forged = client.post("/staff/sign-in", data=form, base_url=https)
        assert forged.status_code == 400
        signed_in = client.post(
            "/staff/sign-in", data=form | {"csrf_token": csrf_token(page.text)}, base_url=https
        )
        assert signed_in.status_code == 303
        assert signed_in.headers["Location"] == "/staff/"
        assert client.get("/staff/", base_url=https).status_code == 200


# --- who may frame the pages ------------------------------------------------------------------


def test_the_clinic_may_frame_the_patient_pages_but_never_the_staff_console(database_url, backend):
    with running_app(database_url, backend, CLINIC_FRAME_ANCESTORS=EMBEDDERS) as app:
        seed_staff_clinic()
        token = book_a_consult()
        client = app.test_client()
        embeddable = SITE | {
            "Content-Security-Policy": policy(EMBEDDERS),
            "X-Frame-Options": None,  # it can't name other origins; browsers follow the CSP
        }
        for url in ("/", "/book", f"/intake/{token}"):
            expected = embeddable | ({"Referrer-Policy": "no-referrer"} if "intake" in url else {})
            assert security_headers(client.get(url)) == expected, url
        assert security_headers(client.get("/staff/sign-in")) == SECRET_LINK
        assert security_headers(client.get("/api/v1/slots")) == SITE


def test_the_clinic_may_frame_its_pages_on_the_same_origin(database_url, backend):
    with running_app(database_url, backend, CLINIC_FRAME_ANCESTORS="'self'") as app:
        seed_staff_clinic()
        response = app.test_client().get("/book")
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert response.headers["Content-Security-Policy"].endswith("; frame-ancestors 'self'")


@pytest.mark.parametrize(
    "setting",
    [
        "https://clinic.example; script-src *",
        "'none' https://clinic.example",
        "javascript:",
        "https://clinic.example/booking",
        "*",
    ],
)
def test_a_frame_ancestors_setting_that_is_not_a_list_of_origins_stops_the_app(setting):
    with pytest.raises(RuntimeError, match="CLINIC_FRAME_ANCESTORS"):
        frame_ancestors(setting)


def test_frame_ancestors_accepts_none_self_and_origins():
    assert frame_ancestors("") == "'none'"
    assert frame_ancestors("  'none' ") == "'none'"
    assert frame_ancestors(f"'self'  {EMBEDDERS}") == f"'self' {EMBEDDERS}"
