"""Property tests of ``free_slots`` (and ``slot_at`` / ``first_available``) against an oracle.

The oracle never calls the scheduling core. It decides "working or not" for one UTC quarter
hour at a time by converting its first instant to the practitioner's wall clock with
``astimezone`` and looking the local time up in that local date's overrides if it has any,
else in that weekday's weekly hours. That is exact here: every generated range starts and ends
on a local quarter hour, and in the zones used every UTC offset is a whole number of quarter
hours and changes only on a UTC quarter hour (``test_oracle_assumption_quarter_hours`` checks
this), so working status is constant on each UTC quarter hour ``[hh:00, hh:15)``,
``[hh:15, hh:30)``, ... Working stretches are the maximal runs of working quarter hours;
candidate starts are the grid ``stretch start + k * step``; each candidate is then checked rule
by rule. (Slots themselves are checked minute by minute.)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clinic.scheduling import (
    Availability,
    DayOverride,
    Interval,
    Rules,
    Slot,
    TimeRange,
    WeeklyRange,
    by_window,
    first_available,
    free_slots,
    slot_at,
)

MINUTE = timedelta(minutes=1)
MICRO = timedelta(microseconds=1)
ZONES = [
    ZoneInfo("America/New_York"),
    ZoneInfo("Europe/London"),
    ZoneInfo("Australia/Sydney"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("UTC"),
]
# Days on which (or next to which) one of the zones above changes its offset, 2025 and 2026.
TRANSITION_DAYS = [
    date(2025, 3, 9),
    date(2025, 11, 2),
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2025, 4, 6),
    date(2025, 10, 5),
    date(2026, 4, 5),
    date(2026, 10, 4),
]
STEPS = [5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 75, 90]

SETTINGS = settings(max_examples=120, deadline=None, database=None)


# --------------------------------------------------------------------------- strategies


def quarter(q: int) -> time:
    """Quarter hour number ``q`` of a day (0..96) as a wall time; 96 is the closing midnight."""
    return time(0) if q == 96 else time(q // 4, q % 4 * 15)


@st.composite
def weekly_hours(draw) -> tuple[WeeklyRange, ...]:
    ranges = []
    for weekday in range(7):
        for _ in range(draw(st.integers(0, 3))):
            # Bias towards ranges touching midnight, so stretches run across days.
            start_q = draw(st.one_of(st.just(0), st.integers(0, 95)))
            end_q = draw(st.one_of(st.just(96), st.integers(start_q + 1, 96)))
            ranges.append(WeeklyRange(weekday, quarter(start_q), quarter(end_q)))
    covered = set()
    for rng in ranges:
        first = rng.start.hour * 4 + rng.start.minute // 15
        last = 96 if rng.end == time(0) else rng.end.hour * 4 + rng.end.minute // 15
        covered.update((rng.weekday, q) for q in range(first, last))
    # Round-the-clock hours have no stretch start, hence no well-defined grid; leave them out.
    assume(len(covered) < 7 * 96)
    return tuple(ranges)


def day_ranges():
    """Up to three ranges of one day, biased towards whole days (which bridge weekly gaps)."""
    one = st.integers(0, 95).flatmap(
        lambda start_q: st.one_of(st.just(96), st.integers(start_q + 1, 96)).map(
            lambda end_q: TimeRange(quarter(start_q), quarter(end_q))
        )
    )
    whole_day = st.just(TimeRange(time(0), time(0)))
    return st.lists(st.one_of(whole_day, one), max_size=3).map(tuple)


def day_overrides(anchor: date):
    """Overrides on days around ``anchor``, some far enough back to move a stretch's start."""
    days = st.one_of(st.integers(-3, 4), st.integers(-24, 5)).map(
        lambda k: anchor + timedelta(days=k)
    )
    return st.lists(st.builds(DayOverride, days, day_ranges()), max_size=5).map(tuple)


def base_days():
    return st.one_of(
        st.sampled_from(TRANSITION_DAYS).flatmap(
            lambda d: st.integers(-2, 1).map(lambda k: d + timedelta(days=k))
        ),
        st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    )


def intervals_around(anchor: datetime, lengths: st.SearchStrategy[int]):
    return st.builds(
        lambda offset, length: Interval(
            anchor + offset * MINUTE, anchor + (offset + length) * MINUTE
        ),
        st.integers(-3 * 1440, 4 * 1440),
        lengths,
    )


