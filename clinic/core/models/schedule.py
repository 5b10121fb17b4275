"""Practitioners and when they work: weekly hours, time off, one-day overrides, and the
consult type they offer."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.core.extensions import Model
from clinic.core.types import UTCDateTime


class Practitioner(Model):
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
    # Changed (to a random number) with every change to the busy times read from
    # their own calendars, alone: the busy times are kept in memory by this version
    # (clinic.availability.busy_cache).
    busy_version: Mapped[int] = mapped_column(default=0, server_default="0")
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


class WorkingHours(Model):
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


class TimeOff(Model):
    """Time off for one practitioner, or a clinic closure when ``practitioner_id`` is null."""

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("practitioner.id", ondelete="CASCADE"), index=True, active_history=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")


class HoursOverride(Model):
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


class HoursOverrideRange(Model):
    """One range of an override's hours, wall-clock time; 00:00 as end means midnight."""

    __tablename__ = "hours_override_range"

    id: Mapped[int] = mapped_column(primary_key=True)
    override_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hours_override.id", ondelete="CASCADE"), index=True
    )
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)

    override: Mapped[HoursOverride] = relationship(back_populates="ranges")


class ConsultType(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    duration_minutes: Mapped[int]
    price_cents: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
