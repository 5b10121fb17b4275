"""Practitioners' own calendars: their connections, and the busy times read from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clinic.core.extensions import Model
from clinic.core.types import UTCDateTime


class ConnectionKind(StrEnum):
    ICS = "ics"  # a read-only subscription address
    CALDAV = "caldav"  # an account on a CalDAV server


class CalendarConnection(Model):
    """One of a practitioner's own calendars. The secret (an ICS feed's address, which is
    itself a password, or a CalDAV app password) is stored encrypted and never shown back."""

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioner.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(10))
    label: Mapped[str] = mapped_column(sa.String(100))
    secret: Mapped[bytes] = mapped_column(sa.LargeBinary)  # clinic.own_calendars.secrets
    # CalDAV: the server and account (not secret), the calendars that count as busy, and
    # the one that receives the practitioner's consults ("" for none).
    server_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    username: Mapped[str] = mapped_column(sa.String(200), default="")
    busy_calendars: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The account's calendars as last listed: [address, name] pairs, for choosing among.
    calendars: Mapped[list[list[str]]] = mapped_column(sa.JSON, default=list)
    push_calendar: Mapped[str] = mapped_column(sa.String(2000), default="")
    # An ICS feed's validators, for conditional GETs, and the end of the window its stored
    # busy times were read for: a feed unchanged since is read in full once the window
    # needed reaches past it (the days move on; the horizon may grow).
    etag: Mapped[str] = mapped_column(sa.String(200), default="")
    last_modified: Mapped[str] = mapped_column(sa.String(100), default="")
    covered_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How syncing goes: shown on the staff page; an outage is emailed about once.
    sync_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.String(300), default="")
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outage_reported: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(sa.String(300), default="")  # e.g. unknown zones


class ExternalBusy(Model):
    """A busy time read from a practitioner's own calendar: its start, its end and an opaque
    key, nothing else (no title, place or people)."""

    __table_args__ = (sa.Index("ix_external_busy_practitioner_ends", "practitioner_id", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calendar_connection.id", ondelete="CASCADE"), index=True
    )
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioner.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key: Mapped[str] = mapped_column(sa.String(32))


STALE = -1


class CalendarCopy(Model):
    """A consult's copy in a practitioner's CalDAV calendar ("add consults here"), and what
    is left to do to it: a durable queue of one row per consult and connection.

    The row says where the copy was written and which version (SEQUENCE); the consult itself
    says what the copy should be now. Whenever the consult changes, ``due_at`` is set in
    the same transaction, and the worker makes the calendar match: PUT by UID, so trying
    again never duplicates; DELETE once the consult is cancelled. A failure waits and is
    tried again, never given up on, so an outage delays a copy but cannot lose it.
    """

    __tablename__ = "calendar_copy"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "uid"),
        sa.Index("ix_calendar_copy_due", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calendar_connection.id", ondelete="CASCADE")
    )
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    uid: Mapped[str] = mapped_column(sa.String(255))  # the consult's, as in its invites
    href: Mapped[str] = mapped_column(sa.String(2300), default="")  # "" until written
    # The SEQUENCE written; None: not in the calendar; STALE: there, but to be written again
    # (the patient's name was erased).
    written_sequence: Mapped[int | None] = mapped_column()
    etag: Mapped[str] = mapped_column(sa.String(200), default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: nothing to do
    # Taken by a worker until then: no other worker writes the copy meanwhile.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.String(300), default="")
