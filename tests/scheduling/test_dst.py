"""Working hours on daylight-saving transition days, 2025 and 2026, worked out by hand.

Transitions used (all on a Sunday, local wall clock):
  America/New_York   2025-03-09 / 2026-03-08  02:00 EST (-5) -> 03:00 EDT (-4)
                     2025-11-02 / 2026-11-01  02:00 EDT (-4) -> 01:00 EST (-5)
  Europe/London      2025-03-30 / 2026-03-29  01:00 GMT (+0) -> 02:00 BST (+1)
                     2025-10-26 / 2026-10-25  02:00 BST (+1) -> 01:00 GMT (+0)
  Australia/Sydney   2025-04-06 / 2026-04-05  03:00 AEDT (+11) -> 02:00 AEST (+10)
                     2025-10-05 / 2026-10-04  02:00 AEST (+10) -> 03:00 AEDT (+11)
  Asia/Kolkata       always +05:30
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.scheduling import (
    Availability,
    Interval,
    Rules,
    WeeklyRange,
    free_slots,
    local_day_window,
    slot_at,
    wall_range,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
H = timedelta(hours=1)
M30 = timedelta(minutes=30)
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def slots_on(
    zone: ZoneInfo,
    day: date,
    start: time,
    end: time,
    minutes: int = 30,
    busy: tuple[Interval, ...] = (),
    daily_cap: int | None = None,
) -> list[datetime]:
    """Slot starts of a practitioner working ``start``-``end`` on ``day``'s weekday only."""
    av = Availability(1, zone, (WeeklyRange(day.weekday(), start, end),), busy=busy)
    step = timedelta(minutes=minutes)
    rules = Rules(duration=step, step=step, horizon=timedelta(days=1000), daily_cap=daily_cap)
    # Three UTC days around ``day`` hold the whole local day in every zone used here.
    midnight = datetime.combine(day, time(0), UTC)
    window = Interval(midnight - timedelta(days=1), midnight + timedelta(days=2))
    found = free_slots(av, rules, window, NOW)
    assert all(s.end - s.start == step for s in found)
    return [s.start for s in found]


def wall(instants: list[datetime], zone: ZoneInfo) -> list[tuple[str, timedelta]]:
    return [
        (i.astimezone(zone).strftime("%H:%M"), i.astimezone(zone).utcoffset()) for i in instants
    ]


# Hours 00:00-04:00 on the transition day: (zone, day, first instant in UTC, real hours).
EARLY_HOURS = [
    (NY, date(2025, 3, 9), utc(2025, 3, 9, 5), 3),  # 00:00 EST .. 04:00 EDT = 05:00Z .. 08:00Z
    (NY, date(2025, 11, 2), utc(2025, 11, 2, 4), 5),  # 00:00 EDT .. 04:00 EST = 04:00Z .. 09:00Z
    (NY, date(2026, 3, 8), utc(2026, 3, 8, 5), 3),
    (NY, date(2026, 11, 1), utc(2026, 11, 1, 4), 5),
    (LONDON, date(2025, 3, 30), utc(2025, 3, 30, 0), 3),  # 00:00 GMT .. 04:00 BST = 03:00Z
    (LONDON, date(2025, 10, 26), utc(2025, 10, 25, 23), 5),  # 00:00 BST .. 04:00 GMT
    (LONDON, date(2026, 3, 29), utc(2026, 3, 29, 0), 3),
    (LONDON, date(2026, 10, 25), utc(2026, 10, 24, 23), 5),
    (SYDNEY, date(2025, 4, 6), utc(2025, 4, 5, 13), 5),  # 00:00 AEDT .. 04:00 AEST = 18:00Z
    (SYDNEY, date(2025, 10, 5), utc(2025, 10, 4, 14), 3),  # 00:00 AEST .. 04:00 AEDT = 17:00Z
    (SYDNEY, date(2026, 4, 5), utc(2026, 4, 4, 13), 5),
    (SYDNEY, date(2026, 10, 4), utc(2026, 10, 3, 14), 3),
    (KOLKATA, date(2025, 3, 9), utc(2025, 3, 8, 18, 30), 4),
    (KOLKATA, date(2025, 11, 2), utc(2025, 11, 1, 18, 30), 4),
    (KOLKATA, date(2026, 4, 5), utc(2026, 4, 4, 18, 30), 4),
]


@pytest.mark.parametrize(("zone", "day", "first", "hours"), EARLY_HOURS)
def test_early_hours_last_as_long_as_the_clock_says(zone, day, first, hours):
    starts = slots_on(zone, day, time(0), time(4))
    # Real time is contiguous: 30-minute slots back to back, 3 h on spring-forward days,
    # 5 h on fall-back days, 4 h without a transition.
    assert starts == [first + k * M30 for k in range(hours * 2)]
    assert len(set(starts)) == len(starts)
    assert wall_range(day, time(0), time(4), zone) == [Interval(first, first + hours * H)]


