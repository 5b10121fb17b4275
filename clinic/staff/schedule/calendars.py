"""Calendar feed addresses: practitioners see and replace their own, admins everyone's."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from clinic.accounts.access import roles_required
from clinic.calendar import feed as feeds
from clinic.core.audit import audit
from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.models import Practitioner, Role
from clinic.staff import bp
from clinic.web.client_address import client_address


def _visible() -> list[Practitioner]:
    stmt = sa.select(Practitioner).order_by(Practitioner.name)
    if current_user.role != Role.ADMIN:
        stmt = stmt.where(Practitioner.id == current_user.practitioner_id)
    return list(db.session.scalars(stmt))


@bp.get("/calendar")
@roles_required(Role.ADMIN.value, Role.PRACTITIONER.value)
def calendars():
    practitioners = _visible()
    urls = {p.id: feeds.feed_url(p) for p in practitioners}
    db.session.commit()  # keeps a secret made on first view
    return render_template("staff/calendars.html", practitioners=practitioners, urls=urls)


@bp.post("/calendar/<int:practitioner_id>/rotate")
@roles_required(Role.ADMIN.value, Role.PRACTITIONER.value)
def rotate_calendar(practitioner_id: int):
    practitioner = next((p for p in _visible() if p.id == practitioner_id), None)
    if practitioner is None:
        abort(404, description="There is no such calendar you can change.")
    feeds.rotate(practitioner)
    audit(
        "calendar_feed_rotated",
        current_user,
        subject=f"practitioner {practitioner.id}",
        now=utc_now(),
        address=client_address(),
    )
    flash(
        f"{practitioner.name}'s calendar has a new address. Subscribe to it again; "
        "the old address no longer works."
    )
    return redirect(url_for("staff.calendars"), code=303)
