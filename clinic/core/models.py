"""SQLAlchemy 2.0 typed models. Every instant is stored in UTC (see ``UTCDateTime``)."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from clinic.core.clock import utc_now
from clinic.core.extensions import db
from clinic.core.types import UTCDateTime


def utcnow() -> datetime:
    return utc_now()


class Status(enum.StrEnum):
    HELD = "held"  # a time kept for a patient filling in the details form
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    EXPIRED = "expired"  # a hold that lapsed before the patient confirmed


# Held and confirmed consults occupy the practitioner's time (invariant 1 in ARCHITECTURE.md).
ACTIVE = (Status.HELD.value, Status.CONFIRMED.value)


# Crisis help for a patient whose country has no entry of its own (clinic.intake.crisis_lines
# has each listed country's numbers; admins can change both).
DEFAULT_CRISIS_TEXT = (
    "If you are thinking about harming yourself or are in danger, please get help now: call "
    "your local emergency number (112 works across the European Union and in many other "
    "countries), or go to your nearest emergency department."
)

# What a patient whose answers signal a risk of self-harm is told will happen next. {hours} is
# replaced by the clinic's office hours and {response} by the time after which an urgent alert
# nobody has acknowledged goes to the admins (clinic.intake.alerts).
DEFAULT_FOLLOWUP_TEXT = (
    "We have let the clinic know. Staff read these alerts in office hours, {hours}, and aim "
    "to contact you within {response}; if nobody has by then, a senior member of staff is "
    "told. We are not an emergency service and do not watch answers as they arrive, so if "
    "you need help sooner, use the numbers above."
)


class ClinicSettings(db.Model):
    """The clinic's one row of settings (id 1). Durations are in minutes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    min_notice_minutes: Mapped[int] = mapped_column(default=120)
    horizon_days: Mapped[int] = mapped_column(default=60)
    buffer_minutes: Mapped[int] = mapped_column(default=10)
    slot_step_minutes: Mapped[int] = mapped_column(default=30)
    hold_minutes: Mapped[int] = mapped_column(default=10)
    # Consults per practitioner per local day; None means no cap. (No column default: the ORM
    # would put the default in place of an explicit None.)
    daily_cap: Mapped[int | None] = mapped_column()
    # Patients may reschedule or cancel online until this long before the start.
    change_cutoff_minutes: Mapped[int] = mapped_column(default=720)
    # Reminders to the patient, in minutes before the start, comma-separated ("1440,60").
    reminder_minutes: Mapped[str] = mapped_column(sa.String(100), default="1440,60")
    # Calendar feeds name patients by initials unless the clinic opts in to full names.
    feed_full_names: Mapped[bool] = mapped_column(default=False)
    # Shown to a patient whose intake answers signal a risk to their safety.
    crisis_text: Mapped[str] = mapped_column(sa.Text, default=lambda: DEFAULT_CRISIS_TEXT)
    # What a patient at risk is promised (see DEFAULT_FOLLOWUP_TEXT).
    followup_text: Mapped[str] = mapped_column(sa.Text, default=lambda: DEFAULT_FOLLOWUP_TEXT)
    # Office hours, in the clinic's zone: when staff read alerts. Days are Monday=0 .. Sunday=6.
    office_days: Mapped[str] = mapped_column(sa.String(20), default="0,1,2,3,4")
    office_opens: Mapped[time] = mapped_column(sa.Time, default=time(9))
    office_closes: Mapped[time] = mapped_column(sa.Time, default=time(17))
    # An urgent intake alert nobody has acknowledged goes to the admins after this many
    # minutes of office hours.
    alert_escalate_minutes: Mapped[int] = mapped_column(default=120)

    @property
    def reminder_offsets(self) -> list[int]:
        """Minutes before the start at which reminders go out, largest first."""
        values = {int(part) for part in self.reminder_minutes.split(",") if part.strip().isdigit()}
        return sorted((v for v in values if v > 0), reverse=True)


class Practitioner(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(120), default="")
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    # A fixed video-meeting URL, or a template with ``{reference}`` filled in per consult.
    meeting_link: Mapped[str] = mapped_column(sa.String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # The calendar feed's secret URL is derived from this salt (clinic.core.links); a new salt
    # rotates the URL. Only the token's hash is stored for lookups.
    calendar_salt: Mapped[str] = mapped_column(sa.String(64), default="")
    calendar_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Raised with every change to this practitioner's free times
    # (clinic.availability.schedule_version).
    schedule_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The feed's validators (clinic.calendar.feed): the fingerprint of its content when last
    # served (its ETag), and when that content was first served (its Last-Modified).
    feed_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    feed_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hours: Mapped[list[WorkingHours]] = relationship(
        back_populates="practitioner", cascade="all, delete-orphan"
    )

    def meeting_url(self, reference: str) -> str:
        return meeting_url(self.meeting_link, reference)


def meeting_url(link: str, reference: str) -> str:
    """A practitioner's ``meeting_link`` for one consult: ``{reference}`` filled in."""
    return link.replace("{reference}", reference)


class WorkingHours(db.Model):
    """One range of weekly hours in the practitioner's own zone; 00:00 as end means midnight."""

    __table_args__ = (sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioner.id", ondelete="CASCADE"), index=True, active_history=True
    )
    weekday: Mapped[int]  # 0 = Monday
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)

    practitioner: Mapped[Practitioner] = relationship(back_populates="hours")


