"""The staff week view and the practitioner filter on the today view.

The clinic is in America/New_York; times below are local wall-clock times there.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Appointment, Patient, Practitioner
from tests.support import factories
from tests.support.queries import counting
from tests.support.staff import seed_staff_clinic, sign_in

NEW_YORK = ZoneInfo("America/New_York")
WEDNESDAY = date(2031, 6, 11)  # the week of Monday 9 to Sunday 15 June 2031 (EDT)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), NEW_YORK).astimezone(UTC)


def person(email: str) -> Practitioner:
    return db.session.scalar(sa.select(Practitioner).where(Practitioner.email == email))


@pytest.fixture
def week(app):
    """Ada and Ben's consults in the week of WEDNESDAY, and one on either side of it."""
    seed_staff_clinic()
    ada, ben = person("ada@clinic.test"), person("ben@clinic.test")
    monday = WEDNESDAY - timedelta(days=2)
    consults = dict(
        ada_monday=factories.appointment(ada, at(monday, 9)),
        ben_wednesday=factories.appointment(
            ben, at(WEDNESDAY, 14, 30), patient=_patient("Bea Brown")
        ),
        urgent=factories.appointment(ada, at(WEDNESDAY, 10), urgent=True),
        cancelled=factories.appointment(ben, at(monday, 11), status="cancelled"),
        no_show=factories.appointment(ada, at(monday, 15), status="no_show"),
        completed=factories.appointment(ada, at(monday, 16), status="completed"),
        sunday_before=factories.appointment(ada, at(monday - timedelta(days=1), 9)),
        monday_after=factories.appointment(ada, at(monday + timedelta(days=7), 9)),
    )
    return {name: c.reference for name, c in consults.items()} | {"ada": ada.id, "ben": ben.id}


def _patient(name: str) -> Patient:
    return Patient(name=name, email=f"{name.split()[0].lower()}@example.com")


def block(page: str, reference: str) -> str:
    """The text of the consult's block (its link), as a screen reader would read it."""
    match = re.search(
        rf'<li class="([^"]*)" style="([^"]*)">\s*<a href="/staff/consults/{reference}">(.*?)</a>',
        page,
        re.S,
    )
    assert match, f"no block for {reference}"
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", match.group(3))).split())
    return f"{match.group(1)} | {match.group(2)} | {text}"


def get_week(client, query: str = f"day={WEDNESDAY}&practitioner=all"):
    return client.get(f"/staff/week?{query}")


def test_the_week_shows_its_own_consults_and_no_others(client, week):
    sign_in(client, "desk")
    response = get_week(client)
    assert response.status_code == 200
    page = response.text
    for name in ("ada_monday", "ben_wednesday", "urgent", "cancelled", "no_show", "completed"):
        assert f"/staff/consults/{week[name]}" in page, name
    assert f"/staff/consults/{week['sunday_before']}" not in page
    assert f"/staff/consults/{week['monday_after']}" not in page
    assert "Week of Monday 9 June 2031, whole clinic" in page
    assert [d for d in re.findall(r'<h2 id="day-([\d-]+)"', page)] == [
        str(date(2031, 6, 9) + timedelta(days=i)) for i in range(7)
    ]
    assert "America/New_York (EDT)" in page


def test_each_block_is_a_link_that_reads_day_time_patient_practitioner_and_status(client, week):
    sign_in(client, "desk")
    page = get_week(client).text
    classes, style, text = block(page, week["ada_monday"]).split(" | ")
    assert text == "Monday 9 June, 9:00 AM to 9:20 AM, Pat Example, Dr Ada Lane, Confirmed"
    # The practitioners work around the clock (the factory's hours), so row 1 is midnight and
    # each row is five minutes: 9:00 AM is row 109, 9:20 AM row 113.
    assert style == "grid-row: 109 / 113; grid-column: 1 / -1"
    assert "status-confirmed" in classes
    _, _, text = block(page, week["ben_wednesday"]).split(" | ")
    assert text == "Wednesday 11 June, 2:30 PM to 2:50 PM, Bea Brown, Dr Ben Ode, Confirmed"


def test_cancelled_no_show_and_completed_are_said_in_words(client, week):
    sign_in(client, "desk")
    page = get_week(client).text
    classes, _, text = block(page, week["cancelled"]).split(" | ")
    assert "status-cancelled" in classes and text.endswith("Dr Ben Ode, Cancelled")
    assert block(page, week["no_show"]).endswith("Dr Ada Lane, No-show")
    assert block(page, week["completed"]).endswith("Dr Ada Lane, Completed")


