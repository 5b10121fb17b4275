"""The Content-Security-Policy in a real Chromium: the site's own scripts run (time-zone
detection on /book, the instant crisis panel in the intake), the staff week grid is laid out,
and no page reports a policy violation or a JavaScript error. And a clinic's own site named
in CLINIC_FRAME_ANCESTORS can embed booking, but never the staff console."""

from __future__ import annotations

import re
import shutil
import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from clinic.accounts.services import create_staff
from clinic.booking import services
from clinic.core.extensions import db
from tests.support import factories
from tests.support.apps import make_app
from tests.support.browser import TIMEOUT_MS, Page, expect, serve, watch_for_trouble
from tests.support.staff import PASSWORD

pytestmark = pytest.mark.browser

BROWSER_ZONE = "Australia/Sydney"  # not the clinic's, so timezone.js has work to do
# Every violation the page sees, as the document reports it; added before any page script runs.
WATCH_CSP = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(`${e.effectiveDirective} blocked ${e.blockedURI} in ${e.sourceFile}`);
});
"""


@pytest.fixture
def live(sqlite_template, tmp_path):
    """A clinic in New York with Dr Ada free all day, an admin, and one consult three days
    ahead whose link opens the intake. Yields the server, the link token and the day."""
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        factories.clinic(timezone="America/New_York")
        factories.practitioner(name="Dr Ada Lane", email="ada@clinic.test")
        create_staff("admin@clinic.test", "admin", PASSWORD)
        start = factories.next_grid_time(days_ahead=3, hour=15)
        _, token = services.book(
            None,
            start,
            ZoneInfo("Europe/London"),
            services.PatientDetails("Jo Patient", "jo@example.com"),
            datetime.now(UTC),
            "clinic.test",
        )
        day = start.astimezone(ZoneInfo("America/New_York")).date()
        db.session.remove()
    server = serve(app)
    yield server, token, day
    server.stop()


def watched_page(browser, trouble: list[str]) -> Page:
    context = browser.new_context(
        java_script_enabled=True, timezone_id=BROWSER_ZONE, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.expose_function("reportViolation", lambda text: trouble.append(f"CSP: {text}"))
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            trouble.append(f"console: {m.text}") if "Content Security Policy" in m.text else None
        ),
    )
    return page


def test_the_site_runs_under_its_policy_without_a_violation(browser, live):
    server, token, day = live
    violations: list[str] = []
    page = watched_page(browser, violations)
    errors = watch_for_trouble(page)
    try:
        visit_every_kind_of_page(page, server.url, token, day)
        assert violations == []
        assert errors == []
        # The watch does see a violation when there is one: an inline script is refused.
        page.evaluate(
            "() => document.body.append(Object.assign(document.createElement('script'),"
            " {textContent: 'window.ran = true'}))"
        )
        for _ in range(50):
            if violations:
                break
            page.wait_for_timeout(100)
        assert page.evaluate("() => window.ran") is None
        assert any(v.startswith("CSP: script-src") for v in violations), violations
    finally:
        page.context.close()


def visit_every_kind_of_page(page: Page, url: str, token: str, day: date) -> None:
    """The landing page, /book, an intake page and the staff week, each doing its work."""
    page.goto(url + "/")
    expect(page.get_by_role("link", name="Book your free 20-minute consult")).to_be_visible()

    page.goto(url + "/book")
    # timezone.js ran: it reloaded the picker in the browser's zone.
    page.wait_for_url(re.compile(r"[?&]tz=Australia(/|%2F)Sydney"))
    expect(page.get_by_label("Show times in")).to_have_value(BROWSER_ZONE)

    page.goto(f"{url}/intake/{token}/mood")
    crisis = page.get_by_role("alert").filter(has_text="Please reach out for support now")
    expect(crisis).to_be_hidden()
    page.get_by_role(
        "group",
        name="Thoughts that you would be better off dead or of hurting yourself in some way",
    ).get_by_label("Several days").check()
    expect(crisis).to_be_visible()  # intake.js ran

    page.goto(url + "/staff/sign-in")
    page.get_by_label("Email").fill("admin@clinic.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    page.goto(f"{url}/staff/week?day={day.isoformat()}&practitioner=all")
    block = page.locator(".week-block").first
    expect(block).to_contain_text("Jo Patient")
    # The block sits where its style attribute says (auto-placement would give "auto" as the
    # column's end): the attribute was applied.
    row = re.search(r"grid-row: (\d+) /", block.get_attribute("style")).group(1)
    placed = block.evaluate(
        "b => [getComputedStyle(b).gridRowStart, getComputedStyle(b).gridColumnEnd]"
    )
    assert placed == [row, "-1"]


@pytest.fixture
def clinic_site():
    """The clinic's own web site on another port (so another origin, the same site): a page
    that frames each address put in the yielded dict under its title."""
    frames: dict[str, str] = {}

    def page(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        body = "".join(f'<iframe title="{n}" src="{u}"></iframe>' for n, u in frames.items())
        return [f"<!doctype html><title>Clinic site</title>{body}".encode()]

    site = make_server("127.0.0.1", 0, page)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site.server_port}", frames
    site.shutdown()
    thread.join(timeout=10)
    site.server_close()


def test_a_clinic_site_named_in_the_setting_can_frame_booking_but_not_the_staff_console(
    browser, sqlite_template, tmp_path, clinic_site
):
    """The clinic's site, named in CLINIC_FRAME_ANCESTORS, embeds /book: the patient can
    choose a time inside the frame. The staff console refuses to load in a frame there."""
    origin, frames = clinic_site
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}", CLINIC_FRAME_ANCESTORS=origin)
    with app.app_context():
        factories.clinic(timezone="America/New_York")
        factories.practitioner(name="Dr Ada Lane")
        db.session.remove()
    server = serve(app)
    frames.update(booking=server.url + "/book", staff=server.url + "/staff/sign-in")
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        errors = watch_for_trouble(page)
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(origin + "/")
        booking = page.frame_locator("iframe[title=booking]")
        expect(booking.get_by_role("heading", level=1)).to_have_text(
            "Book your free 20-minute consult"
        )
        # Both frames' first requests start a session each, and the browser keeps whichever
        # cookie came last: load the booking page once more, so its form's token belongs to
        # the cookie the browser holds (a clinic's site does not frame the staff console).
        page.wait_for_load_state("networkidle")
        frame = page.locator("iframe[title=booking]").element_handle().content_frame()
        frame.goto(frame.url)
        # Choosing a time posts the form (its token rides on the session cookie) in the frame.
        booking.locator("button[name=start]").first.click()
        expect(booking.get_by_role("heading", level=1)).to_have_text("Your details")
        # Chromium shows its own error page in place of the refused frame, and says why.
        staff = page.locator("iframe[title=staff]").element_handle().content_frame()
        assert staff.url == "chrome-error://chromewebdata/"
        assert any("frame-ancestors 'none'" in text for text in console), console
        assert errors == []
    finally:
        context.close()
        server.stop()
