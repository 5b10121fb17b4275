"""Staff accounts, their roles and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.core.clock import utc_now
from clinic.core.extensions import Model
from clinic.core.types import UTCDateTime

if TYPE_CHECKING:
    from clinic.core.models.schedule import Practitioner


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything, including settings and the audit log
    PRACTITIONER = "practitioner"  # the schedule; intake answers of their own patients only
    FRONTDESK = "frontdesk"  # the schedule, and that a flag exists; never the answers


class StaffUser(UserMixin, Model):
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
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


class AuditEvent(Model):
    """Who did what, when: sign-ins, views of intake answers, changes. Never health details."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(120), default="")  # e.g. "consult ABCD-EFGH"
    address: Mapped[str] = mapped_column(sa.String(64), default="")  # the client's IP address
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
