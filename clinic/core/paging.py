"""Long lists a page at a time: one count and one page of rows, however long the list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from clinic.core.extensions import db


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