@st.composite
def scenarios(draw, practitioner_id: int = 1):
    """An availability, rules, a window and a ``now``, all instants in UTC."""
    zone = draw(st.sampled_from(ZONES))
    day = draw(base_days())
    anchor = datetime.combine(day, time(0), UTC)
    window_start = anchor + draw(st.integers(-12 * 60, 36 * 60)) * MINUTE
    window = Interval(window_start, window_start + draw(st.integers(1, 3 * 1440)) * MINUTE)
    av = Availability(
        practitioner_id=practitioner_id,
        zone=zone,
        weekly=draw(weekly_hours()),
        time_off=tuple(
            draw(st.lists(intervals_around(anchor, st.integers(1, 36 * 60)), max_size=3))
        ),
        busy=tuple(draw(st.lists(intervals_around(anchor, st.integers(10, 120)), max_size=8))),
        overrides=draw(day_overrides(day)),
        # The practitioner's own calendars: any length, overlapping anything.
        external=tuple(
            draw(st.lists(intervals_around(anchor, st.integers(1, 24 * 60)), max_size=4))
        ),
    )
    rules = Rules(
        duration=draw(st.integers(2, 24)) * 5 * MINUTE,
        step=draw(st.sampled_from(STEPS)) * MINUTE,
        buffer=draw(st.integers(0, 12)) * 5 * MINUTE,
        min_notice=draw(st.integers(0, 36 * 60)) * MINUTE,
        horizon=draw(st.integers(0, 4 * 1440)) * MINUTE,
        daily_cap=draw(st.one_of(st.none(), st.integers(1, 3))),
    )
    now = (
        window_start
        + draw(st.integers(-2 * 1440, 1440)) * MINUTE
        + draw(st.integers(0, 59)) * timedelta(seconds=1)
    )
    return av, rules, window, now


# --------------------------------------------------------------------------- the oracle


def in_range(wall: time, rng: WeeklyRange | TimeRange) -> bool:
    return rng.start <= wall and (rng.end == time(0) or wall < rng.end)


def in_working_hours(instant: datetime, av: Availability) -> bool:
    """Whether the practitioner's wall clock at ``instant`` lies inside their hours that day:
    the day's overrides if it has any, else the weekly ranges of its weekday."""
    local = instant.astimezone(av.zone)
    wall = local.time()
    overrides = [o for o in av.overrides if o.day == local.date()]
    if overrides:
        return any(in_range(wall, rng) for o in overrides for rng in o.ranges)
    return any(rng.weekday == local.weekday() and in_range(wall, rng) for rng in av.weekly)


QUARTER = timedelta(minutes=15)


