"""A walk through every page patients and staff see, in a real Chromium, for the tests that
check each page (requests to other origins, accessibility).

``serve_site`` seeds one clinic and serves it; the walks go from page to page the way people
do (links, buttons, forms) and call ``visit(page, label)`` on each page once it has loaded.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext

from clinic.accounts.services import create_staff
from clinic.booking import services
from clinic.core.extensions import db
from clinic.core.links import link_token
from clinic.intake.questionnaire import FORMS, HISTORY, PRE_CONSULT, asked
from clinic.intake.services import save_section
from tests.support import factories
from tests.support.apps import make_app
from tests.support.browser import TIMEOUT_MS, LiveServer, Page, expect, serve
from tests.support.staff import PASSWORD

Visit = Callable[[Page, str], None]
CLINIC_ZONE = "America/New_York"
BROWSER_ZONE = "Europe/London"  # the zone the walks' browsers are in: timezone.js moves to it
ADMIN = "admin@clinic.test"
FIRST_SLOT = "form.slot-picker button[name=start]"


@dataclass(frozen=True)
class Site:
    live: LiveServer
    reference: str  # Jo's consult with Dr Ada, three days ahead, its intake partly answered
    practitioner_id: int
    expired_token: str  # the link of a consult that ended long ago: answered with 410

    @property
    def url(self) -> str:
        return self.live.url


@contextmanager
def serve_site(sqlite_template, tmp_path) -> Iterator[Site]:
    """A clinic in New York with Dr Ada (free all day), an admin, and two consults."""
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    now = datetime.now(UTC)
    with app.app_context():
        # Bookable from a day ahead: a new consult can still be moved online (12-hour window).
        factories.clinic(
            timezone=CLINIC_ZONE, contact_phone="+1 555 0100", min_notice_minutes=24 * 60
        )
        ada = factories.practitioner(name="Dr Ada Lane", email="ada@clinic.test")
        create_staff(ADMIN, "admin", PASSWORD, name="Alex Admin")
        booked, token = services.book(
            ada.id,
            factories.next_grid_time(days_ahead=3, hour=15),
            ZoneInfo("Europe/London"),
            services.PatientDetails("Jo Patient", "jo@example.com"),
            now,
            "clinic.test",
        )
        save_section(token, "about", {"consent_share": ["yes"]}, now)
        save_section(token, "goals", {"goals_concerns": ["Sleeping badly since spring"]}, now)
        # Item 9 raises an open self-harm alert: on the day view and the consult's page.
        save_section(token, "mood", {"phq9_1": ["2"], "phq9_9": ["1"]}, now)
        old = factories.appointment(ada, factories.next_grid_time(days_ahead=-40))
        site = Site(serve(app), booked.reference, ada.id, link_token(old.link_salt))
        db.session.remove()
    try:
        yield site
    finally:
        site.live.stop()


def new_page(browser, page_scripts: bool = True, width: int = 1280) -> tuple[BrowserContext, Page]:
    """A page ``width`` CSS pixels wide in a context of its own, in ``BROWSER_ZONE``. Without
    ``page_scripts`` the site's own scripts are refused, so pages render as they do with
    JavaScript off (the site has no <noscript>) while scripts run by the test itself (axe) can."""
    context = browser.new_context(
        timezone_id=BROWSER_ZONE, viewport={"width": width, "height": 800}
    )
    context.set_default_timeout(TIMEOUT_MS)
    if not page_scripts:
        context.route("**/*.js", lambda route: route.abort())
    return context, context.new_page()


def heading(page: Page, text: str | re.Pattern) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def walk_public(page: Page, site: Site, visit: Visit) -> str:
    """Landing, privacy, the picker, the details form (wrong, then right), the confirmation,
    the manage page and its picker. Returns the new consult's link token."""
    page.goto(site.url + "/")
    heading(page, "Feel like yourself again")
    visit(page, "landing")
    page.get_by_role("link", name="Privacy notice").click()
    heading(page, "Privacy notice")
    visit(page, "privacy")
    page.get_by_role("link", name="Book a free consult").click()
    heading(page, "Book your free 20-minute consult")
    page.wait_for_url(re.compile(r"[?&]tz=Europe(/|%2F)London"))
    page.locator(FIRST_SLOT).first.wait_for()
    visit(page, "slot picker")
    page.locator(FIRST_SLOT).first.click()
    heading(page, "Your details")
    visit(page, "details form")
    page.get_by_role("button", name="Confirm my free consult").click()
    expect(page.locator(".field .error").first).to_be_visible()
    visit(page, "details form with errors")
    page.get_by_label("Full name").fill("Kim Keyes")
    page.get_by_label("Email", exact=True).fill("kim@example.com")
    page.get_by_role("checkbox", name=re.compile("read the privacy notice")).check()
    page.get_by_role("checkbox", name=re.compile("not an emergency service")).check()
    page.get_by_role("button", name="Confirm my free consult").click()
    heading(page, "You're booked")
    visit(page, "confirmation")
    token = page.url.rsplit("/", 2)[-2]
    page.get_by_role("link", name="Reschedule or cancel").click()
    heading(page, "Your upcoming consult")
    visit(page, "manage")
    page.get_by_role("link", name="Choose a new time").click()
    heading(page, "Choose a new time with Dr Ada Lane")
    visit(page, "reschedule picker")
    return token


