"""The audit log: who did what, when, and from which address. Never health."""

from __future__ import annotations

from datetime import datetime

from clinic.core.database import begin_write
from clinic.core.extensions import db
from clinic.core.models import AuditEvent, StaffUser


def audit(
    action: str,
    user: StaffUser | None,
    *,
    subject: str = "",
    detail: str = "",
    now: datetime,
    address: str,
    commit: bool = True,
) -> None:
    """Record an event. Subjects and details name things (a consult's reference), never health.

    ``address`` is where the request came from (the web layer's ``client_address()``), ""
    for a command run on the server.
    With ``commit`` the event is its own transaction unless the caller has changes pending
    (then the caller must have begun it with ``begin_write``).
    """
    session = db.session()
    if commit and not (session.new or session.dirty or session.deleted):
        begin_write()  # after a page's reads: take SQLite's write lock before writing
    db.session.add(
        AuditEvent(
            at=now,
            staff_user_id=user.id if user is not None else None,
            action=action,
            subject=subject,
            address=address[:64],
            detail=detail[:300],
        )
    )
    if commit:
        db.session.commit()
