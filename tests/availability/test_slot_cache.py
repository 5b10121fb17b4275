"""Cached free times are always the free times.

Every change to a practitioner's schedule raises their schedule version in the same
transaction (clinic.availability.schedule_version), and the cache
(clinic.availability.slot_cache) keys
on those versions; the clock is handled by the entry (minimum notice, lapsing holds, a maximum
age). These tests compare the cached answer with one worked out afresh, through every kind of
change, and through the API as patients see it.
"""

from __future__ import annotations

import threading
import time as clock
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.availability.loading import availabilities
from clinic.availability.open_times import (
    active_practitioners,
    consult_type,
    open_times,
    rules_for,
    slot_cache,
)
from clinic.booking.services import expire_lapsed_holds
from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    ClinicSettings,
    HoursOverride,
    HoursOverrideRange,
    Practitioner,
    Status,
    TimeOff,
    WorkingHours,
)
from clinic.scheduling import Interval, first_available, local_day_window
from tests.support import factories
from tests.support.apps import migrate, running_app
from tests.support.concurrency import api_body

WINDOW_DAYS = 7


def fresh(now: datetime, window: Interval, practitioner_id: int | None = None):
    """The free times worked out from the database now, with no cache."""
    people = active_practitioners(practitioner_id)
    rules = rules_for(clinic_settings(), consult_type())
    return first_available(availabilities(people, window, now), rules, window, now)


def cached(now: datetime, window: Interval, practitioner_id: int | None = None):
    result = open_times(active_practitioners(), practitioner_id, window, now)
    db.session.remove()  # as between requests: the next call loads everything again
    return result


def versions() -> dict[int, int]:
    rows = db.session.execute(sa.select(Practitioner.id, Practitioner.schedule_version))
    return dict(rows.all())


@pytest.fixture
def clinic(app):
    factories.clinic(min_notice_minutes=60, buffer_minutes=10, daily_cap=None)
    people = [factories.practitioner(timezone=z) for z in ("UTC", "America/New_York")]
    return [p.id for p in people]


def window_from(now: datetime) -> Interval:
    return Interval(now, now + timedelta(days=WINDOW_DAYS))


# --- versions -----------------------------------------------------------------------------


def raised(before: dict[int, int]) -> set[int]:
    after = versions()
    return {pid for pid in after if after[pid] != before[pid]}


def test_each_kind_of_change_raises_the_versions_of_those_it_touches(clinic):
    first, second = clinic
    start = factories.next_grid_time(days_ahead=2)

    before = versions()
    consult = factories.appointment(db.session.get(Practitioner, first), start)
    assert raised(before) == {first}

    before = versions()
    consult.urgent = True  # flags, notes, patients: no one's free time
    consult.cancel_reason = "note"
    db.session.commit()
    assert raised(before) == set()

    before = versions()
    consult.status = Status.CANCELLED.value
    db.session.commit()
    assert raised(before) == {first}

    before = versions()
    consult.practitioner_id = second  # moved to another practitioner: both change
    db.session.commit()
    assert raised(before) == {first, second}

    before = versions()
    db.session.add(
        WorkingHours(practitioner_id=second, weekday=6, start_time=time(8), end_time=time(9))
    )
    db.session.commit()
    assert raised(before) == {second}

    before = versions()
    override = HoursOverride(practitioner_id=first, day=start.date(), ranges=[])
    db.session.add(override)
    db.session.commit()
    assert raised(before) == {first}

    before = versions()
    override.ranges.append(HoursOverrideRange(start_time=time(9), end_time=time(10)))
    db.session.commit()
    assert raised(before) == {first}

    before = versions()
    off = factories.time_off(start, start + timedelta(hours=2), second)
    assert raised(before) == {second}

    before = versions()
    db.session.delete(off)
    db.session.commit()
    assert raised(before) == {second}

    before = versions()
    factories.time_off(start, start + timedelta(hours=2))  # a clinic closure
    assert raised(before) == {first, second}


