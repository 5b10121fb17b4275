"""A consult's intake answers, their revisions, the flags they raised and the alerts for staff."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from clinic.core.clock import utc_now
from clinic.core.extensions import Model
from clinic.core.types import UTCDateTime

if TYPE_CHECKING:
    from clinic.core.models.consults import Appointment
    from clinic.core.models.staff import StaffUser


class IntakeResponse(Model):
    """A patient's answers to the intake questionnaire for one consult.

    ``answers`` maps question ids to cleaned values; ``version`` is the questionnaire version
    they answered. Sections are saved one at a time as the patient moves on.
    """

    __tablename__ = "intake_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    version: Mapped[str] = mapped_column(sa.String(20))
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    sections_done: Mapped[list] = mapped_column(sa.JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    urgent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ISO 3166 country whose crisis numbers the patient is shown ("" until they choose one:
    # then it is guessed from their time zone).
    country: Mapped[str] = mapped_column(sa.String(2), default="")

    appointment: Mapped[Appointment] = relationship(
        backref=backref("intake", uselist=False, passive_deletes=True)
    )
    revisions: Mapped[list[IntakeRevision]] = relationship(
        back_populates="response", order_by="IntakeRevision.number", passive_deletes=True
    )
    flags_raised: Mapped[list[IntakeFlagRaised]] = relationship(
        back_populates="response", order_by="IntakeFlagRaised.id", passive_deletes=True
    )


class IntakeRevision(Model):
    """One save of one page of the intake, as the patient sent it. Rows are never changed.

    ``answers`` maps the page's question ids to the cleaned values saved (None: left blank).
    ``IntakeResponse.answers`` is the latest value of each question, for reading quickly.
    """

    __tablename__ = "intake_revision"
    __table_args__ = (sa.UniqueConstraint("response_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("intake_response.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    section_id: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[str] = mapped_column(sa.String(20))
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    response: Mapped[IntakeResponse] = relationship(back_populates="revisions")


class IntakeFlagRaised(Model):
    """A flag the intake raised, kept when a later answer would no longer raise it.

    ``reason`` is the answer that raised it, in the questionnaire's words; ``revision`` the
    save it came with.
    """

    __tablename__ = "intake_flag_raised"
    __table_args__ = (sa.UniqueConstraint("response_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("intake_response.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(40))
    level: Mapped[str] = mapped_column(sa.String(8))
    message: Mapped[str] = mapped_column(sa.String(300))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    revision: Mapped[int] = mapped_column(default=0)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    response: Mapped[IntakeResponse] = relationship(back_populates="flags_raised")


class AlertKind(enum.StrEnum):
    """Why staff are alerted about an intake; each kind is raised at most once per consult."""

    EMERGENCY = "emergency"  # an emergency right now (chest pain now, ASQ "right now")
    SELF_HARM = "self_harm"  # PHQ-9 item 9 above "Not at all", or a positive ASQ
    SEE_DOCTOR = "see_doctor"  # signs that need a doctor soon (GI bleeding, weight loss, ...)
    HIGH_SCORE = "high_score"  # PHQ-9 >= 20 or GAD-7 >= 15
    ITEM9_SKIPPED = "item9_skipped"  # PHQ-9 item 9 left blank after a gentle prompt


# Alerts of these kinds mark the consult urgent and escalate when nobody acknowledges them.
URGENT_ALERT_KINDS = frozenset({AlertKind.EMERGENCY, AlertKind.SELF_HARM})


class AlertAction(enum.StrEnum):
    CALLED = "called"
    EMAILED = "emailed"
    REFERRED = "referred"
    OTHER = "other"


class IntakeAlert(Model):
    """An alert to staff about an intake, with who took it on and what they did.

    ``due_at`` is when an unacknowledged urgent alert escalates to the admins (office hours
    counted); ``escalated_at`` when it did. Amber alerts have no ``due_at``.
    """

    __tablename__ = "intake_alert"
    __table_args__ = (sa.UniqueConstraint("appointment_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    level: Mapped[str] = mapped_column(sa.String(8))  # red or amber
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(20), default="")
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship(
        backref=backref("alerts", order_by="IntakeAlert.id", passive_deletes=True)
    )
    acknowledged_by: Mapped[StaffUser | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
