"""What the staff console's long lists share: the page asked for and a compact time stamp."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import request

from clinic.core.formatting import time_label, zone_abbr
from clinic.staff import bp

LAST_PAGE = 100_000  # far beyond any real list; keeps OFFSET sane


def page_number() -> int | None:
    """The ``page`` query argument (1 when absent), or None when it isn't a sensible page."""
    raw = request.args.get("page", "1").strip()
    if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= LAST_PAGE:
        return None
    return int(raw)


BAD_PAGE = f"The page must be a whole number from 1 to {LAST_PAGE:,}."


@bp.app_template_filter("stamp_label")
def stamp_label(moment: datetime, zone: ZoneInfo) -> str:
    """'Tue 3 Dec 2026, 2:00 PM EST': short enough for a table, with its zone."""
    local = moment.astimezone(zone)
    return (
        f"{local:%a} {local.day} {local:%b %Y}, {time_label(local, zone)} {zone_abbr(zone, local)}"
    )
