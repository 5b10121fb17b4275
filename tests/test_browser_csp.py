"""The Content-Security-Policy in a real Chromium: the site's own scripts run (time-zone
detection on /book, the instant crisis panel in the intake), the staff week grid is laid out,
and no page reports a policy violation or a JavaScript error."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from clinic.booking import services
from clinic.extensions import db
from clinic.staff.accounts import create_staff
from tests import factories
from tests.browser_support import TIMEOUT_MS, Page, expect, serve, watch_for_trouble
from tests.conftest import make_app
from tests.staff_support import PASSWORD

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

    page.goto(server.url + "/")
    expect(page.get_by_role("link", name="Book your free 20-minute consult")).to_be_visible()

    page.goto(server.url + "/book")
    # timezone.js ran: it reloaded the picker in the browser's zone.
    page.wait_for_url(re.compile(r"[?&]tz=Australia(/|%2F)Sydney"))
    expect(page.get_by_label("Show times in")).to_have_value(BROWSER_ZONE)

    page.goto(f"{server.url}/intake/{token}/mood")
    crisis = page.get_by_role("alert").filter(has_text="Please reach out for support now")
    expect(crisis).to_be_hidden()
    page.get_by_role(
        "group",
        name="Thoughts that you would be better off dead or of hurting yourself in some way",
    ).get_by_label("Several days").check()
    expect(crisis).to_be_visible()  # intake.js ran

    page.goto(server.url + "/staff/sign-in")
    page.get_by_label("Email").fill("admin@clinic.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    page.goto(f"{server.url}/staff/week?day={day.isoformat()}&practitioner=all")
    block = page.locator(".week-block").first
    expect(block).to_contain_text("Jo Patient")
    # The block sits where its style attribute says (auto-placement would give "auto" as the
    # column's end): the attribute was applied.
    row = re.search(r"grid-row: (\d+) /", block.get_attribute("style")).group(1)
    placed = block.evaluate(
        "b => [getComputedStyle(b).gridRowStart, getComputedStyle(b).gridColumnEnd]"
    )
    assert placed == [row, "-1"]

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
    page.context.close()
