"""Intake alerts nobody has acknowledged yet, for the schedule pages and the consult list.

Each read is one query, whatever the number of consults or alerts. Holds and lapsed holds
never show (staff cannot open them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from clinic.core.extensions import db
from clinic.core.models import Appointment, IntakeAlert, Status

# Consults whose alerts staff see: every one that has a page (never holds).
SHOWN = (
    Status.CONFIRMED.value,
    Status.COMPLETED.value,
    Status.NO_SHOW.value,
    Status.CANCELLED.value,
)


@dataclass(frozen=True)
class ConsultAlerts:
    """One consult and its open alerts, oldest first."""

    appointment: Appointment
    alerts: tuple[IntakeAlert, ...]

    @property
    def urgent(self) -> bool:
        return any(a.level == "red" for a in self.alerts)

    @property
    def first_raised(self) -> datetime:
        return self.alerts[0].raised_at


def open_alerts(practitioner_id: int | None = None) -> list[ConsultAlerts]:
    """Consults with open alerts (one practitioner's, or all): those with an urgent alert
    first, then the longest waiting."""
    stmt = (
        sa.select(IntakeAlert)
        .join(IntakeAlert.appointment)
        .where(IntakeAlert.acknowledged_at.is_(None), Appointment.status.in_(SHOWN))
        .options(
            contains_eager(IntakeAlert.appointment).joinedload(Appointment.patient),
            contains_eager(IntakeAlert.appointment).joinedload(Appointment.practitioner),
        )
        .order_by(IntakeAlert.raised_at, IntakeAlert.id)
    )
    if practitioner_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == practitioner_id)
    by_consult: dict[int, list[IntakeAlert]] = {}
    for alert in db.session.scalars(stmt).unique():
        by_consult.setdefault(alert.appointment_id, []).append(alert)
    entries = [ConsultAlerts(found[0].appointment, tuple(found)) for found in by_consult.values()]
    return sorted(entries, key=lambda e: (not e.urgent, e.first_raised))


def open_alert_kinds(appointment_ids: Iterable[int]) -> dict[int, list[str]]:
    """The kinds of open alert each of these consults has (consults with none left out)."""
    ids = list(appointment_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(IntakeAlert.appointment_id, IntakeAlert.kind)
        .where(IntakeAlert.appointment_id.in_(ids), IntakeAlert.acknowledged_at.is_(None))
        .order_by(IntakeAlert.raised_at, IntakeAlert.id)
    )
    kinds: dict[int, list[str]] = {}
    for appointment_id, kind in rows:
        kinds.setdefault(appointment_id, []).append(kind)
    return kinds
