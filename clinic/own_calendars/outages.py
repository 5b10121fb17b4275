"""A practitioner's own calendar that stopped working, told to the people who can mend it:
the practitioner and the clinic's admins, once per outage, by email through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.links import uid_domain
from clinic.core.models import CalendarConnection, Practitioner, Role, StaffUser
from clinic.notify.outbox import notify_calendar_failing

# A calendar failing this long is emailed about, once: a blip that the next round mends is not.
OUTAGE_GRACE = timedelta(minutes=15)


def report_outage(connection: CalendarConnection, now: datetime) -> None:
    """Email the practitioner and the admins (in the caller's transaction) that the calendar
    stopped working: which one and why, never its address."""
    practitioner = db.session.get(Practitioner, connection.practitioner_id)
    assert practitioner is not None
    admins = db.session.execute(
        sa.select(StaffUser.email, StaffUser.name)
        .where(StaffUser.role == Role.ADMIN.value, StaffUser.active.is_(True))
        .order_by(StaffUser.id)
    ).all()
    recipients = {practitioner.email.lower(): practitioner.name}
    for email, name in admins:
        recipients.setdefault(email.lower(), name or email)
    assert connection.failing_since is not None
    payload = {
        "label": connection.label,
        "practitioner": practitioner.name,
        "since": connection.failing_since.isoformat(),
        "error": connection.last_error,
        "push": bool(connection.push_calendar),
    }
    notify_calendar_failing(list(recipients.items()), payload, uid_domain(), now)