# (zone, transition day, UTC offset in force from 09:00 that day)
OFFICE_HOURS = [
    (NY, date(2025, 3, 9), -4 * H),
    (NY, date(2025, 11, 2), -5 * H),
    (NY, date(2026, 3, 8), -4 * H),
    (NY, date(2026, 11, 1), -5 * H),
    (LONDON, date(2025, 3, 30), 1 * H),
    (LONDON, date(2025, 10, 26), 0 * H),
    (LONDON, date(2026, 3, 29), 1 * H),
    (LONDON, date(2026, 10, 25), 0 * H),
    (SYDNEY, date(2025, 4, 6), 10 * H),
    (SYDNEY, date(2025, 10, 5), 11 * H),
    (SYDNEY, date(2026, 4, 5), 10 * H),
    (SYDNEY, date(2026, 10, 4), 11 * H),
    (KOLKATA, date(2025, 3, 9), timedelta(hours=5, minutes=30)),
    (KOLKATA, date(2025, 10, 26), timedelta(hours=5, minutes=30)),
]
NINE_TO_FIVE = [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]


@pytest.mark.parametrize(("zone", "day", "offset"), OFFICE_HOURS)
def test_office_hours_keep_their_wall_clock_times(zone, day, offset):
    ordinary = day - timedelta(days=7)
    for d, expected_offset in [(day, offset), (ordinary, None)]:
        starts = slots_on(zone, d, time(9), time(17))
        local = [s.astimezone(zone) for s in starts]
        assert [t.strftime("%H:%M") for t in local] == NINE_TO_FIVE
        assert all(t.date() == d for t in local)
        if expected_offset is not None:
            # 09:00 local on the day is 09:00 minus the new offset, in UTC.
            nine = datetime.combine(day, time(9), UTC) - expected_offset
            assert starts == [nine + k * M30 for k in range(16)]


def test_fall_back_repeats_wall_times_but_never_an_instant():
    starts = slots_on(NY, date(2025, 11, 2), time(0), time(4))
    edt, est = -4 * H, -5 * H
    assert wall(starts, NY) == [
        ("00:00", edt),
        ("00:30", edt),
        ("01:00", edt),
        ("01:30", edt),
        ("01:00", est),
        ("01:30", est),
        ("02:00", est),
        ("02:30", est),
        ("03:00", est),
        ("03:30", est),
    ]
    assert len(set(starts)) == len(starts)


def test_spring_forward_never_offers_a_wall_time_in_the_gap():
    starts = slots_on(NY, date(2025, 3, 9), time(0), time(6))
    edt, est = -4 * H, -5 * H
    assert wall(starts, NY) == [
        ("00:00", est),
        ("00:30", est),
        ("01:00", est),
        ("01:30", est),
        ("03:00", edt),
        ("03:30", edt),
        ("04:00", edt),
        ("04:30", edt),
        ("05:00", edt),
        ("05:30", edt),
    ]
    assert len(set(starts)) == len(starts)
    # 02:30 "EST" names the same instant as 03:30 EDT; the gap time itself is never a slot.
    assert not any(s.astimezone(NY).hour == 2 for s in starts)


def test_hours_inside_the_gap_are_never_reached():
    assert wall_range(date(2025, 3, 9), time(2), time(3), NY) == []
    assert slots_on(NY, date(2025, 3, 9), time(2), time(3)) == []
    assert wall_range(date(2025, 10, 5), time(2), time(3), SYDNEY) == []
    assert wall_range(date(2025, 3, 30), time(1), time(2), LONDON) == []
    # 02:30-03:30 keeps only its real half: 03:00-03:30 EDT.
    assert wall_range(date(2025, 3, 9), time(2, 30), time(3, 30), NY) == [
        Interval(utc(2025, 3, 9, 7), utc(2025, 3, 9, 7, 30))
    ]


def test_the_grid_starts_where_the_hours_really_start_after_a_gap():
    # 02:30-05:00 on the spring-forward day really runs 03:00-05:00 EDT (07:00Z-09:00Z);
    # 45-minute slots: 03:00 and 03:45 (a third would end at 05:15).
    assert slots_on(NY, date(2025, 3, 9), time(2, 30), time(5), minutes=45) == [
        utc(2025, 3, 9, 7),
        utc(2025, 3, 9, 7, 45),
    ]


def test_the_grid_counts_real_time_through_a_fall_back():
    # 00:00-04:00 on 2025-11-02 is 04:00Z-09:00Z, 300 minutes: six 45-minute slots.
    starts = slots_on(NY, date(2025, 11, 2), time(0), time(4), minutes=45)
    assert starts == [utc(2025, 11, 2, 4) + k * timedelta(minutes=45) for k in range(6)]
    assert [w for w, _ in wall(starts, NY)] == [
        "00:00",
        "00:45",
        "01:30",
        "01:15",
        "02:00",
        "02:45",
    ]