def test_bulk_statements_raise_everyone_unless_they_say_no_free_time_changes(clinic):
    start = factories.next_grid_time(days_ahead=2)
    factories.appointment(db.session.get(Practitioner, clinic[0]), start)

    before = versions()
    db.session.execute(sa.update(Appointment).values(status=Status.CANCELLED.value))
    db.session.commit()
    assert raised(before) == set(clinic)

    before = versions()
    db.session.execute(
        sa.update(Appointment).values(cancel_reason="").execution_options(schedule_unchanged=True)
    )
    db.session.commit()
    assert raised(before) == set()


def test_a_version_raised_in_this_session_is_seen_by_it_at_once(clinic):
    person = db.session.get(Practitioner, clinic[0])
    version = person.schedule_version
    factories.appointment(person, factories.next_grid_time(days_ahead=2))
    assert person.schedule_version == version + 1


# --- the cache against a fresh answer ------------------------------------------------------


def test_times_follow_every_change_at_once(clinic):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    window = window_from(now)
    first, second = clinic
    assert cached(now, window) == fresh(now, window)
    taken = cached(now, window, first)[3]

    consult_id = factories.appointment(db.session.get(Practitioner, first), taken.start).id
    assert taken.start not in [t.start for t in cached(now, window, first)]
    assert cached(now, window) == fresh(now, window)

    db.session.get(Appointment, consult_id).status = Status.CANCELLED.value
    db.session.commit()
    assert taken in cached(now, window, first)

    factories.time_off(taken.start - timedelta(hours=1), taken.start + timedelta(hours=1))
    assert taken.start not in [t.start for t in cached(now, window)]
    assert cached(now, window) == fresh(now, window)

    settings = db.session.get(ClinicSettings, 1)
    settings.slot_step_minutes = 20  # a new rule: the key changes
    db.session.commit()
    assert cached(now, window) == fresh(now, window)


def test_any_window_in_any_zone_cut_from_the_kept_weeks_is_the_fresh_answer(clinic):
    """Free times are kept for each practitioner a week at a time and any window is cut from
    them: every local day in several zones, for each practitioner and for any, at one moment
    and a few minutes on, equals the answer worked out for that window alone."""
    factories.appointment(
        db.session.get(Practitioner, clinic[0]), factories.next_grid_time(days_ahead=2, hour=14)
    )
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for later in (now, now + timedelta(minutes=7)):  # the second worked out afresh, once
        for zone in ("Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kolkata"):
            for first in range(-1, 93, 8):
                day = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=first)
                window = local_day_window(day, 3, ZoneInfo(zone))
                for who in (None, *clinic):
                    assert cached(later, window, who) == fresh(later, window, who), (zone, day)


def test_times_move_on_with_the_clock_without_any_write(clinic):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    window = window_from(now)
    assert cached(now, window) == fresh(now, window)
    for minutes in (1, 29, 31, 61, 600):
        later = now + timedelta(minutes=minutes)
        assert cached(later, window) == fresh(later, window), minutes


def test_a_lapsing_hold_frees_its_time_in_the_cache_too(clinic):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    window = window_from(now)
    person = db.session.get(Practitioner, clinic[0])
    held = cached(now, window, person.id)[2]
    factories.appointment(
        person,
        held.start,
        status=Status.HELD.value,
        hold_expires_at=now + timedelta(minutes=10),
    )
    assert held.start not in [t.start for t in cached(now, window, person.id)]
    later = now + timedelta(minutes=10, seconds=1)
    assert held in cached(later, window, person.id)


def test_entries_are_worked_out_again_after_the_maximum_age(clinic):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    window = window_from(now)
    cached(now, window)
    # A write the versions cannot see (on the connection, under the ORM): only the maximum
    # age catches it.
    hours = WorkingHours.__table__
    db.session.connection().execute(
        sa.update(hours).where(hours.c.practitioner_id == clinic[0]).values(start_time=time(12))
    )
    db.session.commit()
    age = slot_cache().max_age
    assert cached(now + age - timedelta(seconds=1), window) != fresh(now, window)
    assert cached(now + age, window) == fresh(now + age, window)


