"""Busy times read from feeds in the shapes Google, Outlook and iCloud publish (tests/
own_calendars/feeds/), exactly, across each one's change of clocks; and every way a feed can
be wrong, refused with a plain reason."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from clinic.own_calendars.busy_times import MAX_EVENTS, FeedError, read_busy

FEEDS = Path(__file__).parent / "feeds"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def spans(feed: str, zone: str, start: str, end: str) -> list[tuple[datetime, datetime]]:
    reading = read_busy((FEEDS / feed).read_bytes(), utc(start), utc(end), ZoneInfo(zone))
    assert reading.unknown_zones == set()
    return [(b.starts_at, b.ends_at) for b in reading.busy]


def test_a_google_feed_across_londons_change_to_summer_time():
    """London moves to BST on 29 March 2026: the 08:30 school run is 08:30 UTC before and
    07:30 UTC after. One run is skipped (EXDATE), one starts late (RECURRENCE-ID)."""
    assert spans("google.ics", "Asia/Tokyo", "2026-03-16T00:00", "2026-04-10T00:00") == [
        (utc("2026-03-16T08:30"), utc("2026-03-16T09:15")),
        (utc("2026-03-20T14:00"), utc("2026-03-20T15:00")),  # written in UTC
        (utc("2026-03-23T08:30"), utc("2026-03-23T09:15")),
        # All day on the 25th in the practitioner's zone (Tokyo, UTC+9)...
        (utc("2026-03-24T15:00"), utc("2026-03-25T15:00")),
        (utc("2026-03-25T08:30"), utc("2026-03-25T09:15")),
        # ...and a floating time in the feed's own zone (X-WR-TIMEZONE), not Tokyo's.
        (utc("2026-03-27T12:00"), utc("2026-03-27T13:00")),
        (utc("2026-03-30T08:00"), utc("2026-03-30T08:45")),  # the late start, in BST
        (utc("2026-04-01T07:30"), utc("2026-04-01T08:15")),
        (utc("2026-04-06T07:30"), utc("2026-04-06T08:15")),
        (utc("2026-04-08T07:30"), utc("2026-04-08T08:15")),
    ]  # the free reminder (TRANSP:TRANSPARENT) and the cancelled meeting are not busy


def test_an_outlook_feed_with_windows_zone_names_across_the_us_change():
    """Pacific time moves to PDT on 8 March 2026; "W. Europe Standard Time" has no
    VTIMEZONE in the feed at all (Outlook leaves it out) and is Berlin's."""
    assert spans("outlook.ics", "Europe/London", "2026-03-01T00:00", "2026-04-01T00:00") == [
        (utc("2026-03-06T17:00"), utc("2026-03-06T18:00")),  # 09:00 PST
        (utc("2026-03-13T16:00"), utc("2026-03-13T17:00")),  # 09:00 PDT
        (utc("2026-03-20T16:00"), utc("2026-03-20T17:00")),
        (utc("2026-03-27T09:00"), utc("2026-03-27T10:00")),  # 10:00 CET
    ]  # the event marked Free is not busy


def test_an_icloud_feed_across_new_yorks_change():
    assert spans("icloud.ics", "America/New_York", "2026-03-01T00:00", "2026-04-01T00:00") == [
        (utc("2026-03-05T22:00"), utc("2026-03-05T23:00")),  # 17:00 EST
        (utc("2026-03-06T22:00"), utc("2026-03-06T23:00")),
        (utc("2026-03-07T22:00"), utc("2026-03-07T23:00")),
        (utc("2026-03-08T21:00"), utc("2026-03-08T22:00")),  # 17:00 EDT
        (utc("2026-03-09T21:00"), utc("2026-03-09T22:00")),
        (utc("2026-03-10T16:00"), utc("2026-03-10T17:00")),  # floating: the practitioner's zone
    ]


def test_only_what_overlaps_the_window_is_kept():
    got = spans("icloud.ics", "America/New_York", "2026-03-06T22:30", "2026-03-08T21:00")
    assert got == [
        (utc("2026-03-06T22:00"), utc("2026-03-06T23:00")),
        (utc("2026-03-07T22:00"), utc("2026-03-07T23:00")),
    ]


