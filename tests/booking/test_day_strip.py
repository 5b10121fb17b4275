"""The patient's booking pages show one day's times at a time, beside a strip of the page's
days that says how many free times each has: shorter on a phone, and a seventh of the buttons
to write. Staff pickers keep the whole week."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.booking import book, hold_from


class Strip(HTMLParser):
    """The day strip's entries (text, link, whether marked as the shown day) and the day
    sections with their time buttons."""

    def __init__(self, html: str):
        super().__init__()
        self.entries: list[dict] = []
        self.starts: list[datetime] = []
        self.sections: list[str] = []
        self._in_strip = False
        self._entry: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("class") == "day-strip":
            self._in_strip = True
        elif self._in_strip and tag == "li":
            self._entry = {"text": [], "href": None, "current": None}
        elif self._entry is not None and tag == "a":
            self._entry["href"] = attrs["href"]
            self._entry["current"] = attrs.get("aria-current")
        elif tag == "button" and attrs.get("name") == "start":
            self.starts.append(datetime.fromisoformat(attrs["value"]))
        elif tag == "section" and attrs.get("class") == "day":
            self.sections.append(attrs["aria-labelledby"])

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_strip = False
        elif tag == "li" and self._entry is not None:
            self._entry["text"] = " ".join("".join(self._entry["text"]).split())
            self.entries.append(self._entry)
            self._entry = None

    def handle_data(self, data):
        if self._entry is not None:
            self._entry["text"].append(data)

    def current(self) -> list[dict]:
        return [e for e in self.entries if e["current"]]


def label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def whole_day_off(practitioner, day: date) -> None:
    start = datetime.combine(day, time(0), UTC)
    factories.time_off(start, start + timedelta(days=1), practitioner.id)


@pytest.fixture
def setup(app):
    """A clinic in UTC; the practitioner works around the clock but not on the page's first
    and third days (``first`` is three days ahead, clear of the notice period)."""
    factories.clinic(timezone="UTC")
    person = factories.practitioner(name="Dr Ada Lane")
    first = datetime.now(UTC).date() + timedelta(days=3)
    whole_day_off(person, first)
    whole_day_off(person, first + timedelta(days=2))
    return person, first


def test_the_page_shows_the_first_day_with_free_times_and_a_strip_of_the_week(client, setup):
    person, first = setup
    html = client.get(f"/book?tz=UTC&day={first}").text
    page = Strip(html)

    days = [first + timedelta(days=i) for i in range(7)]
    assert [e["text"].split(" ")[:3] for e in page.entries] == [label(d).split(" ") for d in days]
    shown = first + timedelta(days=1)
    assert page.current() == [e for e in page.entries if e["text"].startswith(label(shown))]
    # A day's link leads to its heading, below the page's zone note: the zone is said there.
    heading = f'<h2 id="day-{shown}">{label(shown)}</h2>'
    assert f'{heading}\n    <p class="hint">Times in UTC (UTC)</p>' in html
    assert page.sections == [f"day-{shown.isoformat()}"]
    assert page.starts and {s.date() for s in page.starts} == {shown}
    # The days without free times say so, and are not links to an empty page.
    for off in (first, first + timedelta(days=2)):
        (entry,) = [e for e in page.entries if e["text"].startswith(label(off))]
        assert entry["text"] == f"{label(off)} No free times"
        assert entry["href"] is None


def test_each_day_in_the_strip_counts_the_times_its_own_page_offers(client, setup):
    """The strip's counts are the buttons each day's page shows, which are the API's times."""
    person, first = setup
    strip = Strip(client.get(f"/book?tz=UTC&day={first}").text)
    linked = [e for e in strip.entries if e["href"]]
    assert len(linked) == 5

    for entry in linked:
        day_page = Strip(client.get(entry["href"]).text)
        (day,) = {s.date() for s in day_page.starts}
        assert entry["text"] == f"{label(day)} {len(day_page.starts)} free times"
        assert [e["text"] for e in day_page.current()] == [entry["text"]]
        assert [e["text"] for e in day_page.entries] == [e["text"] for e in strip.entries]
        api = client.get(f"/api/v1/slots?timezone=UTC&from={day}&to={day}").get_json()
        assert sorted(day_page.starts) == [
            datetime.fromisoformat(s["start_utc"]) for s in api["slots"]
        ]


