"""axe-core on every page patients see and on the staff console's main pages.

axe-core (bundled by ``axe-playwright-python``) runs all its rules, WCAG 2.x A and AA included
(colour contrast, labels, landmarks, heading order, ARIA ids and roles, names of links and
buttons, target sizes), on each page of the walks in ``tests/support/site_walk.py``. A
``serious`` or
``critical`` violation fails the test; lesser ones are printed (``pytest -rP`` shows them),
with what axe could not decide by itself ("needs review"). Layouts change with the
width (the week grid becomes a list, wide tables scroll), so the console is checked at a
desktop's width and a phone's (320 CSS pixels), and the picker at a phone's as well; at that
width no page may be wider than the window (WCAG 1.4.10, reflow; wide tables scroll inside
their own region).
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.support.browser import Page, watch_for_trouble
from tests.support.site_walk import (
    FIRST_SLOT,
    heading,
    new_page,
    serve_site,
    walk_errors,
    walk_intake,
    walk_public,
    walk_staff,
)

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}
PHONE = 320  # CSS pixels: the width WCAG 1.4.10 (reflow) asks pages to fit
AXE = Axe()


def where(result: dict) -> str:
    """What axe found and the first few places, with its reason for each."""
    places = [
        f"{' '.join(node['target'])} ({node['failureSummary'] or ''})".replace("\n", " ")
        for node in result["nodes"][:3]
    ]
    return f"{result['help']} at {'; '.join(places)}"


class AxeAudit:
    """Runs axe on each page it is shown; keeps what blocks and what merely needs a look."""

    def __init__(self) -> None:
        self.pages: list[str] = []
        self.blocking: list[str] = []
        self.other: list[str] = []

    def __call__(self, page: Page, label: str) -> None:
        results = AXE.run(page)
        self.pages.append(label)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        if overflow > 0:
            self.blocking.append(f"{label}: wider than the window by {overflow}px (reflow)")
        for violation in results.response["violations"]:
            line = f"{label}: {violation['id']} ({violation['impact']}) {where(violation)}"
            (self.blocking if violation["impact"] in BLOCKING else self.other).append(line)
        for unsure in results.response["incomplete"]:
            self.other.append(f"{label}: needs review: {unsure['id']} {where(unsure)}")

    def report(self) -> list[str]:
        print(f"axe ran on {len(self.pages)} pages: {', '.join(self.pages)}")
        for line in self.other:
            print("not failing:", line)
        return self.blocking


@pytest.fixture
def site(sqlite_template, tmp_path):
    with serve_site(sqlite_template, tmp_path) as site:
        yield site


def test_every_public_page_has_no_serious_accessibility_violation(browser, site):
    audit = AxeAudit()
    context, page = new_page(browser)
    try:
        trouble = watch_for_trouble(page)
        token = walk_public(page, site, audit)
        walk_intake(page, site, token, audit)
        walk_errors(page, site, audit)
        assert not trouble, trouble
    finally:
        context.close()
    # Without JavaScript (the picker stays in the clinic's zone), on a phone.
    context, page = new_page(browser, page_scripts=False, width=PHONE)
    try:
        page.goto(site.url + "/book")
        assert "tz=" not in page.url
        heading(page, "Book your free 20-minute consult")
        page.locator(FIRST_SLOT).first.wait_for()
        audit(page, "slot picker without JavaScript, on a phone")
    finally:
        context.close()
    # 8 booking pages; 26 of the questionnaire (the start page, the short form's 10 parts, its
    # blank item 9 prompt and a refused answer, the end, the history's 11 parts and its end);
    # 2 errors; 1 without JavaScript.
    assert len(audit.pages) == 8 + 26 + 2 + 1, audit.pages
    assert audit.report() == []


@pytest.mark.parametrize(
    "width", [pytest.param(1280, id="desktop"), pytest.param(PHONE, id="phone")]
)
def test_the_main_staff_pages_have_no_serious_accessibility_violation(browser, site, width):
    audit = AxeAudit()
    context, page = new_page(browser, width=width)
    try:
        trouble = watch_for_trouble(page)
        walk_staff(page, site, audit)
        assert not trouble, trouble
    finally:
        context.close()
    assert len(audit.pages) == 17, audit.pages
    assert audit.report() == []
