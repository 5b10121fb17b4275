"""Patients, their consults and the notes staff add to them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from clinic.core.clock import utc_now
from clinic.core.extensions import Model
from clinic.core.types import UTCDateTime

if TYPE_CHECKING:
    from clinic.core.models.intake import IntakeAlert, IntakeResponse
    from clinic.core.models.schedule import ConsultType, Practitioner
    from clinic.core.models.staff import StaffUser


class Status(enum.StrEnum):
    HELD = "held"  # a time kept for a patient filling in the details form
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    EXPIRED = "expired"  # a hold that lapsed before the patient confirmed


# Held and confirmed consults occupy the practitioner's time (invariant 1 in ARCHITECTURE.md).
ACTIVE = (Status.HELD.value, Status.CONFIRMED.value)


class Patient(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(254), index=True)  # stored lower-cased
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Appointment(Model):
    """A consult. ``starts_at``/``ends_at`` are UTC; the patient's zone is kept for display.

    Invariant 1 lives in ``clinic.booking.services``: rows are written only while the
    practitioner is locked. On PostgreSQL an exclusion constraint backs it up.
    """

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="order"),
        sa.CheckConstraint(
            "status IN ('held', 'confirmed', 'cancelled', 'completed', 'no_show', 'expired')",
            name="status",
        ),
        sa.Index("ix_appointment_practitioner_starts", "practitioner_id", "starts_at"),
        # Free times read the consults ending after a window's start: never the history.
        sa.Index("ix_appointment_practitioner_ends", "practitioner_id", "ends_at"),
        ExcludeConstraint(
            ("practitioner_id", "="),
            (sa.func.tstzrange(sa.column("starts_at"), sa.column("ends_at"), "[)"), "&&"),
            name="appointment_no_overlap",
            using="gist",
            where=sa.text("status IN ('held', 'confirmed')"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    # active_history: a move to another practitioner must know whom it leaves (schedule versions).
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioner.id"), active_history=True
    )
    consult_type_id: Mapped[int] = mapped_column(sa.ForeignKey("consult_type.id"))
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=Status.HELD.value)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    patient_timezone: Mapped[str] = mapped_column(sa.String(64))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calendar_uid: Mapped[str] = mapped_column(sa.String(120), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    # The link token is derived from this random salt and the secret key (clinic.core.links), so
    # emails sent later can carry it again; only its hash is stored.
    link_salt: Mapped[str] = mapped_column(sa.String(64), default="")
    manage_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    source: Mapped[str] = mapped_column(sa.String(16), default="web")  # web, api, staff
    privacy_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    not_emergency_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    # Set when an intake answer signals risk (a RED flag): staff review it first.
    urgent: Mapped[bool] = mapped_column(default=False)

    practitioner: Mapped[Practitioner] = relationship()
    consult_type: Mapped[ConsultType] = relationship()
    patient: Mapped[Patient | None] = relationship()
    if TYPE_CHECKING:
        # Made by the backrefs of IntakeResponse.appointment, ConsultNote.appointment and
        # IntakeAlert.appointment (once the mappers are configured); declared for type checkers.
        intake: Mapped[IntakeResponse | None]
        notes: Mapped[list[ConsultNote]]
        alerts: Mapped[list[IntakeAlert]]

    @property
    def duration_minutes(self) -> int:
        """This consult's own length (the consult type's may have changed since it was booked)."""
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def is_active(self, now: datetime) -> bool:
        if self.status == Status.HELD:
            return self.hold_expires_at is not None and self.hold_expires_at > now
        return self.status == Status.CONFIRMED


class ConsultNote(Model):
    """An internal note on a consult, for running the schedule; staff only, never emailed."""

    __tablename__ = "consult_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    body: Mapped[str] = mapped_column(sa.Text)

    appointment: Mapped[Appointment] = relationship(
        backref=backref("notes", order_by="ConsultNote.at", passive_deletes=True)
    )
    author: Mapped[StaffUser | None] = relationship()
