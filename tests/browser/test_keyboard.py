"""Booking and the whole questionnaire with the keyboard alone, focus always visible.

A patient in a real Chromium (JavaScript on) uses only ``page.keyboard``: Tab and Shift+Tab to
move, Enter to follow links and press buttons, Space for checkboxes, arrow keys within a radio
group, typing into fields. Nothing is clicked. Each time focus lands on something, it must show
the site's focus ring (a solid, coloured outline at least 2px wide, from ``:focus-visible``, or
``:focus-within`` for date and time fields) and be on screen.
Afterwards the database must hold the booking and the completed questionnaire. Staff sign in
with the keyboard too, and every stop of the console's busiest pages shows the same ring.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Appointment, Patient
from clinic.intake.questionnaire import PRE_CONSULT, asked
from tests.support.browser import Page, expect, watch_for_trouble
from tests.support.site_walk import ADMIN, BROWSER_ZONE, FIRST_SLOT, heading, new_page, serve_site
from tests.support.staff import PASSWORD

pytestmark = pytest.mark.browser

# Where focus is and how it looks, in one round trip.
FOCUS = """selector => {
    const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
    return {
        matches: e.matches(selector),
        element: e.outerHTML.slice(0, 90),
        isBody: e === document.body,
        focusVisible: e.matches(":focus-visible"),
        outline: s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor,
        outlineWidth: parseFloat(s.outlineWidth),
        onScreen: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
            && r.left < innerWidth && r.top < innerHeight,
    };
}"""


class Keyboard:
    """Moves focus with Tab or Shift+Tab until it reaches an element, checking every stop."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops = 0  # focus stops checked for a visible ring

    def check(self, selector: str = "*") -> dict:
        # A key pressed as a page arrives can land before its stylesheet has: what the
        # patient sees, and what is checked, is the page once loaded.
        self.page.wait_for_load_state("load")
        state = self.page.evaluate(FOCUS, selector)
        if not state["isBody"]:
            self.stops += 1
            ring = state["outline"]
            assert ring.startswith("solid") and state["outlineWidth"] >= 2, f"no ring: {state}"
            assert not ring.endswith(("rgba(0, 0, 0, 0)", "transparent")), state
            assert state["onScreen"], f"focus is off screen: {state}"
        return state

    def to(self, selector: str, backwards: bool = False, limit: int = 80) -> None:
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            if self.check(selector)["matches"]:
                return
        raise AssertionError(f"{limit} presses never reached {selector}")

    def sweep(self, limit: int = 400) -> int:
        """Tab through every stop of the page, from the top until focus leaves the page or
        comes round again; returns how many stops there were."""
        first = None
        for count in range(limit):
            self.page.keyboard.press("Tab")
            state = self.check()
            if state["isBody"] or state["element"] == first:
                return count
            first = first or state["element"]
        raise AssertionError(f"still tabbing after {limit} stops")

    def press(self, selector: str, key: str = "Enter") -> None:
        self.to(selector)
        self.page.keyboard.press(key)

    def type_into(self, selector: str, text: str) -> None:
        self.to(selector)
        self.page.keyboard.type(text)

    def choose(self, name: str, value: str) -> None:
        """Tab into a radio group, then arrow down to a choice (arrows select as they move)."""
        self.to(f"input[name={name}]")
        for _ in range(10):
            if self.check(f"input[value='{value}']")["matches"]:
                self.page.keyboard.press("Space")  # the first choice is not selected by focus
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"no choice {value} in {name}")


def _mood(keys: Keyboard) -> None:
    keys.choose("phq9_1", "2")
    keys.choose("phq9_9", "0")


ANSWERS = {
    "about": lambda keys: keys.choose("consent_share", "yes"),
    "goals": lambda keys: keys.type_into("#goals_concerns", "Tired all the time"),
    "mood": _mood,
    "safety": lambda keys: keys.press("input[name=digestion_red_flags][value=none]", "Space"),
    "contact": lambda keys: keys.choose("contact_method", "phone"),
}
# What those answers ask: a PHQ-2 of 2 and item 9 "Not at all" ask neither the rest of the
# PHQ-9 nor the ASQ.
ASKED = asked(PRE_CONSULT, {"phq9_1": "2", "phq9_9": "0"})