def test_urgent_intakes_are_marked_without_their_details(client, app):
    reference = seed_staff_clinic()  # Ada's consult whose intake has a red flag
    sign_in(client, "admin")  # who could read the answers on the consult's page
    consult = db.session.scalar(sa.select(Appointment).where(Appointment.reference == reference))
    day = consult.starts_at.astimezone(NEW_YORK).date()
    page = client.get(f"/staff/week?day={day}&practitioner=all").text
    classes, _, text = block(page, reference).split(" | ")
    assert "is-urgent" in classes and text.endswith("Confirmed, Urgent intake")
    assert "Sleeping badly" not in page and "PHQ" not in page


def test_the_practitioner_filter_shows_only_theirs(client, week):
    sign_in(client, "admin")
    page = get_week(client, f"day={WEDNESDAY}&practitioner={week['ben']}").text
    assert f"/staff/consults/{week['ben_wednesday']}" in page
    assert f"/staff/consults/{week['cancelled']}" in page
    assert f"/staff/consults/{week['ada_monday']}" not in page
    assert f"/staff/consults/{week['urgent']}" not in page
    assert "Week of Monday 9 June 2031: Dr Ben Ode" in page
    assert f'<option selected value="{week["ben"]}">Dr Ben Ode</option>' in page
    # One practitioner's week doesn't repeat their name in every block.
    assert block(page, week["ben_wednesday"]).endswith("Bea Brown, Confirmed")


def test_practitioners_start_with_their_own_week_and_switch_to_the_clinic(client, week):
    sign_in(client, "own")  # Dr Ada Lane
    page = get_week(client, f"day={WEDNESDAY}").text
    assert f"/staff/consults/{week['ada_monday']}" in page
    assert f"/staff/consults/{week['ben_wednesday']}" not in page
    [switch] = re.findall(r'<a href="([^"]+)">Show the whole clinic</a>', page)
    whole = client.get(unescape(switch)).text
    assert f"/staff/consults/{week['ben_wednesday']}" in whole
    assert f"/staff/consults/{week['ada_monday']}" in whole
    [back] = re.findall(r'<a href="([^"]+)">Show only my consults</a>', whole)
    assert f"practitioner={week['ada']}" in back and f"day={WEDNESDAY}" in unescape(back)


def test_other_roles_start_with_the_whole_clinic(client, week):
    sign_in(client, "desk")
    page = get_week(client, f"day={WEDNESDAY}").text
    assert f"/staff/consults/{week['ada_monday']}" in page
    assert f"/staff/consults/{week['ben_wednesday']}" in page
    assert "Show the whole clinic" not in page and "Show only my consults" not in page


def test_previous_next_and_this_week_links(client, week):
    sign_in(client, "desk")
    page = unescape(get_week(client, f"day={WEDNESDAY}&practitioner={week['ben']}").text)
    links = dict(re.findall(r'<a class="button" href="([^"]+)"[^>]*>([^<]+ week)</a>', page))
    assert {v: k for k, v in links.items()} == {
        "Previous week": f"/staff/week?day=2031-06-02&practitioner={week['ben']}",
        "This week": f"/staff/week?practitioner={week['ben']}",
        "Next week": f"/staff/week?day=2031-06-16&practitioner={week['ben']}",
    }
    later = get_week(client, "day=2031-06-16&practitioner=all").text
    assert f"/staff/consults/{week['monday_after']}" in later
    assert f"/staff/consults/{week['ada_monday']}" not in later


def test_without_a_day_it_is_this_week(client, app):
    seed_staff_clinic()
    today = datetime.now(UTC).astimezone(NEW_YORK).date()
    consult = factories.appointment(person("ada@clinic.test"), at(today, 12))
    sign_in(client, "desk")
    page = client.get("/staff/week").text
    monday = today - timedelta(days=today.weekday())
    assert f"Week of {monday:%A} {monday.day} {monday:%B} {monday.year}" in page
    assert f"/staff/consults/{consult.reference}" in page
    assert 'aria-current="page">This week</a>' in page
    assert "(today)" in page


