"""Who may see what in the staff console (issue: access rules).

Admins see everything. Practitioners see the whole schedule, but intake answers only for their
own patients. The front desk sees the schedule and that a flag exists, never the answers.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from clinic.core.models import Appointment, Role, StaffUser


def roles_required(*roles: str):
    """Signed in (else to the sign-in page) and one of ``roles`` (else 403)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, description="Your role doesn't give access to this page.")
            return view(*args, **kwargs)

        return wrapper

    return decorate


ANY_STAFF = (Role.ADMIN.value, Role.PRACTITIONER.value, Role.FRONTDESK.value)
# Those who run the whole schedule: book for callers, closures, the outbox.
DESK_OR_ADMIN = (Role.ADMIN.value, Role.FRONTDESK.value)


def can_read_intake(user: StaffUser, appointment: Appointment) -> bool:
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.PRACTITIONER and user.practitioner_id == appointment.practitioner_id


def can_act_on(user: StaffUser, appointment: Appointment) -> bool:
    """Cancel, move, mark or annotate: the front desk and admins any consult, a practitioner
    their own."""
    if user.role in (Role.ADMIN, Role.FRONTDESK):
        return True
    return user.role == Role.PRACTITIONER and user.practitioner_id == appointment.practitioner_id