def floor_quarter(instant: datetime) -> datetime:
    return instant.replace(minute=instant.minute // 15 * 15, second=0, microsecond=0)


def stretches_from(first: datetime, end: datetime, av: Availability):
    """Maximal working runs ``(start, end)`` met walking from ``first`` up to ``end``.

    The walk first goes back, a quarter hour at a time, to the true start of the stretch
    holding ``first``. The weekly hours always leave a gap in the week, and a spring-forward
    hour can swallow that gap at most once in a row, so a stretch lasts less than 15 days
    beyond the overrides (which may bridge gaps).
    """
    earliest = min([first, *(datetime.combine(o.day, time(0), UTC) for o in av.overrides)])
    start = floor_quarter(first)
    while in_working_hours(start - QUARTER, av):
        start -= QUARTER
        assert earliest - start < timedelta(days=16)
    runs = []
    run_start = None
    t = start
    while t < end:
        if in_working_hours(t, av):
            if run_start is None:
                run_start = t
        elif run_start is not None:
            runs.append((run_start, t))
            run_start = None
        t += QUARTER
    if run_start is not None:
        runs.append((run_start, t))  # cut at ``end`` or just after; only earlier slots matter
    return runs


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def breaks_a_rule(
    start: datetime, av: Availability, rules: Rules, window: Interval, now: datetime
) -> str | None:
    """Which rule (other than the grid and working time) a slot starting at ``start`` breaks."""
    end = start + rules.duration
    if not window.start <= start < window.end:
        return "outside the window"
    if start < now + rules.min_notice:
        return "too soon"
    if start > now + rules.horizon:
        return "beyond the horizon"
    for off in av.time_off:
        if off.start < end and start < off.end:
            return "time off"
    for busy in av.busy:
        if not (end + rules.buffer <= busy.start or start >= busy.end + rules.buffer):
            return "too close to a busy consult"
    for busy in av.external:
        if not (end + rules.buffer <= busy.start or start >= busy.end + rules.buffer):
            return "too close to a busy time in their own calendar"
    if rules.daily_cap is not None:
        day = local_day(start, av.zone)
        if sum(local_day(b.start, av.zone) == day for b in av.busy) >= rules.daily_cap:
            return "day is full"
    return None


def oracle(av: Availability, rules: Rules, window: Interval, now: datetime) -> list[Slot]:
    horizon_end = window.end + rules.duration + MINUTE
    result = []
    for run_start, run_end in stretches_from(window.start, horizon_end, av):
        start = run_start
        while start + rules.duration <= run_end:
            if breaks_a_rule(start, av, rules, window, now) is None:
                result.append(Slot(start, start + rules.duration, av.practitioner_id))
            start += rules.step
    return result


def assert_slot_obeys_every_rule(
    slot: Slot, av: Availability, rules: Rules, window: Interval, now: datetime
) -> None:
    assert slot.practitioner_id == av.practitioner_id
    assert slot.start.utcoffset() is not None
    assert slot.end - slot.start == rules.duration
    # Inside working time: first and last instant, read on the practitioner's wall clock ...
    assert in_working_hours(slot.start, av), slot
    assert in_working_hours(slot.end - MICRO, av), slot
    # ... and every minute in between (a slot may not bridge a gap between two ranges).
    t = slot.start
    while t < slot.end:
        assert in_working_hours(t, av), (slot, t)
        t += MINUTE
    assert breaks_a_rule(slot.start, av, rules, window, now) is None
    # On the grid counted from the start of its working stretch.
    (run_start, _), *_ = stretches_from(slot.start, slot.start + QUARTER, av)
    assert (slot.start - run_start) % rules.step == timedelta(0)


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(scenarios())
def test_every_slot_obeys_every_rule(scenario):
    av, rules, window, now = scenario
    slots = free_slots(av, rules, window, now)
    assert slots == sorted(slots)
    assert len({s.start for s in slots}) == len(slots)
    for slot in slots:
        assert_slot_obeys_every_rule(slot, av, rules, window, now)


@SETTINGS
@given(scenarios())
def test_every_bookable_grid_start_is_offered(scenario):
    av, rules, window, now = scenario
    expected = oracle(av, rules, window, now)
    assert free_slots(av, rules, window, now) == expected


@SETTINGS
@given(scenarios(), st.data())
def test_slot_at_agrees_with_the_oracle(scenario, data):
    av, rules, window, now = scenario
    expected = {s.start: s for s in oracle(av, rules, window, now)}
    probes = list(expected)[:4]
    span = (window.end - window.start) // MINUTE
    probes += [window.start + data.draw(st.integers(0, span - 1)) * MINUTE for _ in range(4)]
    for start in probes:
        assert slot_at(av, rules, start, now) == expected.get(start)


@SETTINGS
@given(scenarios(), st.data())
def test_a_smaller_window_shows_the_same_slots(scenario, data):
    """The grid belongs to the working hours, not to the window someone happens to ask for."""
    av, rules, window, now = scenario
    span = (window.end - window.start) // MINUTE
    lo = data.draw(st.integers(0, span - 1))
    hi = data.draw(st.integers(lo + 1, span))
    sub = Interval(window.start + lo * MINUTE, window.start + hi * MINUTE)
    whole = free_slots(av, rules, window, now)
    assert free_slots(av, rules, sub, now) == [s for s in whole if sub.start <= s.start < sub.end]


@st.composite
def bridged_scenarios(draw):
    """Hours round the clock but for one quarter hour a week, and whole-day overrides filling
    that gap for one to four weeks before the window: stretches longer than the plain look-back.
    """
    av, rules, window, now = draw(scenarios())
    gap_day, gap_q = draw(st.integers(0, 6)), draw(st.integers(0, 95))
    weekly = [WeeklyRange(d, time(0), time(0)) for d in range(7) if d != gap_day]
    if gap_q > 0:
        weekly.append(WeeklyRange(gap_day, time(0), quarter(gap_q)))
    if gap_q < 95:
        weekly.append(WeeklyRange(gap_day, quarter(gap_q + 1), time(0)))
    first = window.start.astimezone(av.zone).date()
    back = (first.weekday() - gap_day) % 7
    bridged = [first - timedelta(days=back + 7 * k) for k in range(draw(st.integers(1, 4)))]
    whole = (TimeRange(time(0), time(0)),)
    overrides = tuple(DayOverride(d, whole) for d in bridged) + av.overrides
    return replace(av, weekly=tuple(weekly), overrides=overrides), rules, window, now


@settings(max_examples=40, deadline=None, database=None)
@given(bridged_scenarios(), st.data())
def test_stretches_bridged_by_overrides_keep_their_grid(scenario, data):
    av, rules, window, now = scenario
    whole = free_slots(av, rules, window, now)
    assert whole == oracle(av, rules, window, now)
    span = (window.end - window.start) // MINUTE
    lo = data.draw(st.integers(0, span - 1))
    sub = Interval(window.start + lo * MINUTE, window.end)
    assert free_slots(av, rules, sub, now) == [s for s in whole if sub.start <= s.start]


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(scenarios(), min_size=1, max_size=3))
def test_first_available_is_the_union_of_the_practitioners(scenarios_):
    # Share one set of rules, window and now; give each practitioner a distinct id.
    _, rules, window, now = scenarios_[0]
    avails = [replace(av, practitioner_id=pid) for pid, (av, *_) in enumerate(scenarios_, start=10)]
    offered = first_available(reversed(avails), rules, window, now)
    starts = [o.start for o in offered]
    assert starts == sorted(set(starts))  # in order, each start once
    expected: dict[datetime, set[int]] = {}
    for av in avails:
        for slot in oracle(av, rules, window, now):
            expected.setdefault(slot.start, set()).add(av.practitioner_id)
    assert {o.start: set(o.practitioner_ids) for o in offered} == expected
    for o in offered:
        assert list(o.practitioner_ids) == sorted(set(o.practitioner_ids))
        assert o.end - o.start == rules.duration


