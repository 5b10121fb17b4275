"""A practitioner connects their own calendars in a real Chromium: an ICS address (served by
a web server on loopback) and a CalDAV account (Radicale on loopback); after the worker's
round the page says when each was last synced, and the booking page no longer offers the
times those calendars hold busy."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, time, timedelta

import pytest

from clinic.accounts.services import create_staff
from clinic.core.extensions import db
from clinic.own_calendars.push import push_due
from clinic.own_calendars.sync import sync_due
from tests.support import factories
from tests.support.apps import make_app
from tests.support.browser import TIMEOUT_MS, Page, expect, serve, watch_for_trouble
from tests.support.http_servers import http_server
from tests.support.radicale import PASSWORD as APP_PASSWORD
from tests.support.radicale import USER, running_radicale
from tests.support.staff import PASSWORD

pytestmark = pytest.mark.browser

DAY = datetime.now(UTC).date() + timedelta(days=3)
SCHOOL_RUN = datetime.combine(DAY, time(10), UTC)  # in the ICS feed
DENTIST = datetime.combine(DAY, time(14), UTC)  # in the CalDAV calendar
FREE = datetime.combine(DAY, time(12), UTC)  # in neither


def event(uid: str, start: datetime, minutes: int) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART:{start.strftime(stamp)}\r\n"
        f"DTEND:{(start + timedelta(minutes=minutes)).strftime(stamp)}\r\n"
        "SUMMARY:Private\r\nEND:VEVENT\r\n"
    )


def calendar(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
        + "".join(events)
        + ("END:VCALENDAR\r\n")
    )


@pytest.fixture
def clinic(sqlite_template, tmp_path):
    path = tmp_path / "clinic.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}", CALENDAR_ALLOW_PRIVATE_HOSTS=True)
    with app.app_context():
        factories.clinic()  # all-day hours, a 10-minute gap around busy times
        factories.practitioner(name="Dr Ada Lane", email="ada@clinic.test")
        create_staff("ada@clinic.test", "practitioner", PASSWORD, name="Ada Lane")
        db.session.remove()
    with running_radicale(tmp_path / "radicale", work="Work") as radicale:
        from caldav.davclient import DAVClient

        with DAVClient(url=radicale.url, username=USER, password=APP_PASSWORD) as client:
            client.request(
                radicale.calendar_url("work") + "dentist.ics",
                "PUT",
                calendar(event("dentist", DENTIST, 45)),
                {"Content-Type": "text/calendar"},
            )
        live = serve(app)
        try:
            with http_server() as feeds:
                feeds.pages["/ada-secret.ics"] = (
                    calendar(event("school", SCHOOL_RUN, 30)).encode(),
                    {},
                )
                yield live, feeds, radicale
        finally:
            live.stop()


def offered(page: Page, base_url: str) -> set[str]:
    page.goto(f"{base_url}/book?tz=UTC&day={DAY.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    values = page.locator("button[name=start]").evaluate_all("bs => bs.map(b => b.value)")
    return {datetime.fromisoformat(v).astimezone(UTC).isoformat() for v in values}


def test_a_practitioner_connects_a_feed_and_an_account_and_their_busy_times_close(browser, clinic):
    live, feeds, radicale = clinic
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    patient = context.new_page()
    before = offered(patient, live.url)
    assert {SCHOOL_RUN.isoformat(), DENTIST.isoformat(), FREE.isoformat()} <= before

    staff_context = browser.new_context()
    staff_context.set_default_timeout(TIMEOUT_MS)
    page = staff_context.new_page()
    trouble = watch_for_trouble(page)
    page.goto(live.url + "/staff/")
    page.get_by_label("Email").fill("ada@clinic.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Calendars").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendars")

    by_address = page.get_by_role("form", name="Add a calendar by its address")
    by_address.get_by_label("Name it").fill("Family (Google)")
    by_address.get_by_label("Calendar address").fill(feeds.url + "/ada-secret.ics")
    page.get_by_role("button", name="Connect a calendar to Dr Ada Lane's schedule").click()
    expect(page.get_by_role("status").first).to_contain_text("Family (Google) is connected")

    account = page.get_by_role("form", name="Add a calendar account")
    account.get_by_label("Name it").fill("Phone")
    account.get_by_label("CalDAV server address").fill(radicale.url)
    account.get_by_label("User name").fill(USER)
    account.get_by_label("App password").fill(APP_PASSWORD)
    page.get_by_role("button", name="Connect an account to Dr Ada Lane's schedule").click()
    expect(page.get_by_role("status").first).to_contain_text("Phone is connected")
    expect(page.get_by_label("Work")).to_be_checked()  # every calendar counts as busy at first
    assert APP_PASSWORD not in page.content() and "ada-secret" not in page.content()

    page.get_by_label("Add booked consults to").select_option(label="Work")
    page.get_by_role("button", name="Save the calendars chosen for Phone").click()
    expect(page.get_by_role("status").first).to_contain_text("your choice of calendars is saved")

    with live.app.app_context():  # the worker's round
        assert sync_due(datetime.now(UTC)) == 2
        push_due(datetime.now(UTC))
        db.session.remove()
    page.reload()
    expect(page.get_by_text("last synced")).to_have_count(2)

    after = offered(patient, live.url)
    assert SCHOOL_RUN.isoformat() not in after and DENTIST.isoformat() not in after
    assert FREE.isoformat() in after
    assert trouble == []
    staff_context.close()
    context.close()
