"""What staff see of the outbox and may do with it: list it, failed and pending first, and
send a failed email again. Each write is one transaction, audited inside it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from clinic.core.audit import audit
from clinic.core.database import begin_write, rowcount
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import OutboxMessage, OutboxStatus, StaffUser
from clinic.core.paging import Page, paginate

# Failed messages need someone; pending ones may be stuck. Both come before the rest.
_ATTENTION = sa.case(
    (OutboxMessage.status == OutboxStatus.FAILED.value, 0),
    (OutboxMessage.status == OutboxStatus.PENDING.value, 1),
    (OutboxMessage.status == OutboxStatus.SENDING.value, 2),
    else_=3,
)


class ResendRefused(ClinicError):
    """Why a message cannot be sent again (it went out, or is not waiting after a failure)."""

    status = 409


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


def outbox_page(status: str | None, number: int, per_page: int) -> Page:
    """Messages with ``status`` (None: all, failed and pending first), newest first."""
    base = sa.select(OutboxMessage)
    if status is not None:
        base = base.where(OutboxMessage.status == status)
    return paginate(
        base,
        number,
        per_page,
        order_by=(_ATTENTION, OutboxMessage.created_at.desc(), OutboxMessage.id.desc()),
        options=(joinedload(OutboxMessage.appointment),),
    )


def resend(
    message_id: int, user: StaffUser, now: datetime, *, address: str
) -> OutboxMessage | None:
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
        address=address,
    )
    db.session.commit()
    return message


def retry_waiting(now: datetime) -> int:
    """Make messages waiting after a failed attempt due now (after fixing the mail server)."""
    begin_write()
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.attempts > 0,
            OutboxMessage.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
    )
    db.session.commit()
    return rowcount(result)