class TimeOff(db.Model):
    """Time off for one practitioner, or a clinic closure when ``practitioner_id`` is null."""

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("practitioner.id", ondelete="CASCADE"), index=True, active_history=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")


class HoursOverride(db.Model):
    """One local day (practitioner's zone) whose weekly hours are replaced by ``ranges``.

    An override with no ranges means the practitioner is not working that day.
    """

    __tablename__ = "hours_override"
    __table_args__ = (sa.UniqueConstraint("practitioner_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioner.id", ondelete="CASCADE"), active_history=True
    )
    day: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

    ranges: Mapped[list[HoursOverrideRange]] = relationship(
        back_populates="override",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="HoursOverrideRange.start_time",
    )


class HoursOverrideRange(db.Model):
    """One range of an override's hours, wall-clock time; 00:00 as end means midnight."""

    __tablename__ = "hours_override_range"

    id: Mapped[int] = mapped_column(primary_key=True)
    override_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hours_override.id", ondelete="CASCADE"), index=True
    )
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)

    override: Mapped[HoursOverride] = relationship(back_populates="ranges")


class ConsultType(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    duration_minutes: Mapped[int]
    price_cents: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Patient(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(254), index=True)  # stored lower-cased
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appointment(db.Model):
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    # Set when an intake answer signals risk (a RED flag): staff review it first.
    urgent: Mapped[bool] = mapped_column(default=False)

    practitioner: Mapped[Practitioner] = relationship()
    consult_type: Mapped[ConsultType] = relationship()
    patient: Mapped[Patient | None] = relationship()

    @property
    def duration_minutes(self) -> int:
        """This consult's own length (the consult type's may have changed since it was booked)."""
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def is_active(self, now: datetime) -> bool:
        if self.status == Status.HELD:
            return self.hold_expires_at is not None and self.hold_expires_at > now
        return self.status == Status.CONFIRMED


class ConsultNote(db.Model):
    """An internal note on a consult, for running the schedule; staff only, never emailed."""

    __tablename__ = "consult_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(sa.Text)

    appointment: Mapped[Appointment] = relationship(
        backref=backref("notes", order_by="ConsultNote.at", passive_deletes=True)
    )
    author: Mapped[StaffUser | None] = relationship()


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its time, or for its next attempt after a failure
    SENDING = "sending"  # claimed by a worker until ``lease_expires_at``
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; ``last_error`` says why
    DROPPED = "dropped"  # no longer wanted: a reminder for a moved, cancelled or past consult
    LOGGED = "logged"  # no mail server is configured: written to the log instead


class OutboxMessage(db.Model):
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment | None] = relationship()


class IntakeResponse(db.Model):
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
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
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


class IntakeRevision(db.Model):
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
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    response: Mapped[IntakeResponse] = relationship(back_populates="revisions")


class IntakeFlagRaised(db.Model):
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
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

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


class IntakeAlert(db.Model):
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
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
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


class CrisisLine(db.Model):
    """An admin's own crisis text for one country, in place of the built-in one."""

    __tablename__ = "crisis_line"

    country: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything, including settings and the audit log
    PRACTITIONER = "practitioner"  # the schedule; intake answers of their own patients only
    FRONTDESK = "frontdesk"  # the schedule, and that a flag exists; never the answers


class StaffUser(UserMixin, db.Model):
    """Someone who signs in to the staff console. Passwords are stored as salted hashes."""

    __tablename__ = "staff_user"
    __table_args__ = (
        sa.CheckConstraint("role IN ('admin', 'practitioner', 'frontdesk')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    role: Mapped[str] = mapped_column(sa.String(16))
    practitioner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("practitioner.id", ondelete="SET NULL")
    )
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the id kept in each signed-in browser's session cookie: raising it (signing out,
    # a new password) ends every session of the account, copies of the cookie included.
    session_version: Mapped[int] = mapped_column(default=0)

    practitioner: Mapped[Practitioner | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot sign in or stay in
        return self.active

    def get_id(self) -> str:  # Flask-Login: what the session cookie names the user by
        return f"{self.id}:{self.session_version}"


class AuditEvent(db.Model):
    """Who did what, when: sign-ins, views of intake answers, changes. Never health details."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(120), default="")  # e.g. "consult ABCD-EFGH"
    address: Mapped[str] = mapped_column(sa.String(64), default="")  # the client's IP address
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