# --------------------------------------------------------------------------- examples


def test_oracle_assumption_quarter_hours():
    """Offsets of the zones used are whole quarter hours and change only on UTC quarter hours."""
    for zone in ZONES:
        t = datetime(2024, 12, 25, tzinfo=UTC)
        before = t.astimezone(zone).utcoffset()
        while t < datetime(2027, 1, 7, tzinfo=UTC):
            assert before % QUARTER == timedelta(0)
            after = (t + timedelta(hours=1)).astimezone(zone).utcoffset()
            if after != before:
                offsets = [(t + k * MINUTE).astimezone(zone).utcoffset() for k in range(61)]
                change = offsets.index(after)
                assert change % 15 == 0 and offsets[change:] == [after] * (61 - change)
            before = after
            t += timedelta(hours=1)


def test_the_oracle_itself_sees_a_stretch_that_started_days_ago():
    """Guard the oracle: hours Sun 20:00 to Tue 04:00 (New York) form one 32-hour stretch."""
    ny = ZoneInfo("America/New_York")
    av = Availability(
        1,
        ny,
        (
            WeeklyRange(6, time(20), time(0)),
            WeeklyRange(0, time(0), time(0)),
            WeeklyRange(1, time(0), time(4)),
        ),
    )
    tuesday_1am = datetime(2025, 6, 3, 1, tzinfo=ny).astimezone(UTC)
    (run_start, run_end), *_ = stretches_from(tuesday_1am, tuesday_1am + MINUTE, av)
    assert run_start == datetime(2025, 6, 1, 20, tzinfo=ny)
    assert run_end == tuesday_1am + QUARTER  # cut at the end of the walk
    (_, full_end), *_ = stretches_from(tuesday_1am, tuesday_1am + timedelta(days=1), av)
    assert full_end == datetime(2025, 6, 3, 4, tzinfo=ny)


def test_the_grid_of_a_stretch_that_started_days_ago_does_not_depend_on_the_window():
    """Regression: the grid used to restart at the local midnight one day before the window.

    Hours Sun 20:00 - Tue 04:00 (New York, June, no DST change) are one stretch starting Sun
    20:00. With a 45-minute step the grid on Tuesday is 28 h = 1680 min after that start:
    1680 = 37 * 45 + 15, so the first Tuesday grid start is 00:30 (38 * 45 = 1710 min), then
    01:15, 02:00, 02:45; 03:30 would end at 04:15, after the hours.
    """
    ny = ZoneInfo("America/New_York")
    av = Availability(
        1,
        ny,
        (
            WeeklyRange(6, time(20), time(0)),
            WeeklyRange(0, time(0), time(0)),
            WeeklyRange(1, time(0), time(4)),
        ),
    )
    rules = Rules(duration=timedelta(minutes=45), step=timedelta(minutes=45))
    now = datetime(2025, 5, 30, tzinfo=UTC)
    tuesday = [
        datetime(2025, 6, 3, h, m, tzinfo=ny) for h, m in [(0, 30), (1, 15), (2, 0), (2, 45)]
    ]
    for first, last in [(date(2025, 6, 1), date(2025, 6, 4)), (date(2025, 6, 3), date(2025, 6, 4))]:
        window = Interval(datetime.combine(first, time(0), ny), datetime.combine(last, time(0), ny))
        slots = free_slots(av, rules, window, now)
        on_tuesday = [s.start for s in slots if s.start.astimezone(ny).date() == date(2025, 6, 3)]
        assert on_tuesday == tuesday
    assert slot_at(av, rules, tuesday[-1], now) == Slot(
        tuesday[-1], tuesday[-1] + timedelta(minutes=45), 1
    )
    assert slot_at(av, rules, datetime(2025, 6, 3, 0, 0, tzinfo=ny), now) is None


