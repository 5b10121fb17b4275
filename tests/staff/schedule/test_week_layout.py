"""The week grid's arithmetic, without an app: days, rows, lanes, daylight saving, midnight."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinic.scheduling import WeeklyRange
from clinic.staff.schedule.week_layout import ROW_MINUTES, hours_in_week, layout_week, monday_of

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Consult:
    starts_at: datetime
    ends_at: datetime
    name: str = ""


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK, length: int = 20):
    start = datetime.combine(day, time(hour, minute), zone).astimezone(UTC)
    return Consult(start, start + timedelta(minutes=length))


def row_of(hour: int, minute: int, week) -> int:
    return (hour * 60 + minute - week.first_minute) // ROW_MINUTES + 1


def placed(week):
    return {b.item: (c.day, b) for c in week.columns for b in c.blocks}


def test_the_week_runs_monday_to_sunday_around_any_day():
    assert monday_of(date(2026, 3, 4)) == date(2026, 3, 2)  # a Wednesday
    assert monday_of(date(2026, 3, 8)) == date(2026, 3, 2)  # a Sunday
    week = layout_week([], NEW_YORK, date(2026, 3, 8))
    assert week.days == tuple(date(2026, 3, d) for d in range(2, 9))
    assert (week.previous, week.following) == (date(2026, 2, 23), date(2026, 3, 9))


def test_an_empty_week_shows_8_am_to_6_pm_on_five_minute_rows():
    week = layout_week([], NEW_YORK, date(2026, 6, 10))
    assert (week.first_minute, week.last_minute) == (8 * 60, 18 * 60)
    assert week.rows == 120
    assert [h.label for h in week.hours][:2] == ["8:00 AM", "9:00 AM"]
    assert week.hours[-1].label == "5:00 PM" and week.hours[-1].row == 109
    assert all(c.blocks == () for c in week.columns)
    assert week.clock_changes == ()


def test_consults_outside_the_week_are_left_out():
    inside = local(date(2026, 6, 14), 23, 30)  # Sunday night, local
    before = local(date(2026, 6, 7), 23, 30)
    after = local(date(2026, 6, 15), 0, 0)  # the next Monday's first minute
    week = layout_week([after, inside, before], NEW_YORK, date(2026, 6, 10))
    assert set(placed(week)) == {inside}
    assert placed(week)[inside][0] == date(2026, 6, 14)


def test_a_block_spans_the_rows_of_its_local_start_and_length():
    c = local(date(2026, 6, 10), 9, 0, length=20)
    odd = local(date(2026, 6, 10), 10, 7, length=20)  # rounds out to 10:05-10:30
    week = layout_week([c, odd], NEW_YORK, date(2026, 6, 10))
    _, block = placed(week)[c]
    assert (block.row_start, block.row_end) == (row_of(9, 0, week), row_of(9, 20, week))
    assert block.grid_area == "grid-row: 13 / 17; grid-column: 1 / -1"
    assert block.start.hour == 9 and block.start.tzinfo == NEW_YORK
    _, block = placed(week)[odd]
    assert (block.row_start, block.row_end) == (row_of(10, 5, week), row_of(10, 30, week))


def test_nine_am_is_the_nine_am_row_on_both_sides_of_spring_forward():
    # 2026-03-08 (Sunday): New York moves from EST (UTC-5) to EDT (UTC-4) at 2:00 AM.
    before = local(date(2026, 3, 2), 9)
    after = local(date(2026, 3, 8), 9)
    assert before.starts_at.hour == 14 and after.starts_at.hour == 13  # different in UTC
    week = layout_week([before, after], NEW_YORK, date(2026, 3, 5))
    blocks = placed(week)
    assert blocks[before][0] == date(2026, 3, 2) and blocks[after][0] == date(2026, 3, 8)
    assert blocks[before][1].row_start == blocks[after][1].row_start == row_of(9, 0, week)
    assert [c.day for c in week.clock_changes] == [date(2026, 3, 8)]
    assert week.clock_changes[0].after.astimezone(NEW_YORK).tzname() == "EDT"
    assert week.window.duration == timedelta(days=7) - timedelta(hours=1)


def test_nine_am_is_the_nine_am_row_on_both_sides_of_fall_back():
    # 2026-11-01 (Sunday): back from EDT to EST; the week is an hour longer.
    before = local(date(2026, 10, 26), 9)
    after = local(date(2026, 11, 1), 9)
    week = layout_week([before, after], NEW_YORK, date(2026, 11, 1))
    blocks = placed(week)
    assert blocks[before][1].row_start == blocks[after][1].row_start == row_of(9, 0, week)
    assert [c.day for c in week.clock_changes] == [date(2026, 11, 1)]
    assert week.clock_changes[0].after.astimezone(NEW_YORK).tzname() == "EST"
    assert week.window.duration == timedelta(days=7, hours=1)


def test_the_repeated_hour_of_fall_back_still_gives_a_block_a_row():
    # 1:50 EDT to 1:10 EST is twenty real minutes but reads backwards on the clock.
    start = datetime(2026, 11, 1, 5, 50, tzinfo=UTC)
    c = Consult(start, start + timedelta(minutes=20))
    week = layout_week([c], NEW_YORK, date(2026, 11, 1))
    _, block = placed(week)[c]
    assert week.first_minute == 60
    assert block.row_start == row_of(1, 50, week) and block.row_end > block.row_start


def test_a_consult_crossing_midnight_runs_to_the_bottom_of_its_first_day():
    late = local(date(2026, 6, 9), 23, 50, length=20)  # Tuesday 11:50 PM to 12:10 AM
    week = layout_week([late], NEW_YORK, date(2026, 6, 10))
    day, block = placed(week)[late]
    assert day == date(2026, 6, 9)
    assert week.last_minute == 24 * 60 and week.hours[-1].label == "11:00 PM"
    assert block.row_start == row_of(23, 50, week) and block.row_end == week.rows + 1
    assert block.ends_next_day and block.end.date() == date(2026, 6, 10)
    assert [c.blocks for c in week.columns if c.day == date(2026, 6, 10)] == [()]


def test_a_consult_ending_at_midnight_does_not_count_as_the_next_day():
    c = local(date(2026, 6, 9), 23, 40, length=20)
    week = layout_week([c], NEW_YORK, date(2026, 6, 10))
    _, block = placed(week)[c]
    assert not block.ends_next_day and block.row_end == week.rows + 1


def test_early_and_late_consults_widen_the_hours_to_whole_hours():
    early = local(date(2026, 6, 8), 6, 30)
    late = local(date(2026, 6, 12), 19, 45)
    week = layout_week([early, late], NEW_YORK, date(2026, 6, 10))
    assert (week.first_minute, week.last_minute) == (6 * 60, 21 * 60)
    assert week.hours[0].label == "6:00 AM" and week.hours[0].row == 1


def test_overlapping_consults_sit_side_by_side_and_others_keep_the_full_width():
    day = date(2026, 6, 10)
    a, b = local(day, 9, 0), local(day, 9, 10)  # two practitioners at once
    c = local(day, 9, 20)  # overlaps b only, so it can reuse a's lane
    alone = local(day, 11, 0)
    week = layout_week([a, b, c, alone], NEW_YORK, day)
    blocks = {k: v[1] for k, v in placed(week).items()}
    assert [(blocks[k].lane, blocks[k].lanes) for k in (a, b, c)] == [(0, 2), (1, 2), (0, 2)]
    assert blocks[a].grid_area.endswith("grid-column: 1 / 2")
    assert blocks[b].grid_area.endswith("grid-column: 2 / -1")
    assert (blocks[alone].lane, blocks[alone].lanes) == (0, 1)
    assert [c.lanes for c in week.columns if c.day == day] == [2]


def test_working_hours_in_another_zone_widen_the_hours_in_the_clinics_zone():
    # London 8:00-16:00 is 3:00-11:00 AM in New York in June.
    weekly = [(LONDON, WeeklyRange(d, time(8), time(16))) for d in range(5)]
    hours = hours_in_week(weekly, date(2026, 6, 10), NEW_YORK)
    assert len(hours) == 5
    week = layout_week([], NEW_YORK, date(2026, 6, 10), hours)
    assert (week.first_minute, week.last_minute) == (3 * 60, 18 * 60)


def test_working_hours_running_past_midnight_show_the_whole_day():
    tokyo = ZoneInfo("Asia/Tokyo")  # 9:00-17:00 in Tokyo is 8:00 PM to 4:00 AM in New York
    hours = hours_in_week([(tokyo, WeeklyRange(2, time(9), time(17)))], date(2026, 6, 10), NEW_YORK)
    week = layout_week([], NEW_YORK, date(2026, 6, 10), hours)
    assert (week.first_minute, week.last_minute) == (0, 24 * 60)
    assert week.rows == 24 * 60 // ROW_MINUTES


def test_working_hours_are_clipped_to_the_week():
    # Sunday 10 PM to midnight in Los Angeles is Monday 1:00 to 3:00 AM in New York: the
    # Sunday before this week lands on its Monday, this week's Sunday on the next week.
    la = ZoneInfo("America/Los_Angeles")
    hours = hours_in_week([(la, WeeklyRange(6, time(22), time(0)))], date(2026, 6, 10), NEW_YORK)
    assert [h.start.astimezone(NEW_YORK) for h in hours] == [
        datetime(2026, 6, 8, 1, tzinfo=NEW_YORK)
    ]
    week = layout_week([], NEW_YORK, date(2026, 6, 10), hours)
    assert (week.first_minute, week.last_minute) == (1 * 60, 18 * 60)
