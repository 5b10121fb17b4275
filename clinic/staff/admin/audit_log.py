"""The audit log for admins: sign-ins, failed sign-ins, readings of intake answers, changes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request

from clinic.accounts.access import roles_required
from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.formatting import parse_zone
from clinic.core.models import AuditEvent, Role, StaffUser
from clinic.core.paging import Page, paginate
from clinic.staff import bp
from clinic.staff.admin.filter_forms import AuditFilterForm
from clinic.staff.listing import BAD_PAGE, page_number

PER_PAGE = 100


def audit_page(action: str | None, staff: str | None, number: int) -> Page:
    """Events, newest first, as (event, staff email or None) rows. ``staff`` is an account id,
    "unknown" (events with no account, e.g. failed sign-ins of unknown emails) or None (all)."""
    base = sa.select(AuditEvent, StaffUser.email).outerjoin(
        StaffUser, StaffUser.id == AuditEvent.staff_user_id
    )
    if action is not None:
        base = base.where(AuditEvent.action == action)
    if staff == "unknown":
        base = base.where(AuditEvent.staff_user_id.is_(None))
    elif staff is not None:
        base = base.where(AuditEvent.staff_user_id == int(staff))
    return paginate(
        base, number, PER_PAGE, order_by=(AuditEvent.at.desc(), AuditEvent.id.desc()), rows=True
    )


@bp.get("/audit")
@roles_required(Role.ADMIN.value)
def audit_log():
    """Who did what and when, newest first, filtered by action and staff member."""
    settings = clinic_settings()
    actions = db.session.scalars(
        sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    ).all()
    staff = db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email)).all()
    form = AuditFilterForm(formdata=request.args)
    form.fill_in(actions, staff)
    number = page_number()
    page, message, status = None, None, 200
    if not form.validate():
        message, status = "Some of the filters need another look: see the messages below.", 422
    elif number is None:
        message, status = BAD_PAGE, 422
    else:
        page = audit_page(
            None if form.action.data == "any" else form.action.data,
            None if form.staff.data == "any" else form.staff.data,
            number,
        )
    params = {"action": form.action.data, "staff": form.staff.data}
    return render_template(
        "staff/audit.html",
        settings=settings,
        zone=parse_zone(settings.timezone),
        form=form,
        page=page,
        params=params,
        message=message,
    ), status