def test_a_week_with_a_clock_change_keeps_nine_am_on_one_row(client, app):
    seed_staff_clinic()
    ada = person("ada@clinic.test")
    # 9 March 2031 (Sunday): New York moves from EST to EDT.
    before = factories.appointment(ada, at(date(2031, 3, 3), 9))
    after = factories.appointment(ada, at(date(2031, 3, 9), 9))
    sign_in(client, "desk")
    page = client.get("/staff/week?day=2031-03-05").text
    assert (
        block(page, before.reference).split(" | ")[1]
        == block(page, after.reference).split(" | ")[1]
    )
    assert "America/New_York (EST)" in page
    assert "The clocks change on Sunday 9 March: from then on, America/New_York (EDT)." in page


def without_open_alerts(page: str) -> str:
    """The page without its "Open alerts" block (shown on every schedule page)."""
    return re.sub(
        r'<section aria-labelledby="open-alerts-heading".*?</section>', "", page, flags=re.S
    )


@pytest.mark.parametrize(
    "query, message",
    [
        ("day=2031-13-40", "Use a date like 2026-12-03 (year-month-day)."),
        ("day=tomorrow", "Use a date like 2026-12-03 (year-month-day)."),
        ("day=0001-01-01", "Please choose a day between 2000 and 2999."),
        ("day=9999-12-31", "Please choose a day between 2000 and 2999."),
        ("practitioner=nobody", "Please choose a practitioner from the list."),
        ("practitioner=999", "Please choose a practitioner from the list."),
        ("practitioner=", "Please choose a practitioner from the list."),
    ],
)
def test_bad_days_and_practitioners_are_refused_plainly(client, week, query, message):
    sign_in(client, "desk")
    response = client.get(f"/staff/week?{query}")
    assert response.status_code == 422
    page = unescape(response.text)
    assert 'class="error" id="' in page and message in page
    # No week is shown; only the open alerts, which are on every schedule page, link consults.
    assert "/staff/consults/" not in without_open_alerts(page)


@pytest.mark.parametrize("query", ["practitioner=nobody", "practitioner=999"])
def test_the_today_view_refuses_a_bad_practitioner_plainly(client, week, query):
    sign_in(client, "desk")
    response = client.get(f"/staff/?{query}")
    assert response.status_code == 422
    assert "Please choose a practitioner from the list." in unescape(response.text)
    assert "/staff/consults/" not in without_open_alerts(response.text)


def test_the_today_view_filters_by_practitioner(client, app):
    seed_staff_clinic()
    today = datetime.now(UTC).astimezone(NEW_YORK).date()
    ada, ben = person("ada@clinic.test"), person("ben@clinic.test")
    mine = factories.appointment(ada, at(today, 12))
    theirs = factories.appointment(ben, at(today, 13))
    sign_in(client, "own")
    page = client.get("/staff/").text
    assert f"/staff/consults/{mine.reference}" in page
    assert f"/staff/consults/{theirs.reference}" not in page
    [switch] = re.findall(r'<a href="([^"]+)">Show the whole clinic</a>', page)
    assert unescape(switch) == "/staff/?practitioner=all"
    whole = client.get(unescape(switch)).text
    assert f"/staff/consults/{theirs.reference}" in whole
    only_ben = client.get(f"/staff/?practitioner={ben.id}").text
    assert f"/staff/consults/{theirs.reference}" in only_ben
    assert f"/staff/consults/{mine.reference}" not in only_ben


@pytest.mark.parametrize("who", ["desk", "own", "other", "admin"])
def test_every_staff_role_sees_the_week(client, week, who):
    sign_in(client, who)
    assert get_week(client).status_code == 200


def test_an_empty_day_means_this_week(client, week):
    sign_in(client, "desk")
    assert client.get("/staff/week?day=&practitioner=all").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, week):
    response = get_week(client)
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]


def test_the_week_costs_the_same_statements_however_many_consults(client, week):
    sign_in(client, "desk")
    db.session.rollback()  # see the requests' writes before adding more
    with counting() as few:
        assert get_week(client).status_code == 200
    ada, ben = person("ada@clinic.test"), person("ben@clinic.test")
    for i in range(30):
        factories.appointment(
            (ada, ben)[i % 2], at(WEDNESDAY + timedelta(days=i % 5 - 2), 8 + i // 5, 30)
        )
    with counting() as many:
        page = get_week(client).text
    assert page.count('class="week-block ') == 36
    assert len(many) == len(few) <= 5, many