def walk_intake(page: Page, site: Site, token: str, visit: Visit) -> None:
    """The short form from its first page to its last, then the whole health history: a risk
    answer on the mood page (so the crisis panel shows from then on and the ASQ is asked), the
    gentle prompt for a blank item 9 seen once, and a refused answer on the safety page."""
    page.goto(f"{site.url}/intake/{token}")
    heading(page, "Your health questionnaire")
    visit(page, "intake start")
    page.get_by_role("link", name="Start the questionnaire").click()
    answers = {"phq9_1": "3", "phq9_2": "3", "phq9_9": "1", "gad7_1": "3", "gad7_2": "3"}
    parts = asked(PRE_CONSULT, answers)  # every conditional part of the short form
    assert [p.id for p in parts] == [p.id for p in FORMS[PRE_CONSULT]]
    for number, part in enumerate(parts, start=1):
        heading(page, part.title)
        if part.id == "mood":
            page.get_by_role("button", name="Save and continue").click()
            expect(page.locator("#phq9_9-prompt")).to_be_visible()
            visit(page, "intake mood with the item 9 prompt")
            for name in ("Little interest", "Feeling down"):
                page.get_by_role("group", name=re.compile(name)).get_by_label(
                    "Nearly every day"
                ).check()
            page.get_by_role("group", name=re.compile("better off dead")).get_by_label(
                "Several days"
            ).check()
            expect(page.locator("#alert-self_harm")).to_be_visible()
        if part.id == "anxiety":
            for name in ("Feeling nervous", "Not being able to stop"):
                page.get_by_role("group", name=re.compile(name)).get_by_label(
                    "Nearly every day"
                ).check()
        visit(page, f"intake {part.id}")
        if part.id == "safety":
            group = page.get_by_role("group", name=re.compile("past 3 months"))
            group.get_by_label("Losing weight without trying").check()
            group.get_by_label("None of these").check()
            page.get_by_role("button", name="Save and continue").click()
            expect(page.locator(".question .error")).to_be_visible()
            visit(page, "intake safety with an error")
            page.get_by_role("group", name=re.compile("past 3 months")).get_by_label(
                "None of these"
            ).uncheck()
        last = number == len(parts)
        page.get_by_role("button", name="Save and finish" if last else "Save and continue").click()
    heading(page, "Thank you")
    expect(page.locator("main")).to_contain_text("Your questionnaire is complete")
    visit(page, "intake done")
    page.get_by_role("link", name="Start my health history").click()
    history = FORMS[HISTORY]
    for number, part in enumerate(history, start=1):
        heading(page, part.title)
        visit(page, f"intake {part.id}")
        last = number == len(history)
        page.get_by_role("button", name="Save and finish" if last else "Save and continue").click()
    heading(page, "Thank you")
    visit(page, "intake done with the history")


def walk_errors(page: Page, site: Site, visit: Visit) -> None:
    """The 404 and 410 pages."""
    page.goto(site.url + "/no-such-page")
    heading(page, "We couldn't find that page")
    visit(page, "404")
    page.goto(f"{site.url}/manage/{site.expired_token}")
    heading(page, "This link can no longer be used")
    visit(page, "410")


def walk_staff(page: Page, site: Site, visit: Visit) -> None:
    """The console as an admin, from signing in to the audit log, through the main pages."""
    page.goto(site.url + "/staff/")
    heading(page, "Staff sign-in")
    visit(page, "staff sign-in")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    heading(page, re.compile("^Today"))
    visit(page, "staff today")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Week", exact=True).click()
    heading(page, re.compile("Week"))
    visit(page, "staff week")
    nav.get_by_role("link", name="Consults", exact=True).click()
    heading(page, re.compile("Consults"))
    visit(page, "staff consults")
    page.get_by_role("link", name="Jo Patient").first.click()
    heading(page, f"Consult {site.reference}")
    expect(page.get_by_text("Sleeping badly since spring")).to_be_visible()
    visit(page, "staff consult with intake")
    page.get_by_role("link", name="Move to another time").click()
    heading(page, re.compile("Move Jo Patient's consult"))
    visit(page, "staff reschedule")
    nav.get_by_role("link", name="Book for a patient", exact=True).click()
    heading(page, "Book a consult for a patient")
    visit(page, "staff phone booking")
    page.locator(FIRST_SLOT).first.click()
    heading(page, "The patient's details")
    visit(page, "staff phone booking details")
    nav.get_by_role("link", name="Availability", exact=True).click()
    visit(page, "staff availability")
    page.goto(f"{site.url}/staff/availability/{site.practitioner_id}")
    visit(page, "staff availability of one practitioner")
    for path, label in [
        ("/staff/closures", "staff closures"),
        ("/staff/calendar", "staff calendars"),
        ("/staff/settings", "staff settings"),
        ("/staff/settings/crisis-lines", "staff crisis lines"),
        ("/staff/practitioners", "staff practitioners"),
        ("/staff/outbox", "staff outbox"),
        ("/staff/audit", "staff audit"),
    ]:
        page.goto(site.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        visit(page, label)
