"""``add_office_minutes``: deadlines counted in office hours, against a minute-by-minute oracle.

The oracle never calls the scheduling core: it walks UTC minutes from the start, converts each
to the zone's wall clock with ``astimezone`` and counts it when its weekday is an office day and
its wall time lies in the office hours. That is exact here: starts are whole UTC minutes, office
hours open and close on whole local minutes, and in the zones used every offset is a whole
number of minutes, so office status is constant on each UTC minute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scheduling import add_office_minutes

LONDON = ZoneInfo("Europe/London")
MINUTE = timedelta(minutes=1)
WEEKDAYS = frozenset(range(5))
ZONES = [
    LONDON,
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Sydney"),
    ZoneInfo("Asia/Kathmandu"),  # +05:45, no daylight saving
    ZoneInfo("America/Santiago"),  # changes its clocks at midnight
]
# Sundays on which the zones above change their clocks, to start near them often.
CLOCK_CHANGES = [
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 4, 5),
    date(2026, 10, 4),
    date(2026, 4, 5),
    date(2026, 9, 6),
]


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def office(start, minutes, days=WEEKDAYS, opens=time(9), closes=time(17), zone=LONDON):
    return add_office_minutes(start, minutes, zone, frozenset(days), opens, closes)


# --- examples, worked out by hand -----------------------------------------------------------


def test_friday_afternoon_runs_on_into_monday_morning():
    due = office(london(2026, 12, 4, 16, 30), 120)  # Friday 16:30 GMT
    assert due == london(2026, 12, 7, 10, 30)  # Monday 10:30 GMT
    assert due.tzinfo == UTC


def test_a_deadline_inside_the_day_is_just_the_minutes_later():
    assert office(london(2026, 12, 8, 9, 15), 120) == london(2026, 12, 8, 11, 15)


def test_a_start_outside_hours_counts_from_the_next_opening():
    assert office(london(2026, 12, 8, 6, 0), 30) == london(2026, 12, 8, 9, 30)
    assert office(london(2026, 12, 8, 17, 0), 30) == london(2026, 12, 9, 9, 30)
    assert office(london(2026, 12, 5, 12, 0), 30) == london(2026, 12, 7, 9, 30)  # Saturday


def test_a_deadline_on_closing_time_is_closing_time():
    assert office(london(2026, 12, 4, 16, 30), 30) == london(2026, 12, 4, 17, 0)


def test_zero_minutes_is_the_start_itself_even_outside_hours():
    start = london(2026, 12, 5, 12, 0)
    assert office(start, 0) == start


def test_the_weekend_the_clocks_go_forward_in_london():
    # Friday 27 March 2026 16:30 GMT; the clocks go to BST on Sunday 29 March.
    due = office(london(2026, 3, 27, 16, 30), 120)
    assert due == london(2026, 3, 30, 10, 30)
    assert due == datetime(2026, 3, 30, 9, 30, tzinfo=UTC)


def test_the_weekend_the_clocks_go_back_in_london():
    # Friday 23 October 2026 16:30 BST; the clocks go back to GMT on Sunday 25 October.
    due = office(london(2026, 10, 23, 16, 30), 120)
    assert due == london(2026, 10, 26, 10, 30)
    assert due == datetime(2026, 10, 26, 10, 30, tzinfo=UTC)


def test_office_hours_across_the_change_itself_count_as_the_clocks_say():
    # Open 00:00 to 04:00 every day. On Sunday 29 March 2026 London skips 01:00-02:00, so the
    # wall hours 00:00-04:00 are three real hours (00:00-03:00 UTC).
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # Saturday 23:00 GMT, closed
    due = office(start, 240, days=range(7), opens=time(0), closes=time(4))
    assert due == london(2026, 3, 30, 1, 0)  # Monday 01:00 BST: the fourth hour
    # On Sunday 25 October the wall hour 01:00-02:00 happens twice: five real hours.
    start = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # Sunday 00:00 BST
    due = office(start, 300, days=range(7), opens=time(0), closes=time(4))
    assert due == datetime(2026, 10, 25, 4, 0, tzinfo=UTC)  # Sunday 04:00 GMT


def test_hours_to_midnight():
    due = office(london(2026, 12, 7, 23, 0), 90, opens=time(22), closes=time(0))
    assert due == london(2026, 12, 8, 22, 30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (dict(days=()), "office days"),
        (dict(days={7}), "office days"),
        (dict(opens=time(17), closes=time(9)), "close after they open"),
        (dict(opens=time(9), closes=time(9)), "close after they open"),
        (dict(minutes=-1), "negative"),
        (dict(start=datetime(2026, 12, 7, 9)), "timezone-aware"),
    ],
)
def test_impossible_office_hours_are_refused(args, message):
    values = dict(start=london(2026, 12, 7, 9), minutes=60) | args
    with pytest.raises(ValueError, match=message):
        office(**values)


# --- properties -----------------------------------------------------------------------------


def in_office(moment: datetime, zone: ZoneInfo, days, opens: time, closes: time) -> bool:
    local = moment.astimezone(zone)
    if local.weekday() not in days:
        return False
    return opens <= local.time() and (closes == time(0) or local.time() < closes)


def oracle(start, minutes, zone, days, opens, closes) -> datetime:
    moment, counted = start, 0
    while counted < minutes:
        if in_office(moment, zone, days, opens, closes):
            counted += 1
        moment += MINUTE
    return moment


whole_minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))


@st.composite
def office_hours(draw):
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    opens = draw(whole_minutes)
    to_midnight = draw(st.booleans())
    if to_midnight or opens == time(23, 59):
        return days, opens, time(0)
    closes = draw(whole_minutes.filter(lambda t: t > opens))
    return days, opens, closes


near_clock_changes = st.tuples(
    st.sampled_from(CLOCK_CHANGES), st.integers(-3 * 24 * 60, 2 * 24 * 60)
).map(lambda p: datetime.combine(p[0], time(0), UTC) + p[1] * MINUTE)
any_minute = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
)
starts = st.one_of(near_clock_changes, any_minute)


@settings(max_examples=150, deadline=None)
@given(starts, st.integers(0, 600), st.sampled_from(ZONES), office_hours())
def test_agrees_with_the_minute_by_minute_oracle(start, minutes, zone, hours):
    days, opens, closes = hours
    due = add_office_minutes(start, minutes, zone, days, opens, closes)
    assert due == oracle(start, minutes, zone, days, opens, closes)


@settings(max_examples=150, deadline=None)
@given(
    starts,
    st.integers(0, 2000),
    st.integers(0, 2000),
    st.sampled_from(ZONES),
    office_hours(),
)
def test_two_waits_in_a_row_are_one_wait_of_both(start, first, second, zone, hours):
    days, opens, closes = hours
    step = add_office_minutes(start, first, zone, days, opens, closes)
    assert add_office_minutes(step, second, zone, days, opens, closes) == add_office_minutes(
        start, first + second, zone, days, opens, closes
    )


@settings(max_examples=150, deadline=None)
@given(starts, st.integers(1, 2000), st.sampled_from(ZONES), office_hours())
def test_a_deadline_is_in_office_hours_and_never_sooner_than_the_minutes(
    start, minutes, zone, hours
):
    days, opens, closes = hours
    due = add_office_minutes(start, minutes, zone, days, opens, closes)
    assert due - start >= timedelta(minutes=minutes)
    assert in_office(due - MINUTE, zone, days, opens, closes)  # the last minute counted