@SETTINGS
@given(scenarios(), st.data())
def test_cutting_the_rows_to_each_window_changes_no_slot(scenario, data):
    """``by_window`` (each week of the cache of free times gets only the rows near it) keeps
    every slot: with two days' margin and the buffer, whatever the hours, caps and busy times."""
    av, rules, window, now = scenario
    minutes = int((window.end - window.start) / MINUTE)
    cut = window.start + data.draw(st.integers(1, max(minutes - 1, 1))) * MINUTE
    windows = [
        w for w in (Interval(window.start, cut), Interval(cut, window.end)) if w.end > w.start
    ]
    narrowed = by_window(av, windows, timedelta(days=2) + rules.buffer)
    assert len(narrowed) == len(windows)
    for part, only_near in zip(windows, narrowed, strict=True):
        assert free_slots(only_near, rules, part, now) == free_slots(av, rules, part, now)
        assert set(only_near.busy) <= set(av.busy) and set(only_near.external) <= set(av.external)


def test_rows_just_outside_a_window_still_fill_its_day_and_block_with_their_buffer():
    """The two rows a cut to the window alone would lose: a consult earlier the same local
    day (the daily cap), and a busy time ending just before the window (its buffer)."""
    zone = ZoneInfo("Europe/London")
    weekly = tuple(WeeklyRange(d, time(8), time(18)) for d in range(7))
    morning = Interval(datetime(2026, 6, 3, 7, tzinfo=UTC), datetime(2026, 6, 3, 7, 30, tzinfo=UTC))
    window = Interval(datetime(2026, 6, 3, 11, tzinfo=UTC), datetime(2026, 6, 5, 11, tzinfo=UTC))
    late = Interval(window.end - 40 * MINUTE, window.end - 5 * MINUTE)
    av = Availability(1, zone, weekly, busy=(morning,), external=(late,))
    rules = Rules(20 * MINUTE, 30 * MINUTE, 10 * MINUTE, timedelta(0), timedelta(days=30), 1)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    later = Interval(window.end, window.end + timedelta(days=1))

    whole = [free_slots(av, rules, w, now) for w in (window, later)]
    narrowed = by_window(av, [window, later], timedelta(days=2) + rules.buffer)

    assert [
        free_slots(n, rules, w, now) for n, w in zip(narrowed, (window, later), strict=True)
    ] == whole
    assert whole[0] and all(s.start.date() != morning.start.date() for s in whole[0])
    assert whole[1][0].start > window.end  # 11:00 UTC is inside the busy time's buffer


@pytest.mark.parametrize("case", ["a day fourteen hours ahead", "time off begun days before"])
def test_rows_well_before_the_week_that_still_count(case):
    """At UTC+14 a local day begins 14 hours before its UTC date: a consult filling that day
    lies before the week asked, yet closes the week's first hours. Time off begun five days
    before the week reaches into it: the look-back covers the longest row, not the margin."""
    week = Interval(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC))
    if case == "a day fourteen hours ahead":
        zone, cap = ZoneInfo("Pacific/Kiritimati"), 1
        rows = {"busy": (Interval(week.start - 810 * MINUTE, week.start - 780 * MINUTE),)}
    else:
        zone, cap = ZoneInfo("UTC"), None
        rows = {"time_off": (Interval(week.start - timedelta(days=5), week.start + 150 * MINUTE),)}
    weekly = tuple(WeeklyRange(d, time(0), time(23)) for d in range(7))
    av = Availability(1, zone, weekly, **rows)
    rules = Rules(20 * MINUTE, 30 * MINUTE, 10 * MINUTE, timedelta(0), timedelta(days=30), cap)
    now = datetime(2026, 5, 20, tzinfo=UTC)

    whole = free_slots(av, rules, week, now)
    (narrowed,) = by_window(av, [week], timedelta(days=2) + rules.buffer)

    assert free_slots(narrowed, rules, week, now) == whole
    assert whole and whole[0].start >= week.start + 150 * MINUTE  # held back by the row
