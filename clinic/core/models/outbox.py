"""Emails waiting to go out, sent, or failed: the outbox the worker drains."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.core.clock import utc_now
from clinic.core.extensions import Model
from clinic.core.types import UTCDateTime

if TYPE_CHECKING:
    from clinic.core.models.consults import Appointment


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its time, or for its next attempt after a failure
    SENDING = "sending"  # claimed by a worker until ``lease_expires_at``
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; ``last_error`` says why
    DROPPED = "dropped"  # no longer wanted: a reminder for a moved, cancelled or past consult
    LOGGED = "logged"  # no mail server is configured: written to the log instead


class OutboxMessage(Model):
    """One email to one person, written in the transaction of the change that caused it.

    ``payload`` keeps the facts of that moment (times, SEQUENCE, DTSTAMP), so a message sent
    late still describes its own version of the consult. The text is composed when sent.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'dropped', 'logged')",
            name="status",
        ),
        sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(24))  # booked, rescheduled, cancelled, reminder
    audience: Mapped[str] = mapped_column(sa.String(16))  # patient or practitioner
    recipient: Mapped[str] = mapped_column(sa.String(254))
    recipient_name: Mapped[str] = mapped_column(sa.String(120), default="")
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str] = mapped_column(sa.String(80), default="")
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment | None] = relationship()
