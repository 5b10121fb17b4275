"""The email outbox for admins and the front desk: what is waiting, what failed and why, and
sending a failed message again. Email bodies are never shown: they carry the manage link."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from clinic.accounts.access import DESK_OR_ADMIN, roles_required
from clinic.accounts.services import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.clock import utc_now
from clinic.core.database import begin_write
from clinic.core.extensions import db
from clinic.core.formatting import parse_zone
from clinic.core.models import OutboxMessage, OutboxStatus, StaffUser
from clinic.core.paging import Page, paginate
from clinic.staff import bp
from clinic.staff.filter_forms import OutboxFilterForm
from clinic.staff.listing import BAD_PAGE, page_number

PER_PAGE = 50

# Failed messages need someone; pending ones may be stuck. Both come before the rest.
_ATTENTION = sa.case(
    (OutboxMessage.status == OutboxStatus.FAILED.value, 0),
    (OutboxMessage.status == OutboxStatus.PENDING.value, 1),
    (OutboxMessage.status == OutboxStatus.SENDING.value, 2),
    else_=3,
)


class ResendRefused(Exception):
    """Why a message cannot be sent again (it went out, or is not waiting after a failure)."""


def can_resend(message: OutboxMessage) -> bool:
    """Failed for good, or pending after a failed attempt (waiting for its next try), and
    still describing the consult as it is (invariant 4: an old invite must not follow a newer
    one)."""
    waiting = message.status == OutboxStatus.FAILED or (
        message.status == OutboxStatus.PENDING and message.attempts > 0
    )
    return waiting and not is_superseded(message)


def is_superseded(message: OutboxMessage) -> bool:
    """The consult has changed (moved or cancelled) since this message was written."""
    appointment = message.appointment
    if appointment is None or "sequence" not in message.payload:
        return False
    return int(message.payload["sequence"]) < appointment.sequence


SUPERSEDED = (
    "The consult has changed since that email was written, and a newer email about it "
    "replaces it, so it can't be resent."
)


_REFUSALS = {
    OutboxStatus.SENT: "That email was already sent, so it can't be resent.",
    OutboxStatus.DROPPED: "That email was dropped as no longer wanted, so it can't be resent.",
    OutboxStatus.LOGGED: "That email was written to the log (no mail server), so it can't be "
    "resent.",
    OutboxStatus.SENDING: "That email is being sent right now.",
    OutboxStatus.PENDING: "That email is already waiting to be sent for the first time.",
}


def outbox_page(status: str | None, number: int) -> Page:
    """Messages with ``status`` (None: all, failed and pending first), newest first."""
    base = sa.select(OutboxMessage)
    if status is not None:
        base = base.where(OutboxMessage.status == status)
    return paginate(
        base,
        number,
        PER_PAGE,
        order_by=(_ATTENTION, OutboxMessage.created_at.desc(), OutboxMessage.id.desc()),
        options=(joinedload(OutboxMessage.appointment),),
    )


def resend(message_id: int, user: StaffUser, now: datetime) -> OutboxMessage | None:
    """Make a failed message due at ``now`` with its attempts reset (its last error stays until
    it is sent). None if there is no such message; ``ResendRefused`` if it can't be resent.

    The row is locked while checked and changed, so a worker never has it at the same time.
    """
    begin_write()
    message = db.session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if message is None or not can_resend(message):
        db.session.rollback()
        if message is None:
            return None
        if is_superseded(message):
            raise ResendRefused(SUPERSEDED)
        raise ResendRefused(_REFUSALS[OutboxStatus(message.status)])
    was = f"{message.status} after {message.attempts} attempts"
    message.status = OutboxStatus.PENDING.value
    message.attempts = 0
    message.next_attempt_at = now
    reference = message.appointment.reference if message.appointment else "none"
    audit(
        "outbox_resend",
        user,
        subject=f"message {message.id}",
        detail=f"{message.kind} to the {message.audience}, consult {reference}; was {was}",
        now=now,
        commit=False,
    )
    db.session.commit()
    return message


def _render(form: OutboxFilterForm, page: Page | None, message: str | None, status: int = 200):
    settings = clinic_settings()
    return render_template(
        "staff/outbox.html",
        settings=settings,
        zone=parse_zone(settings.timezone),
        form=form,
        page=page,
        message=message,
        can_resend=can_resend,
    ), status


def _status_filter(form: OutboxFilterForm) -> str | None:
    return None if form.status.data == "any" else form.status.data


@bp.get("/outbox")
@roles_required(*DESK_OR_ADMIN)
def outbox():
    """Every email in the outbox with its delivery state; failed and pending first."""
    form = OutboxFilterForm(formdata=request.args)
    number = page_number()
    if not form.validate():
        return _render(form, None, "Please choose one of the statuses listed.", 422)
    if number is None:
        return _render(form, None, BAD_PAGE, 422)
    return _render(form, outbox_page(_status_filter(form), number), None)


@bp.post("/outbox/<int:message_id>/resend")
@roles_required(*DESK_OR_ADMIN)
def resend_message(message_id: int):
    """Send a failed message again now (audited); refused with 409 once it has gone out."""
    try:
        message = resend(message_id, current_user, utc_now())
    except ResendRefused as refused:
        form = OutboxFilterForm(formdata=request.args)
        status = _status_filter(form) if form.validate() else None
        return _render(form, outbox_page(status, 1), str(refused), 409)
    if message is None:
        abort(404, description="There is no such message in the outbox.")
    flash(
        f"The {message.kind.replace('_', ' ')} email to {message.recipient} is due again now "
        "and goes out with the next delivery round."
    )
    back = {"status": request.args["status"]} if request.args.get("status") else {}
    return redirect(url_for("staff.outbox", **back), code=303)
