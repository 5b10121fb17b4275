"""The free times patients and staff are offered, worked out by the scheduling core from what
``clinic.availability.loading`` reads (in a fixed number of statements), and kept by week in
the process's cache (``clinic.availability.slot_cache``)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app

from clinic.availability.loading import ROWS_MARGIN, availabilities, load, load_each
from clinic.availability.slot_cache import SlotCache
from clinic.core.clinic_settings import NotSetUp, clinic_settings
from clinic.core.extensions import db
from clinic.core.models import (
    ClinicSettings,
    ConsultType,
    Practitioner,
)
from clinic.scheduling import (
    Availability,
    Interval,
    OpenTime,
    Rules,
    by_window,
    first_available,
    nearest,
)
from clinic.scheduling.slots import slot_at

DEFAULT_CONSULT = "free-consult"
_KIND_READ, _SETTINGS_READ = "clinic.consult_type", "clinic.settings"
_WEEK = timedelta(days=7)
_MONDAY = datetime(2001, 1, 1, tzinfo=UTC)


def consult_type() -> ConsultType:
    kept = db.session.info.get(_KIND_READ)  # read with the practitioners, in this session
    if kept is not None and kept in db.session and kept.slug == DEFAULT_CONSULT:
        return kept
    found = db.session.scalar(sa.select(ConsultType).where(ConsultType.slug == DEFAULT_CONSULT))
    if found is None:
        raise NotSetUp("The free consult has not been set up yet.")
    return found


def rules_for(settings: ClinicSettings, kind: ConsultType) -> Rules:
    return Rules(
        duration=timedelta(minutes=kind.duration_minutes),
        step=timedelta(minutes=settings.slot_step_minutes),
        buffer=timedelta(minutes=settings.buffer_minutes),
        min_notice=timedelta(minutes=settings.min_notice_minutes),
        horizon=timedelta(days=settings.horizon_days),
        daily_cap=settings.daily_cap,
    )


def active_practitioners(practitioner_id: int | None = None) -> list[Practitioner]:
    """The active practitioners (or the one asked for, if active), by id.

    Every page of free times also needs the settings and the free consult's type: they are
    read in the same statement (three statements were a third of such a request), the settings
    then found by ``clinic_settings()`` in the session, and the type by ``consult_type()``.
    """
    params = {} if practitioner_id is None else {"practitioner_id": practitioner_id}
    rows = db.session.execute(_joined_read(practitioner_id is not None), params).all()
    if not rows:  # not set up yet: the practitioners alone
        stmt = sa.select(Practitioner).where(Practitioner.active).order_by(Practitioner.id)
        if practitioner_id is not None:
            stmt = stmt.where(Practitioner.id == practitioner_id)
        return list(db.session.scalars(stmt))
    # Held here: the session's identity map keeps only objects referenced elsewhere.
    db.session.info[_KIND_READ], db.session.info[_SETTINGS_READ] = rows[0][1], rows[0][2]
    return [row[0] for row in rows if row[0] is not None]


@cache
def _joined_read(one: bool) -> sa.Select:
    """The statement of ``active_practitioners``, built once: building it on every request
    cost nearly as much as running it."""
    joined: sa.ColumnElement[bool] = Practitioner.active.is_(True)
    if one:
        joined = sa.and_(joined, Practitioner.id == sa.bindparam("practitioner_id"))
    return (
        sa.select(Practitioner, ConsultType, ClinicSettings)
        .select_from(ClinicSettings)
        .join(ConsultType, ConsultType.slug == DEFAULT_CONSULT)
        .outerjoin(Practitioner, joined)
        .where(ClinicSettings.id == 1)
        .order_by(Practitioner.id)
    )


def schedule_proof(practitioners: list[Practitioner]) -> tuple:
    """All that a page of free times depends on besides its address and the clock, as read in
    this request by ``active_practitioners``: each practitioner's id, name, zone and schedule
    version (raised with any change to their free times), and the values of the settings and
    of the free consult's type. Two equal proofs give equal free times at the same moment."""
    practitioner_values = tuple(
        (p.id, p.name, p.timezone, p.schedule_version) for p in practitioners
    )
    return practitioner_values, _values(clinic_settings()), _values(consult_type())


def _values(row) -> tuple:
    model = type(row)
    if model not in _COLUMNS:
        _COLUMNS[model] = tuple(column.key for column in sa.inspect(model).column_attrs)
    return tuple(getattr(row, key) for key in _COLUMNS[model])


_COLUMNS: dict[type, tuple[str, ...]] = {}


def open_times(
    practitioners: list[Practitioner],
    practitioner_id: int | None,
    window: Interval,
    now: datetime,
    ignore_appointment: int | None = None,
    kind: ConsultType | None = None,
) -> list[OpenTime]:
    """Free start times in ``window`` for one of ``practitioners``, or for any of them, for a
    consult of ``kind`` (by default the free consult, read here).

    Served from the process's cache while nothing they depend on has changed
    (``clinic.availability.slot_cache``): each practitioner's times a week at a time, from
    which any window is cut. Bookings check afresh under the lock.
    """
    if ignore_appointment is not None:
        if practitioner_id is not None:
            practitioners = [p for p in practitioners if p.id == practitioner_id]
        rules = rules_for(clinic_settings(), kind or consult_type())
        return _moving(practitioners, rules, window, now, ignore_appointment)
    return kept_open_times(practitioners, practitioner_id, window, now, kind)[0]


