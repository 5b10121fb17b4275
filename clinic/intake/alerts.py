"""Alerts to staff about an intake: raised once per kind, each with an owner once acknowledged.

Raising happens inside the intake save's transaction (the caller commits): the alert row and
its emails are written together, so an alert is never lost and never sent twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from clinic.extensions import db
from clinic.models import URGENT_ALERT_KINDS, AlertKind, Appointment, IntakeAlert
from clinic.notify.outbox import notify_urgent_intake


def raise_alert(appointment: Appointment, kind: AlertKind, now: datetime) -> IntakeAlert | None:
    """Open an alert of ``kind`` for this consult unless one was ever raised; None if it was.

    An urgent kind marks the consult urgent and emails the practitioner and the front desk
    (the email names the consult, never the answers).
    """
    existing = db.session.scalar(
        sa.select(IntakeAlert).where(
            IntakeAlert.appointment_id == appointment.id, IntakeAlert.kind == kind.value
        )
    )
    if existing is not None:
        return None
    urgent = kind in URGENT_ALERT_KINDS
    alert = IntakeAlert(
        appointment=appointment, kind=kind.value, level="red" if urgent else "amber", raised_at=now
    )
    db.session.add(alert)
    if urgent:
        appointment.urgent = True
        notify_urgent_intake(appointment, now)
    return alert
