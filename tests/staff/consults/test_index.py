"""The staff consult list: filters that really filter, search taken literally, pages, bad input.

The clinic is in New York (``seed_staff_clinic``), so local days differ from UTC days.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest

from clinic.staff.consults import index as consult_list
from tests.support.queries import counting
from tests.support.records import at, consult, person, rows, today
from tests.support.staff import seed_staff_clinic, sign_in


@pytest.fixture
def clinic(app):
    reference = seed_staff_clinic()  # Jo Patient with Dr Ada, 3 days ahead, urgent intake
    return reference


@pytest.fixture
def desk(client, clinic):
    assert sign_in(client, "desk").status_code == 303
    return client


def test_the_list_opens_on_today_and_the_next_14_days(desk, clinic):
    consult("Soon Person", at(today() + timedelta(days=1)))
    consult("Last Day Person", at(today() + timedelta(days=14), 20))
    consult("Later Person", at(today() + timedelta(days=15), 9))
    consult("Yesterday Person", at(today() - timedelta(days=1)))

    response = desk.get("/staff/consults")

    assert response.status_code == 200
    table = rows(response)
    assert "Soon Person" in table and "Last Day Person" in table and "Jo Patient" in table
    assert "Later Person" not in table and "Yesterday Person" not in table
    assert f'value="{today().isoformat()}"' in response.text  # the form shows the defaults
    assert f'value="{(today() + timedelta(days=14)).isoformat()}"' in response.text


def test_each_row_links_to_its_consult_and_urgent_ones_are_marked_without_details(desk, clinic):
    consult("Calm Person", at(today() + timedelta(days=2)))
    table = rows(desk.get("/staff/consults"))
    assert f'href="/staff/consults/{clinic}"' in table
    jo, calm = table.split("Jo Patient")[1], table.split("Calm Person")[1].split("</tr>")[0]
    assert "Urgent intake" in jo.split("</tr>")[0]
    assert "Urgent intake" not in calm
    assert "Sleeping badly" not in table and "PHQ" not in table


def test_days_are_the_clinics_local_days(desk, clinic):
    day = today() + timedelta(days=5)
    consult("Late Evening Person", at(day, 23, 30))  # already the next day in UTC

    def shown(first: date, last: date) -> bool:
        response = desk.get(f"/staff/consults?from={first}&to={last}")
        return "Late Evening Person" in rows(response)

    assert shown(day, day)
    assert not shown(day + timedelta(days=1), day + timedelta(days=1))
    assert not shown(day - timedelta(days=1), day - timedelta(days=1))


def test_practitioner_filter(desk, clinic):
    start = at(today() + timedelta(days=2))
    consult("Ben's Patient", start, who="ben@clinic.test")
    ben, ada = person("ben@clinic.test").id, person("ada@clinic.test").id

    assert "Ben's Patient" in rows(desk.get("/staff/consults?practitioner=any"))
    only_ben = rows(desk.get(f"/staff/consults?practitioner={ben}"))
    assert "Ben's Patient" in only_ben and "Jo Patient" not in only_ben
    only_ada = rows(desk.get(f"/staff/consults?practitioner={ada}"))
    assert "Jo Patient" in only_ada and "Ben's Patient" not in only_ada


def test_status_filter_and_unfinished_bookings_never_show(desk, clinic):
    day = today() + timedelta(days=2)
    consult("Cancelled Person", at(day, 9), status="cancelled")
    consult("Done Person", at(day, 10), status="completed")
    consult("Missing Person", at(day, 11), status="no_show")
    consult("Held Person", at(day, 12), status="held")
    consult("Expired Person", at(day, 13), status="expired")
    every = rows(desk.get("/staff/consults"))
    for name in ("Cancelled Person", "Done Person", "Missing Person", "Jo Patient"):
        assert name in every
    assert "Held Person" not in every and "Expired Person" not in every

    expected = {
        "cancelled": "Cancelled Person",
        "completed": "Done Person",
        "no_show": "Missing Person",
        "confirmed": "Jo Patient",
    }
    for status, name in expected.items():
        table = rows(desk.get(f"/staff/consults?status={status}"))
        assert [n for n in expected.values() if n in table] == [name], status


def test_search_by_name_or_email_ignores_case(desk, clinic):
    day = today() + timedelta(days=2)
    consult("Maria Gonzalez", at(day, 9), email="mg@example.com")
    consult("Sam Byrne", at(day, 10), email="sam.byrne@Example.org".lower())

    by_name = rows(desk.get("/staff/consults?q=GONZ"))
    assert "Maria Gonzalez" in by_name and "Sam Byrne" not in by_name
    by_email = rows(desk.get("/staff/consults?q=example.ORG"))
    assert "Sam Byrne" in by_email and "Maria Gonzalez" not in by_email
    assert "No consults match" in desk.get("/staff/consults?q=nobody-at-all").text


def test_search_takes_percent_and_underscore_literally(desk, clinic):
    day = today() + timedelta(days=2)
    consult("Promo 50% Person", at(day, 9), email="promo@example.com")
    consult("Five Hundred 500 Person", at(day, 10), email="five@example.com")
    consult("Under Score", at(day, 11), email="a_b@example.com")
    consult("No Score", at(day, 12), email="axb@example.com")

    percent = rows(desk.get("/staff/consults?q=50%25"))
    assert "Promo 50% Person" in percent and "Five Hundred 500 Person" not in percent
    underscore = rows(desk.get("/staff/consults?q=a_b"))
    assert "Under Score" in underscore and "No Score" not in underscore


def test_pages_keep_the_filters_and_follow_the_start_times(desk, clinic, monkeypatch):
    monkeypatch.setattr(consult_list, "PER_PAGE", 3)
    day = today() + timedelta(days=2)
    for hour in (15, 9, 13, 11, 16, 10, 12):  # written out of order
        consult(f"Person {hour:02d}", at(day, hour), who="ben@clinic.test")
    ben = person("ben@clinic.test").id
    url = f"/staff/consults?from={day}&to={day}&practitioner={ben}&status=confirmed&q=Person"

    first = desk.get(url)
    assert re.findall(r"Person (\d\d)", rows(first)) == ["09", "10", "11"]
    assert "Consults 1 to 3 of 7" in first.text
    assert "Previous page" not in first.text
    next_link = unescape(re.search(r'href="([^"]+)">Next page', first.text).group(1))
    for kept in (f"from={day}", f"to={day}", f"practitioner={ben}", "status=confirmed", "q=Person"):
        assert kept in next_link

    second = desk.get(next_link)
    assert re.findall(r"Person (\d\d)", rows(second)) == ["12", "13", "15"]
    assert "Previous page" in second.text
    third = desk.get(url + "&page=3")
    assert re.findall(r"Person (\d\d)", rows(third)) == ["16"]
    assert "Next page" not in third.text


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=yesterday", "Please give the first day as a date"),
        ("to=2026-02-30", "Please give the last day as a date"),
        ("from=2026-03-10&to=2026-03-09", "The last day is before the first day."),
        ("from=2026-01-01&to=2027-01-02", "Please choose at most 366 days at a time."),
        ("from=9999-12-31&to=9999-12-31", "between the years 2000 and 2999"),
        ("from=9999-12-25", "between the years 2000 and 2999"),  # no "to": not 14 days on
        ("q=a%00b", "ordinary punctuation only"),  # PostgreSQL text cannot hold a NUL
        ("practitioner=999", "There is no such practitioner to choose."),
        ("practitioner=ada", "There is no such practitioner to choose."),
        ("status=held", "Please choose one of the statuses listed."),
        ("status=expired", "Please choose one of the statuses listed."),
        ("q=" + "x" * 101, "Please search for at most 100 characters."),
        ("page=0", "The page must be a whole number"),
        ("page=two", "The page must be a whole number"),
        ("page=%C2%B2", "The page must be a whole number"),  # "²" is a digit to str.isdigit
    ],
)
def test_bad_filters_are_refused_with_a_message(desk, clinic, query, message):
    for url in (f"/staff/consults?{query}", f"/staff/consults.csv?{query}"):
        if url.startswith("/staff/consults.csv") and query.startswith("page="):
            continue  # the export has no pages
        response = desk.get(url)
        assert response.status_code == 422, (url, response.status_code)
        assert message in unescape(response.text)
        assert "<tbody>" not in response.text


def test_a_range_of_exactly_366_days_is_allowed(desk, clinic):
    response = desk.get("/staff/consults?from=2028-01-01&to=2028-12-31")
    assert response.status_code == 200


def test_statements_per_page_do_not_grow_with_the_consults(desk, clinic, monkeypatch):
    day = today() + timedelta(days=2)
    url = f"/staff/consults?from={day}&to={day + timedelta(days=1)}"

    def statements() -> int:
        with counting() as seen:
            response = desk.get(url)
        assert response.status_code == 200
        return len(seen)

    consult("First Person", at(day, 9), who="ben@clinic.test")
    few = statements()
    for i in range(25):
        who = "ben@clinic.test" if i % 2 else "ada@clinic.test"
        consult(f"Another Person {i}", at(day, 0) + timedelta(minutes=45 * i), who=who)
    assert "Another Person 24" in rows(desk.get(url))
    assert statements() == few
