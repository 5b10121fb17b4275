"""Properties of the interval algebra (merge / subtract) against a minute-grid model.

Every generated endpoint is a whole minute after ``BASE``, so a set of intervals is fully
described by which minutes ``[m, m + 1)`` it covers; the model below is that set of minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scheduling import Interval, merge, subtract

BASE = datetime(2025, 3, 9, 0, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ZONES = [UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]

SETTINGS = settings(max_examples=200, deadline=None, database=None)


@st.composite
def intervals(draw) -> Interval:
    start = draw(st.integers(0, 300))
    length = draw(st.integers(0, 60))  # zero-length intervals included on purpose
    zone = draw(st.sampled_from(ZONES))  # same instants, written in different zones
    return Interval(
        (BASE + start * MINUTE).astimezone(zone),
        (BASE + (start + length) * MINUTE).astimezone(zone),
    )


interval_lists = st.lists(intervals(), max_size=12)


def minutes(items) -> set[int]:
    """The model: the whole minutes after BASE covered by ``items``."""
    covered: set[int] = set()
    for item in items:
        first = (item.start - BASE) // MINUTE
        last = (item.end - BASE) // MINUTE
        covered.update(range(first, last))
    return covered


def assert_canonical(result: list[Interval]) -> None:
    """Sorted, non-empty pieces, with a real gap between neighbours (not even touching)."""
    for piece in result:
        assert piece.start < piece.end
        assert piece.start.utcoffset() is not None
    for left, right in zip(result, result[1:], strict=False):
        assert left.end < right.start


@SETTINGS
@given(interval_lists)
def test_merge_is_canonical_and_keeps_the_union(items):
    result = merge(items)
    assert_canonical(result)
    assert minutes(result) == minutes(items)
    # Total measure: the merged pieces add up to exactly the covered time.
    assert sum((p.duration for p in result), timedelta(0)) == len(minutes(items)) * MINUTE


@SETTINGS
@given(interval_lists, st.randoms(use_true_random=False))
def test_merge_ignores_order_and_is_idempotent(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert merge(shuffled) == merge(items)
    assert merge(merge(items)) == merge(items)


@SETTINGS
@given(interval_lists)
def test_merge_does_not_mutate_its_input(items):
    before = list(items)
    merge(items)
    assert items == before


@SETTINGS
@given(interval_lists, interval_lists)
def test_subtract_is_canonical_inside_the_original_and_outside_every_cut(items, cuts):
    result = subtract(items, cuts)
    assert_canonical(result)
    originals = merge(items)
    for piece in result:
        assert any(original.contains(piece) for original in originals)
        for cut in cuts:
            assert not piece.overlaps(cut)
    # Point-wise: what remains is exactly the original minus the cuts.
    assert minutes(result) == minutes(items) - minutes(cuts)


@SETTINGS
@given(interval_lists, interval_lists)
def test_subtract_measure_identities(items, cuts):
    def measure(pieces) -> timedelta:
        return sum((p.duration for p in pieces), timedelta(0))

    remaining = measure(subtract(items, cuts))
    whole = measure(merge(items))
    # |A \ C| + |A ∩ C| = |A|, with |A ∩ C| = |A| - |A \ C| checked against the model...
    overlap = len(minutes(items) & minutes(cuts)) * MINUTE
    assert remaining + overlap == whole
    # ... and |A \ C| + |C| = |A ∪ C|.
    assert remaining + measure(merge(cuts)) == measure(merge([*items, *cuts]))
    # Removing nothing keeps everything; removing the thing itself leaves nothing.
    assert subtract(items, []) == merge(items)
    assert subtract(items, items) == []


@SETTINGS
@given(intervals(), intervals())
def test_overlaps_and_contains_match_the_model(a, b):
    ma, mb = minutes([a]), minutes([b])
    assert a.overlaps(b) == bool(ma & mb)
    assert a.overlaps(b) == b.overlaps(a)
    if a.start < a.end and b.start < b.end:
        # For non-empty intervals containment is inclusion of the covered minutes.
        assert a.contains(b) == (mb <= ma)


def test_interval_rejects_naive_and_backwards_values():
    with pytest.raises(ValueError):
        Interval(datetime(2025, 1, 1), datetime(2025, 1, 2))
    with pytest.raises(ValueError):
        Interval(BASE, BASE - MINUTE)
    assert Interval(BASE, BASE).duration == timedelta(0)


def test_an_empty_interval_overlaps_nothing():
    # [t, t) holds no instant, exactly as merge and subtract treat it (they drop it).
    outer = Interval(BASE, BASE + 10 * MINUTE)
    empty = Interval(BASE + 5 * MINUTE, BASE + 5 * MINUTE)
    assert not empty.overlaps(outer)
    assert not outer.overlaps(empty)
    assert not empty.overlaps(empty)
    assert subtract([outer], [empty]) == [outer]
    assert outer.overlaps(Interval(BASE + 9 * MINUTE, BASE + 11 * MINUTE))
    assert not outer.overlaps(Interval(BASE + 10 * MINUTE, BASE + 11 * MINUTE))


def test_touching_intervals_merge_and_a_cut_in_the_middle_splits():
    a = Interval(BASE, BASE + 10 * MINUTE)
    b = Interval(BASE + 10 * MINUTE, BASE + 20 * MINUTE)
    assert merge([b, a]) == [Interval(BASE, BASE + 20 * MINUTE)]
    cut = Interval(BASE + 5 * MINUTE, BASE + 12 * MINUTE)
    assert subtract([a, b], [cut]) == [
        Interval(BASE, BASE + 5 * MINUTE),
        Interval(BASE + 12 * MINUTE, BASE + 20 * MINUTE),
    ]