def book_with_the_keyboard(keys: Keyboard, page: Page) -> None:
    keys.check()
    page.keyboard.press("Tab")  # the first stop skips the header, straight to the content
    assert keys.check("a.skip-link")["matches"]
    page.keyboard.press("Enter")
    keys.press("main a[href='/book']")
    heading(page, "Book your free 20-minute consult")
    page.wait_for_url(re.compile(r"[?&]tz=Europe(/|%2F)London"))
    keys.press(FIRST_SLOT)

    heading(page, "Your details")
    keys.type_into("#name", "Kim Keyes")
    keys.type_into("#email", "kim@example.com")
    keys.press("#consent_privacy", "Space")
    keys.press("#consent_not_emergency", "Space")
    keys.to("button[type=submit]")
    # Back up to check the last box is ticked, then forward again to send.
    keys.to("#consent_not_emergency", backwards=True)
    expect(page.locator("#consent_not_emergency")).to_be_checked()
    keys.press("form button[type=submit]")
    heading(page, "You're booked")


def answer_the_questionnaire(keys: Keyboard, page: Page) -> None:
    keys.press("main a[href*='/intake/']")
    heading(page, "Your health questionnaire")
    keys.press("main a.button-primary")
    for part in ASKED:
        heading(page, part.title)
        if part.id in ANSWERS:
            ANSWERS[part.id](keys)
        keys.press("button[value=next]")
    heading(page, "Thank you")
    expect(page.locator("main")).to_contain_text("Your questionnaire is complete")


def test_a_patient_books_and_answers_the_questionnaire_with_the_keyboard_only(
    browser, sqlite_template, tmp_path
):
    with serve_site(sqlite_template, tmp_path) as site:
        context, page = new_page(browser)
        try:
            trouble = watch_for_trouble(page)
            keys = Keyboard(page)
            page.goto(site.url + "/")
            assert page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone") == (
                BROWSER_ZONE
            )
            book_with_the_keyboard(keys, page)
            answer_the_questionnaire(keys, page)
            assert not trouble, trouble
        finally:
            context.close()
        with site.live.app.app_context():
            [booked] = db.session.scalars(
                sa.select(Appointment)
                .join(Patient, Appointment.patient_id == Patient.id)
                .where(Patient.email == "kim@example.com")
            ).all()
            assert booked.status == "confirmed"
            assert booked.patient.name == "Kim Keyes"
            assert booked.patient_timezone == BROWSER_ZONE
            intake = booked.intake
            assert intake is not None and intake.completed_at is not None
            assert intake.answers["goals_concerns"] == "Tired all the time"
            assert intake.answers["phq9_1"] == "2"
            assert intake.answers["phq9_9"] == "0"
            assert intake.answers["digestion_red_flags"] == ["none"]
            assert intake.answers["contact_method"] == "phone"
            assert intake.answers["consent_share"] == "yes"
            db.session.remove()
    # Booking and the 20 questions of the short form take more than 80 key stops; far fewer
    # would mean the walk skipped pages.
    assert keys.stops > 80, keys.stops


def test_every_stop_on_the_main_staff_pages_shows_the_focus_ring(
    browser, sqlite_template, tmp_path
):
    with serve_site(sqlite_template, tmp_path) as site:
        context, page = new_page(browser)
        try:
            trouble = watch_for_trouble(page)
            keys = Keyboard(page)
            page.goto(site.url + "/staff/")
            keys.type_into("#email", ADMIN)
            keys.type_into("#password", PASSWORD)
            page.keyboard.press("Enter")
            heading(page, re.compile("^Today"))
            stops = {}
            for path in [
                "/staff/",
                "/staff/week",
                f"/staff/consults/{site.reference}",
                f"/staff/availability/{site.practitioner_id}",
                "/staff/settings",
            ]:
                page.goto(site.url + path)
                stops[path] = keys.sweep()
            assert not trouble, trouble
        finally:
            context.close()
    # Each page was gone through, header and sign-out button included.
    assert all(count > 12 for count in stops.values()), stops
