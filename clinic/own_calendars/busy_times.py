"""An iCalendar file read for busy times: pure, no database, no network.

Recurring series are expanded (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) by
``recurring-ical-events``; ``icalendar`` knows IANA and Windows zone names ("Pacific Standard
Time") and the feed's own VTIMEZONE blocks. An all-day event keeps the whole day busy in the
practitioner's zone; a floating time is read in the feed's X-WR-TIMEZONE (Google writes it)
or else the practitioner's zone. Free (TRANSP:TRANSPARENT) and cancelled events are not
busy, and neither are the consults this product wrote itself (their UIDs end in its domain).
Nothing of an event is kept but its start, its end and a hash of its UID and occurrence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]

MAX_EVENTS = 20_000  # events and overrides in one calendar, before expansion
MAX_BUSY = 5_000  # occurrences within the window: some 14 a day for a year
# Events come in order of their start as the feed writes it; a floating or all-day one read
# in a zone can move by up to a day, so reading stops a day past the window.
_ZONE_SLACK = timedelta(days=1)


class FeedError(ValueError):
    """The file can't be read as a calendar; the message says why in plain words."""


@dataclass(frozen=True, order=True)
class Busy:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    key: str  # a hash of the event's UID and occurrence: opaque, stable across reads


@dataclass
class Reading:
    busy: list[Busy]
    unknown_zones: set[str] = field(default_factory=set)  # read in the practitioner's zone


def read_busy(
    ics: bytes | str,
    window_start: datetime,
    window_end: datetime,
    zone: ZoneInfo,
    own_uid_suffix: str = "",
    own_uids: frozenset[str] = frozenset(),
) -> Reading:
    """The busy times of ``ics`` overlapping the window, sorted, each in UTC. Events whose
    UID ends in ``own_uid_suffix`` or is one of ``own_uids`` are this site's consults."""
    return read_busy_in([ics], window_start, window_end, zone, own_uid_suffix, own_uids)


def read_busy_in(
    files: list[bytes | str],
    window_start: datetime,
    window_end: datetime,
    zone: ZoneInfo,
    own_uid_suffix: str = "",
    own_uids: frozenset[str] = frozenset(),
) -> Reading:
    """The busy times of several iCalendar files read as one calendar (a CalDAV calendar
    holds one file per event series)."""
    raws = [ics.encode() if isinstance(ics, str) else ics for ics in files]
    if sum(raw.upper().count(b"BEGIN:VEVENT") for raw in raws) > MAX_EVENTS:
        raise FeedError(f"The calendar has more than {MAX_EVENTS:,} events.")  # before parsing
    if not raws:
        return Reading([])
    calendar, *others = (_parse(raw) for raw in raws)
    floating_zone = _feed_zone(calendar) or zone
    for other in others:  # their times are zoned already: each was parsed with its VTIMEZONEs
        calendar.subcomponents += other.subcomponents
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    # An event without a start can't be placed (and stops the expansion): leave it out.
    calendar.subcomponents = [c for c in calendar.subcomponents if c.name != "VEVENT"] + [
        e for e in events if "DTSTART" in e
    ]
    unknown = _unknown_zones(events)
    busy: set[Busy] = set()
    seen = 0
    try:
        # Lazily, in order of start: a series repeating every second costs no more than the
        # occurrences read before the cap or the window's end stops the reading.
        occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).after(window_start)
        for event in occurrences:
            starts = _utc(event.start, floating_zone, zone)
            if starts >= window_end + _ZONE_SLACK:  # no later event can start in the window
                break
            seen += 1
            if seen > MAX_BUSY:
                raise FeedError(f"The calendar has more than {MAX_BUSY:,} events in the window.")
            if _not_busy(event, own_uid_suffix, own_uids):
                continue
            ends = _utc(event.end, floating_zone, zone)
            if ends <= starts or ends <= window_start or starts >= window_end:
                continue
            busy.add(Busy(starts, ends, _key(event, starts)))
    except FeedError:
        raise
    except Exception as error:  # noqa: BLE001 - a library's surprise is the feed's fault
        raise FeedError(f"The calendar could not be read ({type(error).__name__}).") from None
    return Reading(sorted(busy), unknown)


def _parse(ics: bytes | str) -> icalendar.Calendar:
    try:
        calendar = icalendar.Calendar.from_ical(ics)
    except Exception:  # noqa: BLE001 - icalendar raises ValueError, and others on odd input
        raise FeedError("This is not a calendar (iCalendar) file.") from None
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise FeedError("This is not a calendar (iCalendar) file.")
    return calendar


def _feed_zone(calendar: icalendar.Calendar) -> ZoneInfo | None:
    """The X-WR-TIMEZONE zone, taken out of the calendar: ``recurring-ical-events`` would
    otherwise apply it itself, to zoned times too."""
    name = calendar.pop("X-WR-TIMEZONE", None)
    try:
        return ZoneInfo(str(name)) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _unknown_zones(events: list[icalendar.cal.Component]) -> set[str]:
    """TZIDs that named no zone icalendar knows: their times come back floating."""
    unknown = set()
    for event in events:
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            prop = event.get(name)
            value = getattr(prop, "dt", None)
            if isinstance(value, datetime) and value.tzinfo is None and "TZID" in prop.params:
                unknown.add(str(prop.params["TZID"])[:60])
    return unknown


def _not_busy(
    event: icalendar.cal.Component, own_uid_suffix: str, own_uids: frozenset[str]
) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return True
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return True
    uid = str(event.get("UID", ""))
    return uid in own_uids or (bool(own_uid_suffix) and uid.endswith(own_uid_suffix))


def _utc(value: date | datetime, floating: ZoneInfo, zone: ZoneInfo) -> datetime:
    """All-day: midnight in the practitioner's zone; floating: the feed's zone."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=floating).astimezone(UTC)
    return value.astimezone(UTC)


def _key(event: icalendar.cal.Component, starts: datetime) -> str:
    uid = str(event.get("UID", ""))
    return hashlib.sha256(f"{uid}\n{starts.isoformat()}".encode()).hexdigest()[:32]
