"""Finding consults for the staff list and its export: a date range, practitioner, status and
a search by patient name or email. Held and expired rows (unfinished bookings) never show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from clinic.core.extensions import db
from clinic.core.models import Appointment, Patient, Status
from clinic.core.paging import Page, paginate
from clinic.scheduling import local_day_window

SHOWN = (
    Status.CONFIRMED.value,
    Status.COMPLETED.value,
    Status.NO_SHOW.value,
    Status.CANCELLED.value,
)


@dataclass(frozen=True)
class ConsultFilters:
    """``first_day`` to ``last_day`` (both included) are local dates in the clinic's zone;
    None means any practitioner or any status; ``search`` is matched literally."""

    first_day: date
    last_day: date
    practitioner_id: int | None = None
    status: str | None = None
    search: str = ""

    @classmethod
    def from_form(cls, form) -> ConsultFilters:
        practitioner, status = form.practitioner.data, form.status.data
        return cls(
            first_day=form.date_from.data,
            last_day=form.date_to.data,
            practitioner_id=None if practitioner == "any" else int(practitioner),
            status=None if status == "any" else status,
            search=form.q.data or "",
        )

    def as_params(self) -> dict[str, str]:
        """The query string that shows these filters again (for page links and the export)."""
        params = {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "practitioner": str(self.practitioner_id or "any"),
            "status": self.status or "any",
        }
        if self.search:
            params["q"] = self.search
        return params

    def describe(self) -> str:
        """For the audit log: the filters, but never the search text (it may name a patient)."""
        return (
            f"from {self.first_day.isoformat()} to {self.last_day.isoformat()}, "
            f"practitioner {self.practitioner_id or 'any'}, status {self.status or 'any'}, "
            f"search {'given' if self.search else 'none'}"
        )


def _matching(filters: ConsultFilters, zone: ZoneInfo) -> sa.Select:
    days = (filters.last_day - filters.first_day).days + 1
    window = local_day_window(filters.first_day, days, zone)
    stmt = (
        sa.select(Appointment)
        .outerjoin(Appointment.patient)
        .where(
            Appointment.starts_at >= window.start,
            Appointment.starts_at < window.end,
            Appointment.status.in_([filters.status] if filters.status else SHOWN),
        )
    )
    if filters.practitioner_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == filters.practitioner_id)
    if filters.search:
        # autoescape: a search for "50%" or "a_b" means those characters, not wildcards.
        stmt = stmt.where(
            sa.or_(
                Patient.name.icontains(filters.search, autoescape=True),
                Patient.email.icontains(filters.search, autoescape=True),
            )
        )
    return stmt


# Patient and practitioner come in the same statement: a page costs the same whatever its size.
_LOADED = (contains_eager(Appointment.patient), joinedload(Appointment.practitioner))
_ORDER = (Appointment.starts_at, Appointment.id)


def consult_page(filters: ConsultFilters, zone: ZoneInfo, number: int, per_page: int) -> Page:
    return paginate(_matching(filters, zone), number, per_page, order_by=_ORDER, options=_LOADED)


def all_consults(filters: ConsultFilters, zone: ZoneInfo) -> list[Appointment]:
    stmt = _matching(filters, zone).options(*_LOADED).order_by(*_ORDER)
    return list(db.session.scalars(stmt))