def test_a_range_repeated_by_the_fall_back_is_one_or_two_pieces():
    # 01:30-03:00 on 2025-11-02: 01:30-02:00 EDT, then (after 01:00-01:30 EST, not wanted)
    # 01:30-03:00 EST.
    assert wall_range(date(2025, 11, 2), time(1, 30), time(3), NY) == [
        Interval(utc(2025, 11, 2, 5, 30), utc(2025, 11, 2, 6)),
        Interval(utc(2025, 11, 2, 6, 30), utc(2025, 11, 2, 8)),
    ]
    # 01:00-02:00 BST then 01:00-02:00 GMT on 2025-10-26: 00:00Z-02:00Z in one piece.
    assert wall_range(date(2025, 10, 26), time(1), time(2), LONDON) == [
        Interval(utc(2025, 10, 26, 0), utc(2025, 10, 26, 2))
    ]
    # 02:00-03:00 AEDT then 02:00-03:00 AEST on 2025-04-06: 15:00Z-17:00Z on the 5th.
    assert wall_range(date(2025, 4, 6), time(2), time(3), SYDNEY) == [
        Interval(utc(2025, 4, 5, 15), utc(2025, 4, 5, 17))
    ]


@pytest.mark.parametrize(
    ("zone", "day", "first", "hours"),
    [
        (NY, date(2025, 3, 9), utc(2025, 3, 9, 5), 23),
        (NY, date(2025, 11, 2), utc(2025, 11, 2, 4), 25),
        (LONDON, date(2025, 3, 30), utc(2025, 3, 30, 0), 23),
        (LONDON, date(2025, 10, 26), utc(2025, 10, 25, 23), 25),
        (SYDNEY, date(2025, 4, 6), utc(2025, 4, 5, 13), 25),
        (SYDNEY, date(2025, 10, 5), utc(2025, 10, 4, 14), 23),
        (KOLKATA, date(2025, 10, 5), utc(2025, 10, 4, 18, 30), 24),
    ],
)
def test_whole_days_and_day_windows_on_transition_days(zone, day, first, hours):
    assert wall_range(day, time(0), time(0), zone) == [Interval(first, first + hours * H)]
    assert local_day_window(day, 1, zone) == Interval(first, first + hours * H)
    # A week of days starting on the transition day: one short or long day, six of 24 h.
    assert local_day_window(day, 7, zone).duration == (hours + 6 * 24) * H
    # Full-day hours, hourly slots: one slot per real hour.
    assert len(slots_on(zone, day, time(0), time(0), minutes=60)) == hours


def test_daily_cap_counts_the_whole_long_local_day():
    # A consult at 23:30 EST on 2025-11-02 is 04:30Z on the 3rd, yet it fills the 2nd (a
    # 25-hour day that began at 04:00Z on the 2nd).
    late = Interval(utc(2025, 11, 3, 4, 30), utc(2025, 11, 3, 5))
    assert slots_on(NY, date(2025, 11, 2), time(9), time(12), busy=(late,), daily_cap=1) == []
    # The same consult half an hour later (00:00 EST on the 3rd) leaves the 2nd open.
    next_day = Interval(utc(2025, 11, 3, 5), utc(2025, 11, 3, 5, 30))
    open_day = slots_on(NY, date(2025, 11, 2), time(9), time(12), busy=(next_day,), daily_cap=1)
    assert len(open_day) == 6


def test_slot_at_on_transition_days_only_accepts_real_grid_starts():
    av = Availability(1, NY, (WeeklyRange(6, time(0), time(4)),))
    rules = Rules(duration=M30, step=M30, horizon=timedelta(days=1000))
    # Second 01:00 of 2025-11-02 (EST, 06:00Z) is a slot; so is the first (EDT, 05:00Z).
    assert slot_at(av, rules, utc(2025, 11, 2, 6), NOW) is not None
    assert slot_at(av, rules, utc(2025, 11, 2, 5), NOW) is not None
    assert slot_at(av, rules, utc(2025, 11, 2, 9), NOW) is None  # 04:00 EST, hours are over
    # On 2025-03-09 the slot after 01:30 EST (06:30Z) is 03:00 EDT (07:00Z).
    assert slot_at(av, rules, utc(2025, 3, 9, 7), NOW) is not None
    assert slot_at(av, rules, utc(2025, 3, 9, 6, 45), NOW) is None  # off the grid
    assert slot_at(av, rules, utc(2025, 3, 9, 8), NOW) is None  # 04:00 EDT, hours are over
