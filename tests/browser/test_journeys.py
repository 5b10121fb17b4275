"""The patient's booking flow in a real Chromium, against a live server, with and without JS.

The app is served for real (werkzeug in a background thread, on a SQLite file copied from the
migrated template) with CSRF on, and driven through Playwright: home page, slot picker, details
form, confirmation, then the database is checked. With JavaScript on, ``static/js/timezone.js``
must switch the picker to the browser's zone; with it off the clinic's zone is used.

Needs Debian's Chromium at ``/usr/bin/chromium`` and the ``playwright`` package; without them
the tests skip with the reason (and fail under ``CI=true``).
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
from flask import Flask

from clinic.core.extensions import db
from clinic.core.formatting import day_label, time_label, when_label
from clinic.core.models import Appointment, Patient
from clinic.notify.delivery import deliver_due
from tests.support import factories
from tests.support.apps import make_app
from tests.support.browser import TIMEOUT_MS, Page, expect, serve, watch_for_trouble
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

CLINIC_ZONE = "America/New_York"
BROWSER_ZONE = "Australia/Sydney"
# "Tuesday 3 December, 2:00 PM": the day is part of every slot button's accessible name.
SLOT_NAME = re.compile(r"^\w+day \d+ \w+, \d+:\d\d [AP]M$")


@pytest.fixture
def live_server(sqlite_template, tmp_path):
    """A seeded clinic (New York, one practitioner free all day) served on a free port."""
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        factories.clinic(timezone=CLINIC_ZONE)
        factories.practitioner(hours=factories.ALL_DAY, name="Dr Ada Lane")
        db.session.remove()
    live = serve(app)
    yield live
    live.stop()


def book_first_free_time(page: Page, base_url: str, expected_zone: str, email: str) -> dict:
    """Go from the home page to the confirmation; returns what the patient was shown."""
    page.goto(base_url + "/")
    page.get_by_role("link", name="Book your free 20-minute consult").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book your free 20-minute consult")
    if expected_zone != CLINIC_ZONE:
        # timezone.js replaces the page with ?tz=<the browser's zone>.
        page.wait_for_url(re.compile(r"[?&]tz=" + re.escape(expected_zone).replace("/", "(/|%2F)")))
    note = page.locator(".zone-note")
    expect(note).to_contain_text(f"Times are shown in {expected_zone} (")
    expect(page.get_by_label("Show times in")).to_have_value(expected_zone)

    zone = ZoneInfo(expected_zone)
    picker = page.locator("form.slot-picker")
    slot = picker.get_by_role("button", name=SLOT_NAME).first
    expect(slot).to_be_visible()
    first_value = picker.locator("button[name=start]").first.get_attribute("value")
    start_value = slot.get_attribute("value")
    assert start_value == first_value, "the first button in the picker is a slot with a full name"
    start = datetime.fromisoformat(start_value)
    local = start.astimezone(zone)
    name = f"{day_label(local)}, {time_label(start, zone)}"
    expect(slot).to_have_accessible_name(name)
    # The day heading above the button names the same day, in the same zone.
    expect(slot.locator("xpath=ancestor::section[1]").get_by_role("heading")).to_have_text(
        day_label(local)
    )
    slot.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    expect(page.locator(".held")).to_contain_text(f"You chose {when_label(start, zone)}")
    page.get_by_label("Full name").fill("Jo Patient")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("checkbox", name=re.compile("read the privacy notice")).check()
    page.get_by_role("checkbox", name=re.compile("not an emergency service")).check()
    # The honeypot is hidden from people and from assistive technology; leave it empty.
    expect(page.get_by_role("textbox", name="Leave this field empty")).to_have_count(0)
    honeypot = page.locator("input[name=website]")
    expect(honeypot).to_have_value("")
    page.get_by_role("button", name="Confirm my free consult").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
    summary = page.locator("dl.summary")
    reference = summary.locator("dt:text-is('Reference') + dd").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference), reference
    expect(summary.locator("dt:text-is('Your time') + dd")).to_have_text(when_label(start, zone))
    clinic_time = summary.locator("dt:text-is('Clinic time') + dd")
    if expected_zone == CLINIC_ZONE:
        expect(clinic_time).to_have_count(0)
    else:
        expect(clinic_time).to_have_text(when_label(start, ZoneInfo(CLINIC_ZONE)))
    return {"start": start, "reference": reference}


def assert_booked_once(app: Flask, email: str, shown: dict, zone: str) -> None:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Appointment)
            .join(Patient, Appointment.patient_id == Patient.id)
            .where(Patient.email == email.lower(), Appointment.status == "confirmed")
        ).all()
        assert len(rows) == 1, rows
        appointment = rows[0]
        assert appointment.reference == shown["reference"]
        assert appointment.starts_at == shown["start"]
        assert appointment.patient_timezone == zone
        assert appointment.patient.name == "Jo Patient"
        # Nothing else was held or booked along the way.
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Appointment))
        assert total == 1
        db.session.remove()


@pytest.mark.parametrize(
    ("javascript", "expected_zone"),
    [pytest.param(True, BROWSER_ZONE, id="js-on"), pytest.param(False, CLINIC_ZONE, id="js-off")],
)
def test_patient_books_the_first_free_time(browser, live_server, javascript, expected_zone):
    # The browser is in Sydney either way: only JavaScript can tell the page so.
    context = browser.new_context(java_script_enabled=javascript, timezone_id=BROWSER_ZONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        trouble = watch_for_trouble(page)
        email = "Jo.Patient@Example.com"
        shown = book_first_free_time(page, live_server.url, expected_zone, email)
        assert not trouble, trouble
    finally:
        context.close()
    assert_booked_once(live_server.app, email, shown, expected_zone)


@pytest.mark.parametrize("width", [320, 375])
def test_on_a_phone_a_patient_picks_another_day_from_the_strip_and_holds_a_time_on_it(
    browser, live_server, width
):
    """Without JavaScript, at phone widths: the strip names each day and its number of free
    times, a tap shows that day's times (and only them), and nothing is wider than the
    screen."""
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": width, "height": 740}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        trouble = watch_for_trouble(page)
        page.goto(live_server.url + "/book")
        strip = page.get_by_role("navigation", name="Days")
        expect(strip.get_by_role("listitem")).to_have_count(7)
        expect(strip.locator("[aria-current=page]")).to_have_count(1)
        third = strip.get_by_role("link").nth(2)
        expect(third).to_have_accessible_name(re.compile(r"^\w+day \d+ \w+ \d+ free times$"))
        day = re.match(r"\w+day \d+ \w+", " ".join(third.inner_text().split())).group(0)
        third.click()

        expect(strip.locator("[aria-current=page]")).to_contain_text(day)
        expect(page.locator("section.day")).to_have_count(1)
        expect(page.locator("section.day h2")).to_have_text(day)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        slot = page.locator("form.slot-picker").get_by_role("button", name=SLOT_NAME).first
        expect(slot).to_have_accessible_name(re.compile("^" + re.escape(day) + ", "))
        slot.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
        expect(page.locator(".held")).to_contain_text(day)
        assert not trouble, trouble
    finally:
        context.close()


def unlabelled_controls(page: Page) -> list[str]:
    """Visible form controls with no label, and ids used twice, on the current page."""
    unlabelled = page.locator("main").evaluate(
        """main => Array.from(main.querySelectorAll("select, input, textarea"))
            .filter(e => e.type !== "hidden" && e.getClientRects().length > 0)
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
                         && !e.getAttribute("aria-labelledby"))
            .map(e => e.outerHTML.slice(0, 60))"""
    )
    duplicate_ids = page.evaluate(
        """() => { const seen = new Set(), twice = new Set();
            for (const e of document.querySelectorAll("[id]"))
                (seen.has(e.id) ? twice : seen).add(e.id);
            return Array.from(twice).map(id => "duplicate id " + id); }"""
    )
    return unlabelled + duplicate_ids


def test_slot_picker_has_no_unlabelled_controls(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/book")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Book your free 20-minute consult"
        )
        problems = unlabelled_controls(page)
    finally:
        context.close()
    assert problems == [], problems


@pytest.fixture
def mailing_live_server(sqlite_template, tmp_path):
    """The live server, sending its email through a real SMTP server on loopback."""
    sink = SmtpSink().start()
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}", **sink.config())
    with app.app_context():
        # Bookable from a day ahead, so the first free time is outside the 12-hour change window.
        factories.clinic(
            timezone=CLINIC_ZONE, contact_phone="+1 555 0100", min_notice_minutes=24 * 60
        )
        factories.practitioner(hours=factories.ALL_DAY, name="Dr Ada Lane")
        db.session.remove()
    live = serve(app)
    yield live, sink
    live.stop()
    sink.stop()


def deliver(app: Flask) -> None:
    with app.app_context():
        deliver_due(datetime.now(UTC))
        db.session.remove()


def latest_to(sink: SmtpSink, address: str) -> tuple[str, icalendar.Calendar]:
    """The newest message to ``address``: its text part and its calendar."""
    message = sink.messages_to(address)[-1]
    text = message.get_body(("plain",)).get_content()
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return text, icalendar.Calendar.from_ical(calendar.get_payload(decode=True))


def test_the_manage_link_from_the_email_reschedules_and_then_cancels(browser, mailing_live_server):
    live, sink = mailing_live_server
    email = "jo.patient@example.com"
    context = browser.new_context(java_script_enabled=False, timezone_id=BROWSER_ZONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        trouble = watch_for_trouble(page)
        shown = book_first_free_time(page, live.url, CLINIC_ZONE, email)
        deliver(live.app)
        text, calendar = latest_to(sink, email)
        [link] = re.findall(r"https?://\S+/manage/[A-Za-z0-9_-]+", text)
        assert link.startswith(live.url)
        [first] = calendar.walk("VEVENT")

        # The link opens the consult, and offers times with the same practitioner.
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Your upcoming consult")
        zone = ZoneInfo(CLINIC_ZONE)
        expect(page.locator("dl.summary")).to_contain_text(when_label(shown["start"], zone))
        page.get_by_role("link", name="Choose a new time").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Choose a new time with Dr Ada Lane"
        )
        slot = page.locator("form.slot-picker").get_by_role("button", name=SLOT_NAME).nth(2)
        new_start = datetime.fromisoformat(slot.get_attribute("value"))
        assert new_start != shown["start"]
        slot.click()
        expect(page.get_by_role("status")).to_contain_text(
            f"Your consult is now on {when_label(new_start, zone)}"
        )
        deliver(live.app)
        _, moved = latest_to(sink, email)
        [second] = moved.walk("VEVENT")
        assert str(moved["METHOD"]) == "REQUEST"
        assert str(second["UID"]) == str(first["UID"])
        assert int(second["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
        assert second.decoded("DTSTART") == new_start

        # Then cancel from the same link, with a reason.
        page.goto(link)
        page.get_by_label("Reason (optional)").fill("Feeling better, thank you")
        page.get_by_role("button", name="Cancel my consult").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your consult is cancelled")
        expect(page.get_by_role("link", name="Book a new consult")).to_be_visible()
        deliver(live.app)
        _, cancelled = latest_to(sink, email)
        [third] = cancelled.walk("VEVENT")
        assert str(cancelled["METHOD"]) == "CANCEL"
        assert str(third["UID"]) == str(first["UID"])
        assert int(third["SEQUENCE"]) == int(second["SEQUENCE"]) + 1
        assert not trouble, trouble
    finally:
        context.close()
    with live.app.app_context():
        appointment = db.session.scalars(sa.select(Appointment)).one()
        assert appointment.status == "cancelled"
        assert appointment.starts_at == new_start
        assert appointment.cancel_reason == "Feeling better, thank you"
        db.session.remove()


# --- the intake questionnaire ---------------------------------------------------------------


@pytest.fixture
def booked_intake(live_server):
    """A confirmed consult three days ahead; its link token opens the questionnaire."""
    with live_server.app.app_context():
        start = factories.next_grid_time(days_ahead=3, hour=15)
        appointment, token = book_consult(start)
        appointment_id = appointment.id
        db.session.remove()
    return live_server, token, appointment_id


def book_consult(start: datetime):
    from clinic.booking import services

    return services.book(
        None,
        start,
        ZoneInfo("Europe/London"),
        services.PatientDetails("Jo Patient", "jo@example.com"),
        datetime.now(UTC),
        "clinic.test",
    )


def save_and_continue(page: Page, expected_heading: str) -> None:
    page.get_by_role("button", name=re.compile("^Save and (continue|finish)$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(expected_heading)


def test_the_intake_is_completed_across_pages_left_halfway_and_resumed(browser, booked_intake):
    live, token, appointment_id = booked_intake
    from clinic.intake.questionnaire import PRE_CONSULT, asked

    # Item 9 "Not at all" and a PHQ-2 of 2: the rest of the PHQ-9 and the ASQ are not asked.
    titles = [s.title for s in asked(PRE_CONSULT, {"phq9_1": "2", "phq9_9": "0"})]
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        trouble = watch_for_trouble(page)
        page.goto(f"{live.url}/intake/{token}")
        expect(page.locator("main")).to_contain_text("about 5 minutes")
        page.get_by_role("link", name="Start the questionnaire").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(titles[0])
        expect(page.locator(".progress-label")).to_contain_text(f"Part 1 of {len(titles)}")
        # Consent comes first, and the country is already guessed from the time zone.
        page.get_by_role("group", name=re.compile("sharing your answers")).get_by_label(
            "Yes"
        ).check()
        expect(
            page.get_by_role("group", name="Which country are you in?").get_by_label(
                "United Kingdom"
            )
        ).to_be_checked()
        save_and_continue(page, titles[1])
        page.locator("textarea").first.fill("Low mood and poor sleep")
        save_and_continue(page, titles[2])
        # The PHQ-2 with item 9: every item is a named group of four choices.
        little_interest = page.get_by_role(
            "group", name="Little interest or pleasure in doing things"
        )
        little_interest.get_by_label("More than half the days").check()
        page.get_by_role("group", name=re.compile("better off dead")).get_by_label(
            "Not at all"
        ).check()
        save_and_continue(page, titles[3])
        expect(page.locator(".progress-label")).to_contain_text(f"Part 4 of {len(titles)}")
        assert not trouble, trouble
    finally:
        context.close()  # the patient leaves halfway

    # Later, from the same link, in a new browser session.
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        trouble = watch_for_trouble(page)
        page.goto(f"{live.url}/intake/{token}")
        page.get_by_role("link", name="Continue where I left off").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(titles[3])
        # What was saved before is still there.
        page.goto(f"{live.url}/intake/{token}/mood")
        expect(
            page.get_by_role(
                "group", name="Little interest or pleasure in doing things"
            ).get_by_label("More than half the days")
        ).to_be_checked()
        page.goto(f"{live.url}/intake/{token}/anxiety")
        for number, title in enumerate(titles[3:], start=4):
            expect(page.get_by_role("heading", level=1)).to_have_text(title)
            following = titles[number] if number < len(titles) else "Thank you"
            save_and_continue(page, following)
        expect(page.locator("main")).to_contain_text("Your questionnaire is complete")
        for panel in ("emergency", "self_harm", "see_doctor"):
            expect(page.locator(f"#alert-{panel}")).to_be_hidden()
        # The fuller history is offered, and optional.
        page.get_by_role("link", name="Start my health history").click()
        expect(page.locator(".progress-label")).to_contain_text("Health history: part 1 of")
        assert not trouble, trouble
    finally:
        context.close()
    with live.app.app_context():
        intake = db.session.get(Appointment, appointment_id).intake
        assert intake.completed_at is not None
        assert intake.answers["phq9_1"] == "2"
        assert intake.answers["goals_concerns"] == "Low mood and poor sleep"
        assert intake.answers["consent_share"] == "yes"
        db.session.remove()


# What each kind of red answer tells the patient, and where it is asked.
RED_ANSWERS = {
    "self_harm": (
        "mood",
        re.compile("better off dead"),
        "Several days",
        "Please reach out for support now",
    ),
    "emergency": (
        "safety",
        re.compile("chest pain or severe breathlessness right now"),
        "Yes",
        "Stop and get help now",
    ),
    "see_doctor": (
        "safety",
        re.compile("past 3 months"),
        "Blood in your stool, or black, tarry stools",
        "Please see a doctor soon",
    ),
}


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
@pytest.mark.parametrize("kind", list(RED_ANSWERS))
def test_each_kind_of_red_answer_shows_its_own_message_and_raises_one_alert(
    browser, booked_intake, kind, javascript
):
    """With JavaScript the right panel opens beside the question the moment the answer is
    picked; without it, on the next page. Only that kind's panel shows, with the numbers of
    the patient's country (London here: 999), and its alert is raised once however often the
    page is saved."""
    live, token, appointment_id = booked_intake
    part, question, choice, heading = RED_ANSWERS[kind]
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        trouble = watch_for_trouble(page)
        page.goto(f"{live.url}/intake/{token}/{part}")
        panel = page.locator(f"#alert-{kind}")
        expect(panel).to_be_hidden()
        page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()
        if javascript:
            expect(panel).to_be_visible()
            expect(panel).to_be_in_viewport()
            with live.app.app_context():
                assert db.session.get(Appointment, appointment_id).intake is None
                db.session.remove()
        else:
            expect(panel).to_be_hidden()
        page.get_by_role("button", name="Save and continue").click()
        expect(page.get_by_role("heading", level=1)).not_to_have_text(
            "Your mood" if part == "mood" else "Symptoms that need care soon"
        )
        expect(panel).to_be_visible()
        expect(panel.get_by_role("heading")).to_have_text(heading)
        expect(panel).to_contain_text("999")
        expect(panel).not_to_contain_text("988")
        for other in RED_ANSWERS:
            if other != kind:
                expect(page.locator(f"#alert-{other}")).to_be_hidden()
        keep_going = "You can keep going with the questionnaire"
        if kind == "emergency":
            expect(panel).not_to_contain_text(keep_going)
        elif kind == "self_harm":
            expect(panel).to_contain_text(keep_going)
        # Saving the same answer again raises nothing new.
        page.goto(f"{live.url}/intake/{token}/{part}")
        page.get_by_role("button", name="Save and continue").click()
        expect(panel).to_be_visible()
        page.goto(f"{live.url}/intake/{token}/done")
        expect(panel).to_be_visible()
        assert not trouble, trouble
    finally:
        context.close()
    with live.app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        assert [a.kind for a in appointment.alerts] == [kind]
        assert appointment.urgent == (kind in ("self_harm", "emergency"))
        db.session.remove()


def test_every_intake_page_has_labelled_controls(browser, booked_intake):
    live, token, _ = booked_intake
    from clinic.intake.questionnaire import SECTIONS

    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    problems = {}
    try:
        page = context.new_page()
        for part in SECTIONS:
            page.goto(f"{live.url}/intake/{token}/{part.id}")
            expect(page.get_by_role("heading", level=1)).to_have_text(part.title)
            found = unlabelled_controls(page)
            if found:
                problems[part.id] = found
    finally:
        context.close()
    assert problems == {}, problems
