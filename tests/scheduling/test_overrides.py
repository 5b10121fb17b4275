"""One-day overrides of the weekly hours, on hand-worked examples (the properties live in
test_slots_properties.py).

2025-06-16 is a Monday. New York changes offset on Sunday 2025-03-09 (02:00 EST -> 03:00 EDT)
and on Sunday 2025-11-02 (02:00 EDT -> 01:00 EST).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.scheduling import (
    Availability,
    DayOverride,
    Interval,
    Rules,
    TimeRange,
    WeeklyRange,
    free_slots,
    instant_at,
    local_day_window,
    slot_at,
    working_intervals,
)

NY = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
UTC_ZONE = ZoneInfo("UTC")
M30 = timedelta(minutes=30)
RULES = Rules(duration=M30, step=M30, horizon=timedelta(days=1000))
NOW = datetime(2025, 1, 1, tzinfo=UTC)
MONDAY = date(2025, 6, 16)
WEEKDAYS_9_TO_5 = tuple(WeeklyRange(d, time(9), time(17)) for d in range(5))


def local_starts(av: Availability, first: date, days: int = 1, rules: Rules = RULES) -> list[str]:
    """Slot starts over ``days`` local days from ``first``, as 'MM-DD HH:MM' wall times."""
    window = local_day_window(first, days, av.zone)
    return [
        f"{s.start.astimezone(av.zone):%m-%d %H:%M}" for s in free_slots(av, rules, window, NOW)
    ]


def test_an_override_replaces_that_days_weekly_hours_only():
    av = Availability(
        1,
        NY,
        WEEKDAYS_9_TO_5,
        overrides=(DayOverride(MONDAY, (TimeRange(time(13), time(14, 30)),)),),
    )
    assert local_starts(av, MONDAY) == ["06-16 13:00", "06-16 13:30", "06-16 14:00"]
    next_monday = local_starts(av, MONDAY + timedelta(days=7))
    assert next_monday[0] == "06-23 09:00" and next_monday[-1] == "06-23 16:30"
    assert len(next_monday) == 16


def test_an_override_with_no_ranges_means_not_working_that_day():
    av = Availability(1, NY, WEEKDAYS_9_TO_5, overrides=(DayOverride(MONDAY),))
    starts = local_starts(av, MONDAY - timedelta(days=1), days=3)
    assert starts[0] == "06-17 09:00"
    assert not any(s.startswith("06-16") for s in starts)


def test_an_override_adds_hours_on_a_day_off_with_several_ranges():
    saturday = MONDAY + timedelta(days=5)
    ranges = (TimeRange(time(9), time(10)), TimeRange(time(15), time(16)))
    av = Availability(1, NY, WEEKDAYS_9_TO_5, overrides=(DayOverride(saturday, ranges),))
    assert local_starts(av, saturday) == [
        "06-21 09:00",
        "06-21 09:30",
        "06-21 15:00",
        "06-21 15:30",
    ]


def test_overrides_of_one_day_add_up_and_overlapping_ranges_merge():
    av = Availability(
        1,
        UTC_ZONE,
        (),
        overrides=(
            DayOverride(MONDAY, (TimeRange(time(9), time(10)),)),
            DayOverride(MONDAY, (TimeRange(time(9, 30), time(10, 30)),)),
        ),
    )
    window = local_day_window(MONDAY, 1, UTC_ZONE)
    assert working_intervals(av, window) == [
        Interval(datetime(2025, 6, 16, 9, tzinfo=UTC), datetime(2025, 6, 16, 10, 30, tzinfo=UTC))
    ]


def test_the_overridden_day_is_a_date_in_the_practitioners_zone():
    """Kolkata is UTC+05:30: its Monday runs from Sunday 18:30Z to Monday 18:30Z."""
    av = Availability(
        1, KOLKATA, (), overrides=(DayOverride(MONDAY, (TimeRange(time(0), time(1)),)),)
    )
    found = free_slots(av, RULES, Interval(NOW, NOW + timedelta(days=400)), NOW)
    assert [s.start for s in found] == [
        datetime(2025, 6, 15, 18, 30, tzinfo=UTC),
        datetime(2025, 6, 15, 19, tzinfo=UTC),
    ]


def test_an_override_running_to_midnight_joins_the_next_days_hours_in_one_grid():
    """Monday override 23:00 to midnight, Tuesday 00:00-01:00 weekly: one stretch from
    Monday 23:00, so a 45-minute grid gives 23:00, 23:45, 00:30 (the last ends at 01:15: no)."""
    av = Availability(
        1,
        UTC_ZONE,
        (WeeklyRange(1, time(0), time(1)),),
        overrides=(DayOverride(MONDAY, (TimeRange(time(23), time(0)),)),),
    )
    rules = Rules(duration=M30, step=timedelta(minutes=45), horizon=timedelta(days=1000))
    assert local_starts(av, MONDAY, days=2, rules=rules) == [
        "06-16 23:00",
        "06-16 23:45",
        "06-17 00:30",
    ]
    # Asked for Tuesday alone, the grid still counts from Monday 23:00.
    assert local_starts(av, MONDAY + timedelta(days=1), rules=rules) == ["06-17 00:30"]


def test_overrides_bridging_the_weekly_gap_for_weeks_keep_the_grid_of_the_true_start():
    """Every hour of the week but Sunday 00:00-00:15; three Sunday overrides fill that gap, so
    one stretch runs from Sunday 2025-06-01 00:15 to Sunday 2025-06-29 00:00 (four weeks).
    The 45-minute grid counts from that start: 00:15, 01:00, ... on every day of it, even when
    the window opens more than 15 days after the start."""
    hours = (WeeklyRange(6, time(0, 15), time(0)),) + tuple(
        WeeklyRange(d, time(0), time(0)) for d in range(6)
    )
    sundays = [date(2025, 6, 8), date(2025, 6, 15), date(2025, 6, 22)]
    whole_day = (TimeRange(time(0), time(0)),)
    av = Availability(
        1, UTC_ZONE, hours, overrides=tuple(DayOverride(d, whole_day) for d in sundays)
    )
    rules = Rules(duration=M30, step=timedelta(minutes=45), horizon=timedelta(days=1000))
    thursday = date(2025, 6, 26)  # 25 days after the stretch began
    starts = local_starts(av, thursday, rules=rules)
    assert starts[:3] == ["06-26 00:15", "06-26 01:00", "06-26 01:45"]
    on_grid = datetime(2025, 6, 26, 0, 15, tzinfo=UTC)
    assert slot_at(av, rules, on_grid, NOW) is not None
    assert slot_at(av, rules, datetime(2025, 6, 26, tzinfo=UTC), NOW) is None


# --------------------------------------------------------------------------- daylight saving


def test_an_override_on_a_spring_forward_day_is_an_hour_shorter():
    """Sunday 2025-03-09, 00:00-04:00 in New York: 05:00Z to 08:00Z, three real hours."""
    sunday = date(2025, 3, 9)
    av = Availability(
        1, NY, WEEKDAYS_9_TO_5, overrides=(DayOverride(sunday, (TimeRange(time(0), time(4)),)),)
    )
    found = free_slots(av, RULES, local_day_window(sunday, 1, NY), NOW)
    assert [s.start.astimezone(NY).strftime("%H:%M") for s in found] == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "03:00",
        "03:30",
    ]
    assert found[0].start == datetime(2025, 3, 9, 5, tzinfo=UTC)
    assert found[-1].end == datetime(2025, 3, 9, 8, tzinfo=UTC)


def test_an_override_on_a_fall_back_day_covers_the_repeated_hour_twice():
    """Sunday 2025-11-02, 01:00-02:00 in New York: 01:00 EDT (05:00Z) to 02:00 EST (07:00Z)."""
    sunday = date(2025, 11, 2)
    av = Availability(1, NY, (), overrides=(DayOverride(sunday, (TimeRange(time(1), time(2)),)),))
    found = free_slots(av, RULES, local_day_window(sunday, 1, NY), NOW)
    assert [s.start for s in found] == [
        datetime(2025, 11, 2, 5, tzinfo=UTC),
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC),
        datetime(2025, 11, 2, 6, tzinfo=UTC),
        datetime(2025, 11, 2, 6, 30, tzinfo=UTC),
    ]
    assert [s.start.astimezone(NY).strftime("%H:%M %Z") for s in found] == [
        "01:00 EDT",
        "01:30 EDT",
        "01:00 EST",
        "01:30 EST",
    ]


def test_a_not_working_override_on_a_dst_day_removes_exactly_that_local_day():
    """Weekly Sunday 22:00 to midnight and Monday 00:00-02:00 (New York). With Sunday
    2025-03-09 (the spring-forward day) off, only Monday's hours remain, from its midnight
    (00:00 EDT = 04:00Z); the Sunday before and after keep theirs."""
    sunday = date(2025, 3, 9)
    av = Availability(
        1,
        NY,
        (WeeklyRange(6, time(22), time(0)), WeeklyRange(0, time(0), time(2))),
        overrides=(DayOverride(sunday),),
    )
    found = free_slots(av, RULES, local_day_window(sunday, 2, NY), NOW)
    assert [s.start for s in found] == [
        datetime(2025, 3, 10, 4, tzinfo=UTC),
        datetime(2025, 3, 10, 4, 30, tzinfo=UTC),
        datetime(2025, 3, 10, 5, tzinfo=UTC),
        datetime(2025, 3, 10, 5, 30, tzinfo=UTC),
    ]
    week_before = local_starts(av, sunday - timedelta(days=7))
    assert week_before == ["03-02 22:00", "03-02 22:30", "03-02 23:00", "03-02 23:30"]


# --------------------------------------------------------------------------- values


def test_a_range_must_end_after_it_starts_unless_it_ends_at_midnight():
    with pytest.raises(ValueError):
        TimeRange(time(10), time(9))
    with pytest.raises(ValueError):
        TimeRange(time(10), time(10))
    assert TimeRange(time(0), time(0)).end == time(0)  # the whole day


def test_instant_at_moves_a_skipped_wall_time_to_the_end_of_the_gap():
    assert instant_at(date(2025, 3, 9), time(2, 30), NY) == datetime(2025, 3, 9, 7, tzinfo=UTC)
    assert instant_at(date(2025, 3, 9), time(9), NY) == datetime(2025, 3, 9, 13, tzinfo=UTC)


def test_instant_at_takes_the_first_of_a_repeated_wall_time():
    assert instant_at(date(2025, 11, 2), time(1, 30), NY) == datetime(
        2025, 11, 2, 5, 30, tzinfo=UTC
    )
