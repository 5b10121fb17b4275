"""Alerts to staff about an intake: raised once per kind, each with an owner once acknowledged.

Raising happens inside the intake save's transaction (the caller commits): the alert row and
its emails are written together, so an alert is never lost and never sent twice. An urgent
alert is due ``alert_escalate_minutes`` of office hours after it is raised.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from clinic.extensions import db
from clinic.formatting import parse_zone
from clinic.models import (
    URGENT_ALERT_KINDS,
    AlertKind,
    Appointment,
    ClinicSettings,
    IntakeAlert,
)
from clinic.notify.outbox import notify_intake_review, notify_urgent_intake
from clinic.scheduling import add_office_minutes
from clinic.settings import clinic_settings

_WEEKDAYS = {str(day): day for day in range(7)}


def raise_alert(appointment: Appointment, kind: AlertKind, now: datetime) -> IntakeAlert | None:
    """Open an alert of ``kind`` for this consult unless one was ever raised; None if it was.

    An urgent kind marks the consult urgent, is due for escalation after the clinic's office
    minutes, and emails the practitioner and the front desk at once; any other kind emails
    them that the intake needs review soon. The emails name the consult, never the answers.
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
        appointment=appointment,
        kind=kind.value,
        level="red" if urgent else "amber",
        raised_at=now,
        due_at=escalation_due(clinic_settings(), now) if urgent else None,
    )
    db.session.add(alert)
    if urgent:
        appointment.urgent = True
        notify_urgent_intake(appointment, now)
    else:
        notify_intake_review(appointment, now)
    return alert


def office_days(text: str) -> frozenset[int]:
    """The weekdays (Monday=0) in a setting such as "0,1,2,3,4"; anything else is ignored."""
    return frozenset(_WEEKDAYS[p.strip()] for p in text.split(",") if p.strip() in _WEEKDAYS)


def escalation_due(settings: ClinicSettings, raised_at: datetime) -> datetime:
    """When an urgent alert raised at ``raised_at`` escalates: the clinic's escalation minutes
    counted in its office hours, or on the clock when the settings give no office hours."""
    minutes = max(settings.alert_escalate_minutes, 0)
    zone = parse_zone(settings.timezone) or parse_zone("UTC")
    try:
        return add_office_minutes(
            raised_at,
            minutes,
            zone,
            office_days(settings.office_days),
            settings.office_opens,
            settings.office_closes,
        )
    except ValueError:  # no office days, or hours that close before they open
        return raised_at + timedelta(minutes=minutes)