def kept_open_times(
    practitioners: list[Practitioner],
    practitioner_id: int | None,
    window: Interval,
    now: datetime,
    kind: ConsultType | None = None,
) -> tuple[list[OpenTime], datetime]:
    """``open_times``, and the moment until which they stay as they are while no schedule
    version changes: until the first kept week they were cut from expires (a hold lapses, or
    the cache's ``max_age`` passes), or the first of them comes inside the minimum notice."""
    if practitioner_id is not None:
        practitioners = [p for p in practitioners if p.id == practitioner_id]
    rules = rules_for(clinic_settings(), kind or consult_type())
    earliest = max(window.start, now + rules.min_notice)
    before = min(window.end, now + rules.horizon + timedelta(microseconds=1))
    if not practitioners or earliest >= before:
        return [], now + slot_cache().max_age
    cache = slot_cache()
    weeks = _weeks(earliest, before)
    pairs = [(p, week) for week in weeks for p in practitioners]

    def compute(missing: list[int]) -> list[tuple[list[OpenTime], datetime | None]]:
        """The times of each (practitioner, week) of ``pairs[i]`` for i in ``missing``, their
        rows read together (as many statements for five practitioners as for one)."""
        people = list({pairs[i][0].id: pairs[i][0] for i in missing}.values())
        span = Interval(
            min(pairs[i][1].start for i in missing), max(pairs[i][1].end for i in missing)
        )
        avails, lapses = load_each(people, span, now)
        weekly: dict[int, Availability] = {}
        for av in avails:  # each week gets the rows that reading it alone would have read
            asked = [i for i in missing if pairs[i][0].id == av.practitioner_id]
            cut = by_window(av, [pairs[i][1] for i in asked], ROWS_MARGIN)
            weekly.update(zip(asked, cut, strict=True))
        return [
            (first_available([weekly[i]], rules, pairs[i][1], now), lapses.get(pairs[i][0].id))
            for i in missing
        ]

    keys: list[Hashable] = [(rules, *_versions([p]), week.start) for p, week in pairs]
    parts = cache.entries(keys, now, compute)
    found: list[OpenTime] = []
    until = min(part.valid_until for part in parts)
    for n, week in enumerate(weeks):
        each = parts[n * len(practitioners) : (n + 1) * len(practitioners)]
        key = ("merged", rules, _versions(practitioners), week.start)
        entry = each[0] if len(each) == 1 else cache.merged(key, each)
        found += entry.between(earliest, before)
    if found:  # offered while now <= its start - the notice
        until = min(until, found[0].start - rules.min_notice + timedelta(microseconds=1))
    return found, until


def _moving(
    practitioners: list[Practitioner],
    rules: Rules,
    window: Interval,
    now: datetime,
    moving: int,
) -> list[OpenTime]:
    """The times a consult being moved can move to: its own window, kept under its id."""
    key = (rules, window, moving, _versions(practitioners))

    def compute() -> tuple[list[OpenTime], datetime | None]:
        avails, next_lapse = load(practitioners, window, now, moving)
        return first_available(avails, rules, window, now), next_lapse

    return slot_cache().times(key, now, rules.min_notice, compute)


def _weeks(start: datetime, end: datetime) -> list[Interval]:
    """The weeks (UTC, Monday to Monday) that ``[start, end)`` touches: free times are worked
    out and kept a practitioner's week at a time, so that any window, in any zone, is cut from
    kept weeks, and a cold one costs about as much as the window asked."""
    first = _MONDAY + (start - _MONDAY) // _WEEK * _WEEK
    weeks = []
    while first < end:
        weeks.append(Interval(first, first + _WEEK))
        first += _WEEK
    return weeks


def _versions(practitioners: list[Practitioner]) -> tuple:
    return tuple((p.id, p.timezone, p.schedule_version) for p in practitioners)


def slot_cache() -> SlotCache:
    """This app's cache (one per app, so each test's app starts with an empty one)."""
    return current_app.extensions["clinic.slot_cache"]


def why_not(avails: list[Availability], rules: Rules, start: datetime, now: datetime) -> str | None:
    """Why nobody can take ``start`` (inside the bookable window): None when it is taken, by
    a consult or by a busy time in the practitioner's own calendar (it was offered before)."""
    for av in avails:
        unbooked = replace(av, busy=(), external=())
        uncapped = Rules(rules.duration, rules.step, rules.buffer, rules.min_notice, rules.horizon)
        if slot_at(unbooked, uncapped, start, now) is not None:
            return None
    return "That is not one of the times we offer; please choose a time from the list."


def nearby_times(
    practitioner_id: int | None,
    start: datetime,
    now: datetime,
    rules: Rules,
    avails: list[Availability] | None = None,
) -> list[OpenTime]:
    window = Interval(max(now, start - timedelta(days=1)), start + timedelta(days=2))
    if avails is None:
        avails = availabilities(active_practitioners(practitioner_id), window, now)
    return nearest(first_available(avails, rules, window, now), start, 3)
