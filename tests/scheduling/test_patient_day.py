"""Patients see slots on their own local day, whichever side of the date line they are on.

2025-06-16 is a Monday. In June: Los Angeles is PDT (-7), London BST (+1), Sydney AEST (+10),
Auckland NZST (+12), Honolulu HST (-10). In January: Los Angeles PST (-8), Sydney AEDT (+11),
Auckland NZDT (+13).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scheduling import (
    Availability,
    Interval,
    Rules,
    Slot,
    WeeklyRange,
    free_slots,
    group_by_day,
    local_day_window,
)

LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
AUCKLAND = ZoneInfo("Pacific/Auckland")
HONOLULU = ZoneInfo("Pacific/Honolulu")
MON, TUE, WED = date(2025, 6, 16), date(2025, 6, 17), date(2025, 6, 18)
SUN = date(2025, 6, 15)
M30 = timedelta(minutes=30)
RULES = Rules(duration=M30, step=M30)
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def practitioner(zone: ZoneInfo, weekday: int, start: time, end: time) -> Availability:
    return Availability(1, zone, (WeeklyRange(weekday, start, end),))


def week_of_slots(av: Availability, first_day: date = SUN) -> list[Slot]:
    window = Interval(datetime.combine(first_day, time(0), UTC), utc(2025, 6, 21))
    return free_slots(av, RULES, window, NOW)


def starts(items) -> list[datetime]:
    return [i.start for i in items]


# Los Angeles, Monday 16:00-18:00 PDT = Monday 23:00Z .. Tuesday 01:00Z.
LA_MONDAY = [
    utc(2025, 6, 16, 23),
    utc(2025, 6, 16, 23, 30),
    utc(2025, 6, 17),
    utc(2025, 6, 17, 0, 30),
]


@pytest.mark.parametrize(
    ("patient_zone", "first_local"),
    [
        (SYDNEY, datetime(2025, 6, 17, 9, tzinfo=SYDNEY)),
        (AUCKLAND, datetime(2025, 6, 17, 11, tzinfo=AUCKLAND)),
    ],
)
def test_patient_a_day_ahead_sees_monday_afternoon_on_tuesday(patient_zone, first_local):
    slots = week_of_slots(practitioner(LA, 0, time(16), time(18)))
    assert starts(slots) == LA_MONDAY
    assert [s.start.astimezone(patient_zone) for s in slots] == [
        first_local + k * M30 for k in range(4)
    ]

    days = group_by_day(slots, patient_zone, [MON, TUE, WED])
    assert [d.day for d in days] == [MON, TUE, WED]
    assert [starts(d.items) for d in days] == [[], LA_MONDAY, []]
    # The clinic itself files them under Monday.
    assert [starts(d.items) for d in group_by_day(slots, LA, [MON, TUE])] == [LA_MONDAY, []]

    # Asking for the patient's Tuesday finds them; the patient's Monday is empty.
    tuesday = local_day_window(TUE, 1, patient_zone)
    assert (
        starts(free_slots(practitioner(LA, 0, time(16), time(18)), RULES, tuesday, NOW))
        == LA_MONDAY
    )
    monday = local_day_window(MON, 1, patient_zone)
    assert free_slots(practitioner(LA, 0, time(16), time(18)), RULES, monday, NOW) == []


def test_in_january_the_offsets_differ_but_the_day_is_still_tuesday():
    # 2025-01-13 is a Monday: 16:00-18:00 PST = Tuesday 00:00Z-02:00Z = 11:00-13:00 AEDT and
    # 13:00-15:00 NZDT, Tuesday 2025-01-14.
    av = practitioner(LA, 0, time(16), time(18))
    window = Interval(utc(2025, 1, 12), utc(2025, 1, 18))
    slots = free_slots(av, RULES, window, utc(2025, 1, 1))
    assert starts(slots) == [utc(2025, 1, 14) + k * M30 for k in range(4)]
    for zone, first_hour in [(SYDNEY, 11), (AUCKLAND, 13)]:
        days = group_by_day(slots, zone, [date(2025, 1, 13), date(2025, 1, 14)])
        assert [len(d.items) for d in days] == [0, 4]
        assert days[1].items[0].start.astimezone(zone).hour == first_hour


def test_local_day_windows_of_a_patient_ahead_of_the_clinic():
    # Sydney's Tuesday 2025-06-17 is 2025-06-16 14:00Z .. 2025-06-17 14:00Z.
    assert local_day_window(TUE, 1, SYDNEY) == Interval(utc(2025, 6, 16, 14), utc(2025, 6, 17, 14))
    # Auckland's Monday + Tuesday is 2025-06-15 12:00Z .. 2025-06-17 12:00Z.
    assert local_day_window(MON, 2, AUCKLAND) == Interval(
        utc(2025, 6, 15, 12), utc(2025, 6, 17, 12)
    )
    # Los Angeles' Monday is 2025-06-16 07:00Z .. 2025-06-17 07:00Z.
    assert local_day_window(MON, 1, LA) == Interval(utc(2025, 6, 16, 7), utc(2025, 6, 17, 7))


def test_window_edges_are_half_open_and_match_group_by_day():
    window = local_day_window(TUE, 1, SYDNEY)
    tick = timedelta(microseconds=1)
    probes = [
        Slot(window.start - tick, window.start, 1),  # Monday 23:59:59.999999 in Sydney
        Slot(window.start, window.start + M30, 1),  # Tuesday 00:00
        Slot(window.end - tick, window.end, 1),  # Tuesday 23:59:59.999999
        Slot(window.end, window.end + M30, 1),  # Wednesday 00:00
    ]
    days = group_by_day(probes, SYDNEY, [MON, TUE, WED])
    assert [d.items for d in days] == [(probes[0],), (probes[1], probes[2]), (probes[3],)]
    inside = [p for p in probes if window.start <= p.start < window.end]
    assert inside == [probes[1], probes[2]]


def test_patient_behind_the_clinic_sees_tuesday_morning_on_monday():
    # Sydney Tuesday 08:00-10:00 AEST = Monday 22:00Z .. Tuesday 00:00Z
    # = Monday 15:00-17:00 PDT in Los Angeles = Monday 12:00-14:00 HST in Honolulu.
    av = practitioner(SYDNEY, 1, time(8), time(10))
    slots = week_of_slots(av)
    expected = [utc(2025, 6, 16, 22) + k * M30 for k in range(4)]
    assert starts(slots) == expected
    for zone, first_hour in [(LA, 15), (HONOLULU, 12)]:
        days = group_by_day(slots, zone, [MON, TUE])
        assert [starts(d.items) for d in days] == [expected, []]
        assert days[0].items[0].start.astimezone(zone).hour == first_hour
        assert starts(free_slots(av, RULES, local_day_window(MON, 1, zone), NOW)) == expected
        assert free_slots(av, RULES, local_day_window(TUE, 1, zone), NOW) == []
    assert [starts(d.items) for d in group_by_day(slots, SYDNEY, [MON, TUE])] == [[], expected]


def test_one_clinic_range_can_straddle_the_patients_midnight():
    # London Monday 12:00-14:00 BST = 11:00Z-13:00Z = Auckland 23:00 Monday .. 01:00 Tuesday.
    av = practitioner(LONDON, 0, time(12), time(14))
    slots = week_of_slots(av)
    monday = [utc(2025, 6, 16, 11), utc(2025, 6, 16, 11, 30)]
    tuesday = [utc(2025, 6, 16, 12), utc(2025, 6, 16, 12, 30)]
    assert starts(slots) == monday + tuesday
    days = group_by_day(slots, AUCKLAND, [MON, TUE])
    assert [starts(d.items) for d in days] == [monday, tuesday]
    assert starts(free_slots(av, RULES, local_day_window(MON, 1, AUCKLAND), NOW)) == monday
    assert starts(free_slots(av, RULES, local_day_window(TUE, 1, AUCKLAND), NOW)) == tuesday


def test_group_by_day_keeps_the_requested_days_in_order_and_drops_the_rest():
    slots = week_of_slots(practitioner(LA, 0, time(16), time(18)))
    days = group_by_day(reversed(slots), SYDNEY, [WED, TUE])  # any order in, that order out
    assert [d.day for d in days] == [WED, TUE]
    assert [starts(d.items) for d in days] == [[], LA_MONDAY]  # items sorted by start
    assert group_by_day(slots, SYDNEY, [MON]) == [group_by_day([], SYDNEY, [MON])[0]]


# --------------------------------------------------------------------------- properties

# Zones far ahead, far behind, with half- and quarter-hour offsets, 30-minute DST (Lord Howe)
# and a DST change at midnight (Havana: the spring-forward day starts at 01:00).
PATIENT_ZONES = [
    ZoneInfo(name)
    for name in [
        "Australia/Sydney",
        "Pacific/Auckland",
        "Pacific/Chatham",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "America/Los_Angeles",
        "America/St_Johns",
        "America/Havana",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "Europe/London",
    ]
]
instants = st.integers(0, 2 * 366 * 24 * 60).map(lambda m: utc(2025, 1, 1) + timedelta(minutes=m))


@settings(max_examples=300, deadline=None, database=None)
@given(instants, st.sampled_from(PATIENT_ZONES), st.integers(1, 9))
def test_local_day_window_holds_exactly_the_instants_of_those_local_days(t, zone, days):
    first = t.astimezone(zone).date() - timedelta(days=days // 2)
    window = local_day_window(first, days, zone)
    local = t.astimezone(zone).date()
    assert (window.start <= t < window.end) == (first <= local < first + timedelta(days=days))
    # The window's edges are the first instants of their days: a microsecond earlier is the
    # day before.
    tick = timedelta(microseconds=1)
    assert window.start.astimezone(zone).date() == first
    assert (window.start - tick).astimezone(zone).date() == first - timedelta(days=1)
    assert window.end.astimezone(zone).date() == first + timedelta(days=days)
    assert (window.end - tick).astimezone(zone).date() == first + timedelta(days=days - 1)
    # Consecutive day windows tile the longer one.
    assert local_day_window(first, 1, zone).start == window.start
    assert local_day_window(first + timedelta(days=days - 1), 1, zone).end == window.end


@settings(max_examples=150, deadline=None, database=None)
@given(
    st.lists(instants, max_size=20),
    st.sampled_from(PATIENT_ZONES),
    st.lists(st.dates(date(2024, 12, 30), date(2027, 1, 2)), unique=True, max_size=5),
)
def test_group_by_day_files_each_item_under_its_local_start_day(times, zone, days):
    items = [Slot(t, t + M30, i) for i, t in enumerate(times)]
    grouped = group_by_day(items, zone, days)
    assert [g.day for g in grouped] == days
    for g in grouped:
        assert [i.start for i in g.items] == sorted(i.start for i in g.items)
        assert sorted(g.items) == sorted(
            i for i in items if i.start.astimezone(zone).date() == g.day
        )
