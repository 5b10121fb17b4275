"""``first_available``, ``slot_at`` and ``nearest`` on hand-worked examples, plus ``nearest``
against a brute-force ranking.

2025-06-16 is a Monday; London is on BST (+1) and Kolkata on IST (+5:30) that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scheduling import (
    Availability,
    Interval,
    OpenTime,
    Rules,
    Slot,
    WeeklyRange,
    first_available,
    free_slots,
    nearest,
    slot_at,
)

LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")
SYDNEY = ZoneInfo("Australia/Sydney")
M30 = timedelta(minutes=30)
MONDAY = date(2025, 6, 16)
WINDOW = Interval(datetime(2025, 6, 16, tzinfo=UTC), datetime(2025, 6, 17, tzinfo=UTC))
NOW = datetime(2025, 6, 10, tzinfo=UTC)
RULES = Rules(duration=M30, step=M30)


def at(hour: int, minute: int = 0) -> datetime:
    """An instant on Monday 2025-06-16, in UTC."""
    return datetime(2025, 6, 16, hour, minute, tzinfo=UTC)


# ----------------------------------------------------------------------- first_available

# Id 7: UTC, 09:00-11:00 = 09:00Z-11:00Z.
# Id 3: London, 10:00-12:00 BST = 09:00Z-11:00Z, busy 10:00Z-10:30Z.
# Id 5: Kolkata, 15:00-16:30 IST = 09:30Z-11:00Z.
UTC_7 = Availability(7, ZoneInfo("UTC"), (WeeklyRange(0, time(9), time(11)),))
LONDON_3 = Availability(
    3,
    LONDON,
    (WeeklyRange(0, time(10), time(12)),),
    busy=(Interval(at(10), at(10, 30)),),
)
KOLKATA_5 = Availability(5, KOLKATA, (WeeklyRange(0, time(15), time(16, 30)),))


def test_first_available_merges_practitioners_with_sorted_ids():
    offered = first_available([KOLKATA_5, LONDON_3, UTC_7], RULES, WINDOW, NOW)
    assert offered == [
        OpenTime(at(9), at(9, 30), (3, 7)),
        OpenTime(at(9, 30), at(10), (3, 5, 7)),
        OpenTime(at(10), at(10, 30), (5, 7)),  # 3 is busy
        OpenTime(at(10, 30), at(11), (3, 5, 7)),
    ]


def test_first_available_does_not_depend_on_the_order_of_practitioners():
    orders = [[UTC_7, LONDON_3, KOLKATA_5], [LONDON_3, KOLKATA_5, UTC_7], [KOLKATA_5, UTC_7]]
    results = [first_available(iter(o), RULES, WINDOW, NOW) for o in orders]
    assert results[0] == results[1]
    assert [o.practitioner_ids for o in results[2]] == [(7,), (5, 7), (5, 7), (5, 7)]


def test_first_available_with_nobody_free():
    assert first_available([], RULES, WINDOW, NOW) == []
    assert first_available([Availability(1, LONDON, ())], RULES, WINDOW, NOW) == []
    # Everyone's time is in the past.
    assert first_available([UTC_7, LONDON_3], RULES, WINDOW, at(12)) == []


def test_first_available_offers_each_start_once_even_with_different_grids():
    # Id 1 works 09:00-10:00, id 2 09:15-10:15 (UTC): 15-minute steps, 30-minute consults.
    # Grids 09:00, 09:15, 09:30 and 09:15, 09:30, 09:45 overlap at 09:15 and 09:30.
    rules = Rules(duration=M30, step=timedelta(minutes=15))
    a = Availability(1, ZoneInfo("UTC"), (WeeklyRange(0, time(9), time(10)),))
    b = Availability(2, ZoneInfo("UTC"), (WeeklyRange(0, time(9, 15), time(10, 15)),))
    offered = first_available([b, a], rules, WINDOW, NOW)
    assert [(o.start, o.practitioner_ids) for o in offered] == [
        (at(9), (1,)),
        (at(9, 15), (1, 2)),
        (at(9, 30), (1, 2)),
        (at(9, 45), (2,)),
    ]


# ----------------------------------------------------------------------- slot_at

# UTC practitioner, Monday 09:00-12:00, 30-minute grid from 09:00. A busy consult 10:00-10:30
# with a 15-minute buffer rules out 09:30 (ends 10:00, needs 09:45), 10:00 and 10:30 (needs
# 10:45). One hour of notice from 08:30 rules out 09:00.
BOOKED = Availability(
    1, ZoneInfo("UTC"), (WeeklyRange(0, time(9), time(12)),), busy=(Interval(at(10), at(10, 30)),)
)
STRICT = Rules(duration=M30, step=M30, buffer=timedelta(minutes=15), min_notice=timedelta(hours=1))
EARLY = at(8, 30)


def test_slot_at_returns_only_exact_bookable_starts():
    assert slot_at(BOOKED, STRICT, at(11), EARLY) == Slot(at(11), at(11, 30), 1)
    assert slot_at(BOOKED, STRICT, at(11, 30), EARLY) == Slot(at(11, 30), at(12), 1)
    for rejected in [
        at(9),  # less than an hour's notice
        at(9, 30),  # ends inside the buffer before the busy consult
        at(10),  # the busy consult itself
        at(10, 30),  # starts inside the buffer after it
        at(11, 10),  # not on the grid
        at(11) + timedelta(seconds=1),  # not on the grid, by a second
        at(12),  # would end after the working hours
        at(8, 30),  # before the working hours
        at(11) + timedelta(days=1),  # Tuesday: no hours
    ]:
        assert slot_at(BOOKED, STRICT, rejected, EARLY) is None, rejected
    # Next Monday is bookable again (the busy consult was this Monday only).
    assert slot_at(BOOKED, STRICT, at(10) + timedelta(days=7), EARLY) == Slot(
        at(10) + timedelta(days=7), at(10, 30) + timedelta(days=7), 1
    )


def test_slot_at_accepts_the_same_instant_written_in_another_zone():
    in_sydney = at(11).astimezone(SYDNEY)  # 21:00 AEST
    found = slot_at(BOOKED, STRICT, in_sydney, EARLY)
    assert found is not None
    assert found.start == at(11)


def test_slot_at_honours_horizon_cap_and_time_off():
    horizon = Rules(duration=M30, step=M30, horizon=timedelta(hours=3))  # up to 11:30
    assert slot_at(BOOKED, horizon, at(11, 30), EARLY) is not None
    assert slot_at(BOOKED, horizon, at(12) - timedelta(minutes=30), EARLY) is not None
    tighter = Rules(duration=M30, step=M30, horizon=timedelta(hours=3) - timedelta(microseconds=1))
    assert slot_at(BOOKED, tighter, at(11, 30), EARLY) is None
    assert slot_at(BOOKED, tighter, at(11), EARLY) is not None

    capped = Rules(duration=M30, step=M30, daily_cap=1)  # the one busy consult fills Monday
    assert slot_at(BOOKED, capped, at(11), EARLY) is None
    roomier = Rules(duration=M30, step=M30, daily_cap=2)
    assert slot_at(BOOKED, roomier, at(11), EARLY) is not None

    off = Availability(
        1,
        BOOKED.zone,
        BOOKED.weekly,
        time_off=(Interval(at(11, 29), at(11, 31)),),
        busy=BOOKED.busy,
    )
    assert slot_at(off, RULES, at(11), EARLY) is None  # ends 11:30, time off from 11:29
    assert slot_at(off, RULES, at(11, 30), EARLY) is None  # starts in the time off
    assert slot_at(off, RULES, at(10, 30), EARLY) is not None  # no buffer in RULES


def test_slot_at_matches_the_listing():
    listed = free_slots(BOOKED, STRICT, WINDOW, EARLY)
    assert [s.start for s in listed] == [at(11), at(11, 30)]
    every_minute = [at(8) + timedelta(minutes=m) for m in range(5 * 60)]
    assert [t for t in every_minute if slot_at(BOOKED, STRICT, t, EARLY)] == [at(11), at(11, 30)]


# ----------------------------------------------------------------------- nearest


def slot(hour: int, minute: int = 0, pid: int = 1) -> Slot:
    return Slot(at(hour, minute), at(hour, minute) + M30, pid)


TIMES = [slot(14), slot(9), slot(13), slot(9, 30), slot(10)]  # deliberately unordered


def test_nearest_returns_the_closest_in_time_order():
    # Distances from 10:40: 10:00 40 min, 09:30 70, 09:00 100, 13:00 140, 14:00 200.
    assert nearest(TIMES, at(10, 40)) == [slot(9), slot(9, 30), slot(10)]
    # From 12:50: 13:00 10 min, 14:00 70, 10:00 170.
    assert nearest(TIMES, at(12, 50), 2) == [slot(13), slot(14)]


def test_nearest_breaks_ties_towards_the_earlier_time():
    # From 11:30, 10:00 and 13:00 are both 90 minutes away.
    assert nearest(TIMES, at(11, 30), 1) == [slot(10)]
    assert nearest(TIMES, at(11, 30), 2) == [slot(10), slot(13)]
    assert nearest(TIMES, at(11, 30), 3) == [slot(9, 30), slot(10), slot(13)]


def test_nearest_with_few_or_no_times_and_open_times():
    assert nearest(TIMES, at(10), 10) == sorted(TIMES)
    assert nearest([], at(10)) == []
    assert nearest(TIMES, at(10), 0) == []
    opens = [OpenTime(at(h), at(h) + M30, (1, 2)) for h in (8, 12, 16)]
    assert nearest(opens, at(11).astimezone(SYDNEY), 1) == [opens[1]]


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.lists(st.integers(0, 24 * 60), max_size=15),
    st.integers(-60, 25 * 60),
    st.integers(0, 6),
)
def test_nearest_agrees_with_a_brute_force_ranking(minutes, target_minute, count):
    times = [
        Slot(at(0) + timedelta(minutes=m), at(0) + timedelta(minutes=m) + M30, i)
        for i, m in enumerate(minutes)
    ]
    target = at(0) + timedelta(minutes=target_minute)
    chosen = nearest(times, target, count)
    assert len(chosen) == min(count, len(times))
    assert [c.start for c in chosen] == sorted(c.start for c in chosen)
    assert all(c in times for c in chosen) and len(set(chosen)) == len(chosen)

    def rank(t: Slot) -> tuple[timedelta, datetime]:
        return abs(t.start - target), t.start

    left_out = [t for t in times if t not in chosen]
    # Nothing left out is strictly closer (ties: strictly earlier) than anything chosen.
    for c in chosen:
        for o in left_out:
            assert rank(c) <= rank(o)
