"""What the staff console's long lists share: pages of rows and a compact time stamp."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import request

from clinic.extensions import db
from clinic.formatting import time_label, zone_abbr
from clinic.staff import bp

LAST_PAGE = 100_000  # far beyond any real list; keeps OFFSET sane


@dataclass(frozen=True)
class Page:
    """One page of ``items``; ``number`` counts from 1, ``total`` counts every matching row."""

    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_shown(self) -> int:
        return (self.number - 1) * self.per_page + 1

    @property
    def last_shown(self) -> int:
        return self.first_shown + len(self.items) - 1

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def paginate(
    base: sa.Select, number: int, per_page: int, *, order_by, options=(), rows: bool = False
) -> Page:
    """Count ``base``, then fetch page ``number`` of it in ``order_by`` with loader ``options``.

    Two statements, however many rows. ``rows`` returns whole result rows (for a select of
    several columns) rather than the first column's values.
    """
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(base.order_by(None).subquery())
    )
    stmt = (
        base.options(*options).order_by(*order_by).limit(per_page).offset((number - 1) * per_page)
    )
    result = db.session.execute(stmt)
    items = list(result.all() if rows else result.scalars())
    return Page(items=items, number=number, per_page=per_page, total=total or 0)


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