def test_a_patient_never_sees_a_time_just_booked_through_the_api(client, clinic):
    day = datetime.now(UTC).date() + timedelta(days=2)
    url = f"/api/v1/slots?from={day}&to={day}&timezone=UTC"
    offered = client.get(url).get_json()["slots"]
    assert offered
    chosen = offered[0]
    start = datetime.fromisoformat(chosen["start_utc"])
    booked = client.post(
        "/api/v1/bookings", json=api_body(start, chosen["practitioner_ids"][0], index=1)
    )
    assert booked.status_code == 201, booked.get_json()
    again = client.get(url).get_json()["slots"]
    same = [s for s in again if s["start_utc"] == chosen["start_utc"]]
    others = [p for s in same for p in s["practitioner_ids"]]
    assert chosen["practitioner_ids"][0] not in others


# --- any sequence of changes and clock steps ---------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("book"), st.integers(0, 1), st.integers(0, 40)),
        st.tuples(st.just("hold"), st.integers(0, 1), st.integers(0, 40)),
        st.tuples(st.just("cancel"), st.integers(0, 1), st.integers(0, 40)),
        st.tuples(st.just("off"), st.integers(-1, 1), st.integers(0, 40)),
        st.tuples(st.just("wait"), st.integers(0, 1), st.integers(1, 90)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps)
def test_cached_times_equal_fresh_ones_through_any_changes(clinic, program):
    slot_cache().clear()
    db.session.execute(sa.delete(Appointment))
    db.session.execute(sa.delete(TimeOff))
    db.session.commit()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    window = window_from(now)
    for action, who, at in program:
        grid = now.replace(minute=0) + timedelta(hours=2, minutes=30 * at)
        if action == "wait":
            now += timedelta(minutes=at)
        elif action == "off":
            pid = None if who < 0 else clinic[who]
            factories.time_off(grid, grid + timedelta(minutes=45), pid)
        elif action == "cancel":
            consult = db.session.scalars(sa.select(Appointment).limit(1).offset(at % 3)).first()
            if consult is not None:
                consult.status = Status.CANCELLED.value
                db.session.commit()
        else:
            person = db.session.get(Practitioner, clinic[who])
            busy = fresh(now, Interval(grid, grid + timedelta(minutes=1)), person.id)
            if busy and busy[0].start == grid:
                # As a booking does: holds lapsed by now stop counting in the database too.
                expire_lapsed_holds([person.id], now)
                extra = {}
                if action == "hold":
                    extra = dict(
                        status=Status.HELD.value, hold_expires_at=now + timedelta(minutes=at)
                    )
                factories.appointment(person, grid, **extra)
        db.session.remove()
        assert cached(now, window) == fresh(now, window), (action, who, at)
        assert cached(now, window, clinic[1]) == fresh(now, window, clinic[1])


# --- lock order on PostgreSQL -------------------------------------------------------------


@pytest.fixture
def pg_clinic(postgres):
    url = postgres.create("clinic_lock_order")
    migrate(url)
    with running_app(url, "postgresql") as app:
        factories.clinic()
        first, second = factories.practitioner(), factories.practitioner()
        # An update leaves the first practitioner's row after the second's on disk, as
        # bookings soon do: an unordered UPDATE then finds (and locks) them 2, 1.
        db.session.execute(
            sa.text("UPDATE practitioner SET name = name || '' WHERE id = :id"), {"id": first.id}
        )
        db.session.commit()
        yield app, url, first.id, second.id


def test_raising_everyones_version_locks_practitioners_in_the_order_bookings_do(pg_clinic):
    """A booking for any practitioner locks their rows in id order; a closure raising
    everyone's version must too, or the two deadlock (one of them would fail)."""
    app, url, first, second = pg_clinic
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    failures: list[BaseException] = []

    def close_the_clinic():
        with app.app_context():
            try:
                start = factories.next_grid_time(days_ahead=5)
                factories.time_off(start, start + timedelta(hours=2))  # raises everyone's
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)
            finally:
                db.session.remove()

    try:
        with engine.connect() as booking:
            lock = sa.text("SELECT id FROM practitioner WHERE id = :id FOR UPDATE")
            booking.execute(lock, {"id": first})
            closing = threading.Thread(target=close_the_clinic)
            closing.start()
            clock.sleep(0.5)  # the closure is now waiting for a lock
            booking.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
            booking.execute(lock, {"id": second})  # deadlocks if the closure holds the second
            booking.commit()
            closing.join(timeout=30)
    finally:
        engine.dispose()
    assert not closing.is_alive()
    assert failures == []
