"""Alerts to staff about an intake: raised once per kind, each with an owner once acknowledged.

Raising happens inside the intake save's transaction (the caller commits): the alert row and
its emails are written together, so an alert is never lost and never sent twice. An urgent
alert is due ``alert_escalate_minutes`` of office hours after it is raised; one still open
then goes to the admins (``escalate_due``, run by each round of the worker).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import MAX_ROW_ID, begin_write
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.formatting import parse_zone, stored_zone, when_label
from clinic.core.models import (
    URGENT_ALERT_KINDS,
    AlertAction,
    AlertKind,
    Appointment,
    ClinicSettings,
    IntakeAlert,
    Role,
    StaffUser,
    Status,
)
from clinic.notify.outbox import notify_alert_escalated, notify_intake_review, notify_urgent_intake
from clinic.scheduling import add_office_minutes

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
    zone = parse_zone(settings.timezone) or ZoneInfo("UTC")
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


def escalate_due(now: datetime) -> int:
    """Escalate every urgent alert due by ``now`` that nobody has acknowledged; how many.

    Each is marked escalated and every active admin (else the clinic's contact address, else
    the practitioner) gets one email per consult, in one transaction. Several workers may run
    this at once: on PostgreSQL each locks the rows it takes and skips those another holds;
    on SQLite the write lock is taken first.
    """
    due = sa.select(IntakeAlert).where(
        IntakeAlert.kind.in_([k.value for k in URGENT_ALERT_KINDS]),
        IntakeAlert.acknowledged_at.is_(None),
        IntakeAlert.escalated_at.is_(None),
        IntakeAlert.due_at <= now,
    )
    # Most rounds find nothing: look first, so they never take SQLite's write lock from a booking.
    if db.session.scalar(sa.select(due.exists())) is not True:
        db.session.rollback()
        return 0
    begin_write()
    alerts = list(
        db.session.scalars(
            due.order_by(IntakeAlert.id).with_for_update(skip_locked=True, of=IntakeAlert)
        )
    )
    if not alerts:
        db.session.commit()
        return 0
    by_consult: dict[int, list[IntakeAlert]] = defaultdict(list)
    for alert in alerts:
        alert.escalated_at = now
        by_consult[alert.appointment_id].append(alert)
    consults = db.session.scalars(
        sa.select(Appointment)
        .where(Appointment.id.in_(list(by_consult)))
        .options(joinedload(Appointment.practitioner))
    )
    admins = _admin_recipients()
    for appointment in consults:
        recipients = admins or [(appointment.practitioner.email, appointment.practitioner.name)]
        raised_at = min(a.raised_at for a in by_consult[appointment.id])
        notify_alert_escalated(appointment, recipients, raised_at, now)
    db.session.commit()
    return len(alerts)


def _admin_recipients() -> list[tuple[str, str]]:
    """Every active admin's address, or the clinic's contact address when there is no admin."""
    admins = db.session.execute(
        sa.select(StaffUser.email, StaffUser.name)
        .where(StaffUser.role == Role.ADMIN.value, StaffUser.active.is_(True))
        .order_by(StaffUser.id)
    ).all()
    if admins:
        return [(email, name or email) for email, name in admins]
    settings = clinic_settings()
    return [(settings.contact_email, settings.name)] if settings.contact_email else []


class AlertNotFound(ClinicError, LookupError):
    """The consult has no alert with that id."""

    status = 404


class AlertRefused(ClinicError):
    """The alert can't be acknowledged as asked (a plain-language reason)."""

    status = 409


def acknowledge_alert(
    reference: str,
    alert_id: int,
    action: str,
    note: str,
    user: StaffUser,
    now: datetime,
    *,
    address: str,
) -> IntakeAlert:
    """Record that ``user`` took on one of the consult's alerts and what they did; an
    acknowledged alert no longer escalates. Once per alert: a second time changes nothing."""
    if not 0 < alert_id <= MAX_ROW_ID:  # a number no row can have (and SQLite can't bind)
        raise AlertNotFound(alert_id)
    if action not in {a.value for a in AlertAction}:
        raise AlertRefused("Please choose what was done.")
    note = (note or "").strip()
    if len(note) > 500:
        raise AlertRefused("Please keep the note under 500 characters.")
    begin_write()
    alert = db.session.scalar(
        sa.select(IntakeAlert)
        .join(IntakeAlert.appointment)
        .where(IntakeAlert.id == alert_id, Appointment.reference == reference)
        .with_for_update(of=IntakeAlert)  # against a second acknowledgement or an escalation
    )
    if alert is None or alert.appointment.status in (Status.HELD, Status.EXPIRED):
        db.session.rollback()
        raise AlertNotFound(alert_id)
    if alert.acknowledged_at is not None:
        who = alert.acknowledged_by
        name = (who.name or who.email) if who else "a former staff member"
        when = when_label(alert.acknowledged_at, stored_zone(clinic_settings().timezone))
        db.session.rollback()
        raise AlertRefused(
            f"This alert was already acknowledged by {name} on {when}; nothing changed."
        )
    alert.acknowledged_at = now
    alert.acknowledged_by = user
    alert.action = action
    alert.note = note
    # The alert's id, never its kind: the audit log outlives an erasure, and the kind says why.
    audit(
        "alert_acknowledged",
        user,
        subject=f"consult {alert.appointment.reference}",
        detail=f"alert {alert.id}, {action}",
        now=now,
        commit=False,
        address=address,
    )
    db.session.commit()
    return alert