def test_the_strip_keeps_the_practitioner_zone_and_week_and_the_filters_keep_the_day(client, setup):
    person, first = setup
    chosen = first + timedelta(days=4)
    response = client.get(f"/book?tz=Asia/Tokyo&practitioner={person.id}&day={first}&on={chosen}")
    page = Strip(response.text)

    for entry in (e for e in page.entries if e["href"]):
        asked = parse_qs(urlsplit(entry["href"]).query)
        assert asked["tz"] == ["Asia/Tokyo"]
        assert asked["practitioner"] == [str(person.id)]
        assert asked["day"] == [first.isoformat()]
    assert f'<input type="hidden" name="on" value="{chosen}">' in response.text
    assert f'<input type="hidden" name="day" value="{first}">' in response.text
    assert page.current()[0]["text"].startswith(label(chosen))


def test_a_day_outside_the_page_or_not_a_date_falls_back_to_the_first_with_times(client, setup):
    person, first = setup
    outside = Strip(client.get(f"/book?tz=UTC&day={first}&on={first + timedelta(days=9)}").text)
    assert outside.sections == [f"day-{first + timedelta(days=1)}"]

    response = client.get(f"/book?tz=UTC&day={first}&on=tomorrow")
    assert response.status_code == 200
    assert "Use a date like 2026-12-03" in response.text
    assert Strip(response.text).sections == [f"day-{first + timedelta(days=1)}"]


def test_a_week_without_free_times_says_so_and_offers_later_days(client, setup):
    person, first = setup
    for i in (1, 3, 4, 5, 6):
        whole_day_off(person, first + timedelta(days=i))

    response = client.get(f"/book?tz=UTC&day={first}")
    page = Strip(response.text)

    assert page.starts == []
    assert page.sections == [f"day-{first}"]
    assert "No free times this day." in response.text
    assert Counter(e["text"].endswith("No free times") for e in page.entries) == {True: 7}
    assert f"day={first + timedelta(days=7)}" in response.text  # the "Later days" link


def test_the_patients_reschedule_page_shows_one_day_beside_the_strip(client, setup):
    person, first = setup
    start = datetime.combine(first + timedelta(days=1), time(10), UTC)
    _, token = book(person, start)

    page = Strip(client.get(f"/manage/{token}/reschedule?tz=UTC&day={first}").text)

    assert len(page.entries) == 7
    assert page.sections == [f"day-{first + timedelta(days=1)}"]
    assert start not in page.starts
    assert start + timedelta(minutes=30) in page.starts


def test_each_day_link_leads_to_its_heading(client, setup):
    """A keyboard or screen-reader user lands on the chosen day's times, not the page top."""
    person, first = setup
    strip = Strip(client.get(f"/book?tz=UTC&day={first}").text)
    for entry in (e for e in strip.entries if e["href"]):
        day = parse_qs(urlsplit(entry["href"]).query)["on"][0]
        assert urlsplit(entry["href"]).fragment == f"day-{day}"
        assert f'<h2 id="day-{day}">' in client.get(entry["href"]).text


def test_a_time_just_taken_shows_the_same_day_again_with_the_nearest_times(client, setup):
    person, first = setup
    chosen = first + timedelta(days=4)
    page = client.get(f"/book?tz=UTC&day={first}&on={chosen}")
    start = min(Strip(page.text).starts)
    # The picker's form carries the week and the day, as the filters' form does.
    assert page.text.count(f'<input type="hidden" name="on" value="{chosen}">') == 2
    other = client.application.test_client()
    other_page = other.get(f"/book?tz=UTC&day={first}&on={chosen}")
    assert hold_from(other, other_page.text, start, tz="UTC").status_code == 303

    taken = client.post(
        "/book/hold",
        data={
            "csrf_token": csrf_token(page.text),
            "practitioner": "any",
            "tz": "UTC",
            "day": first.isoformat(),
            "on": chosen.isoformat(),
            "start": start.isoformat(),
        },
    )

    assert taken.status_code == 409
    assert "That time was just taken" in taken.text
    assert Strip(taken.text).sections == [f"day-{chosen}"]
