"""The staff console in a real Chromium: sign in, find today's consult, read its intake as the
right role, move it to another time, and mark an earlier consult as a no-show."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.accounts.services import create_staff
from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.models import Appointment
from clinic.intake.services import save_section
from tests.support import factories
from tests.support.apps import make_app
from tests.support.browser import TIMEOUT_MS, Page, expect, serve, watch_for_trouble
from tests.support.staff import PASSWORD

pytestmark = pytest.mark.browser

# Real zones a whole hour apart; the clinic takes the one where it is now closest to noon, so
# that consults two hours ago and three hours ahead both fall on the clinic's today.
ZONES = [
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Halifax",
    "America/Sao_Paulo",
    "Atlantic/South_Georgia",
    "Atlantic/Cape_Verde",
    "UTC",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Europe/Istanbul",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Pacific/Noumea",
    "Pacific/Fiji",
]


def zone_near_noon(now: datetime) -> str:
    def distance(name: str) -> float:
        local = now.astimezone(ZoneInfo(name))
        return abs(local.hour + local.minute / 60 - 12)

    return min(ZONES, key=distance)


@pytest.fixture
def console(sqlite_template, tmp_path):
    """Dr Ada's consult with Jo later today (intake answered) and Sam's, which began an hour
    ago; Dr Ada and the front desk have accounts."""
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        factories.clinic(timezone=zone_near_noon(now))
        ada = factories.practitioner(name="Dr Ada Lane", email="ada@clinic.test")
        create_staff("ada@clinic.test", "practitioner", PASSWORD, name="Ada Lane")
        create_staff("desk@clinic.test", "frontdesk", PASSWORD)
        later, token = services.book(
            ada.id,
            hour + timedelta(hours=3),
            ZoneInfo("Europe/London"),
            services.PatientDetails("Jo Patient", "jo@example.com"),
            now,
            "clinic.test",
        )
        save_section(token, "about", {"consent_share": ["yes"]}, now)
        save_section(token, "goals", {"goals_concerns": ["Sleeping badly since spring"]}, now)
        earlier = factories.appointment(ada, hour - timedelta(hours=1))
        earlier.patient.name = "Sam Missed"
        db.session.commit()
        references = {"later": later.reference, "earlier": earlier.reference}
        db.session.remove()
    live = serve(app)
    yield live, references
    live.stop()


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")


def stored(app, reference: str) -> Appointment:
    with app.app_context():
        found = db.session.scalar(sa.select(Appointment).where(Appointment.reference == reference))
        db.session.expunge(found)
        db.session.remove()
    return found


def test_a_practitioner_reads_the_intake_moves_one_consult_and_marks_another(browser, console):
    live, references = console
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    trouble = watch_for_trouble(page)

    sign_in(page, live.url, "ada@clinic.test")
    page.get_by_role("link", name="Jo Patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Consult {references['later']}")
    expect(page.get_by_text("Sleeping badly since spring")).to_be_visible()

    page.get_by_role("link", name="Move to another time").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Move Jo Patient's consult")
    first = page.locator("button[name=start]").first
    new_start = datetime.fromisoformat(first.get_attribute("value"))
    first.click()
    expect(page.get_by_role("status")).to_contain_text("The consult is now on")
    moved = stored(live.app, references["later"])
    assert moved.starts_at == new_start and moved.sequence == 1

    page.get_by_role("link", name="Today", exact=True).click()
    page.get_by_role("link", name="Sam Missed").click()
    page.get_by_role("button", name="Mark as no-show").click()
    expect(page.get_by_role("status")).to_contain_text("marked as a no-show")
    assert stored(live.app, references["earlier"]).status == "no_show"
    assert trouble == []
    context.close()


def test_the_front_desk_sees_the_consult_but_not_the_answers(browser, console):
    live, references = console
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    trouble = watch_for_trouble(page)

    sign_in(page, live.url, "desk@clinic.test")
    page.get_by_role("link", name="Jo Patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Consult {references['later']}")
    expect(
        page.get_by_text(re.compile("Only the consult's practitioner and admins"))
    ).to_be_visible()
    assert "Sleeping badly since spring" not in page.content()
    assert trouble == []
    context.close()