def test_nothing_but_times_and_an_opaque_key_is_kept():
    feed = (FEEDS / "google.ics").read_bytes()
    reading = read_busy(feed, utc("2026-03-16T00:00"), utc("2026-04-10T00:00"), ZoneInfo("UTC"))
    for busy in reading.busy:
        assert set(vars(busy)) == {"starts_at", "ends_at", "key"}
        assert len(busy.key) == 32 and "google" not in busy.key
    keys = [b.key for b in reading.busy]
    assert len(set(keys)) == len(keys)  # one per occurrence
    again = read_busy(feed, utc("2026-03-16T00:00"), utc("2026-04-10T00:00"), ZoneInfo("UTC"))
    assert [b.key for b in again.busy] == keys  # stable from one read to the next


def _calendar(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n".encode()
    )


def _event(uid: str, start: str, end: str, extra: str = "") -> str:
    return f"UID:{uid}\r\nDTSTAMP:20260301T000000Z\r\nDTSTART{start}\r\nDTEND{end}\r\n{extra}"


WINDOW = (utc("2026-03-01T00:00"), utc("2026-04-01T00:00"))


def test_the_products_own_consults_are_not_counted_as_busy():
    feed = _calendar(
        _event("consult-abc@clinic.example", ":20260310T100000Z", ":20260310T102000Z"),
        _event("mine@elsewhere.example", ":20260310T110000Z", ":20260310T120000Z"),
    )
    reading = read_busy(feed, *WINDOW, ZoneInfo("UTC"), own_uid_suffix="@clinic.example")
    assert [b.starts_at for b in reading.busy] == [utc("2026-03-10T11:00")]


def test_an_unknown_zone_is_read_in_the_practitioners_and_reported():
    feed = _calendar(
        _event("x", ";TZID=Mars/Olympus:20260310T100000", ";TZID=Mars/Olympus:20260310T110000")
    )
    reading = read_busy(feed, *WINDOW, ZoneInfo("Europe/Paris"))
    assert reading.unknown_zones == {"Mars/Olympus"}
    assert [(b.starts_at, b.ends_at) for b in reading.busy] == [
        (utc("2026-03-10T09:00"), utc("2026-03-10T10:00"))
    ]


def test_broken_events_are_left_out_and_the_rest_kept():
    feed = _calendar(
        "UID:no-start\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:no DTSTART",
        _event("bad-rule", ":20260310T100000Z", ":20260310T110000Z", "RRULE:FREQ=SOMETIMES"),
        _event("good", ":20260311T100000Z", ":20260311T110000Z"),
    )
    reading = read_busy(feed, *WINDOW, ZoneInfo("UTC"))
    assert [b.starts_at for b in reading.busy] == [utc("2026-03-11T10:00")]


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"<!doctype html><html><body>Sign in to see this calendar</body></html>",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:cut off",
        b"\x00\xff\xfe garbage",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Not a calendar\r\nEND:VCARD\r\n",
    ],
)
def test_what_is_not_a_calendar_is_refused_with_a_plain_reason(text):
    with pytest.raises(FeedError, match="not a calendar"):
        read_busy(text, *WINDOW, ZoneInfo("UTC"))


def test_a_calendar_with_too_many_events_is_refused():
    start = utc("2026-03-01T00:00")
    events = [
        _event(
            f"e{i}",
            f":{(start + timedelta(minutes=i)):%Y%m%dT%H%M%SZ}",
            f":{(start + timedelta(minutes=i + 1)):%Y%m%dT%H%M%SZ}",
        )
        for i in range(MAX_EVENTS + 1)
    ]
    with pytest.raises(FeedError, match="more than 20,000 events"):
        read_busy(_calendar(*events), *WINDOW, ZoneInfo("UTC"))


def test_a_series_with_too_many_occurrences_in_the_window_is_refused():
    every_minute = _event("busy", ":20260301T000000Z", ":20260301T000100Z", "RRULE:FREQ=MINUTELY")
    with pytest.raises(FeedError, match="more than 5,000 events in the window"):
        read_busy(_calendar(every_minute), *WINDOW, ZoneInfo("UTC"))


def test_a_series_repeating_every_second_is_refused_without_expanding_it_all():
    every_second = _event("busy", ":20260301T000000Z", ":20260301T000001Z", "RRULE:FREQ=SECONDLY")
    started = time.monotonic()
    with pytest.raises(FeedError, match="more than 5,000 events in the window"):
        read_busy(_calendar(every_second), *WINDOW, ZoneInfo("UTC"))
    assert time.monotonic() - started < 30  # the whole month would be 2.7 million
