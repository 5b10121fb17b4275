"""Time-zone names and how times are written for people ("Tuesday 3 December, 2:00 PM")."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask

from clinic.core.clock import utc_now

# Unicode categories of control and invisible formatting characters (CR, LF, NUL, RLO...).
CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Canonical IANA zone names offered to people: Area/City plus UTC."""
    names = {
        n
        for n in available_timezones()
        if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    }
    return tuple(sorted(names | {"UTC"}))


@lru_cache(maxsize=1)
def _offered() -> frozenset[str]:
    return frozenset(zone_names())


def parse_zone(name: str | None) -> ZoneInfo | None:
    """The zone for one of ``zone_names()``, or None for anything else (never raises)."""
    if not name or name not in _offered():
        return None
    return ZoneInfo(name)


def stored_zone(name: str) -> ZoneInfo:
    """The zone of a name stored once ``parse_zone`` accepted it (the clinic's settings, a
    consult's patient zone); ValueError for one that is not among ``zone_names()``."""
    zone = parse_zone(name)
    if zone is None:
        raise ValueError(f"{name!r} is not a known time zone")
    return zone


def day_label(moment: datetime | date, zone: ZoneInfo | None = None) -> str:
    """'Tuesday 3 December'."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(zone) if zone else moment
    return f"{moment:%A} {moment.day} {moment:%B}"


@lru_cache(maxsize=16_384)
def time_label(moment: datetime, zone: ZoneInfo) -> str:
    """'2:00 PM'. Kept, since the booking pages label the same few hundred times again and
    again (equal instants give equal labels, whatever zone they carry)."""
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    return f"{hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def zone_abbr(zone: ZoneInfo, at: datetime | None = None) -> str:
    """'EST', or 'UTC+05:30' where the zone has no abbreviation."""
    local = (at or utc_now()).astimezone(zone)
    abbr = local.tzname() or ""
    if not abbr or abbr[0] in "+-":
        offset = local.strftime("%z")
        abbr = f"UTC{offset[:3]}:{offset[3:]}"
    return abbr


def zone_label(zone: ZoneInfo, at: datetime | None = None) -> str:
    """'America/New_York (EST)', or 'Asia/Kolkata (UTC+05:30)' where no abbreviation exists."""
    return f"{zone.key} ({zone_abbr(zone, at)})"


def short_when(moment: datetime, zone: ZoneInfo) -> str:
    """'Tuesday 3 December, 2:00 PM EST': for subject lines."""
    return f"{day_label(moment, zone)}, {time_label(moment, zone)} {zone_abbr(zone, moment)}"


def when_label(moment: datetime, zone: ZoneInfo) -> str:
    """'Tuesday 3 December 2026, 2:00 PM America/New_York (EST)': the full, unambiguous time."""
    local = moment.astimezone(zone)
    return f"{day_label(local)} {local.year}, {time_label(local, zone)} {zone_label(zone, local)}"


def duration_label(minutes: int) -> str:
    """'24 hours', '1 hour', '90 minutes'."""
    if minutes % 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    hours = minutes // 60
    return "1 hour" if hours == 1 else f"{hours} hours"


def since_label(then: datetime, now: datetime) -> str:
    """How long ago ``then`` was, in the largest whole unit: '5 minutes ago', '3 days ago'."""
    minutes = max(int((now - then).total_seconds() // 60), 0)
    if minutes < 1:
        return "just now"
    size, unit = next(
        (s, u) for s, u in ((1440, "day"), (60, "hour"), (1, "minute")) if minutes >= s
    )
    count = minutes // size
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        day_label=day_label,
        time_label=time_label,
        zone_label=zone_label,
        when_label=when_label,
        short_when=short_when,
        duration_label=duration_label,
        since_label=since_label,
    )
