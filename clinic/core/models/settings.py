"""The clinic's own row of settings, and the crisis lines it shows by country."""

from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clinic.core.clock import utc_now
from clinic.core.extensions import Model
from clinic.core.types import UTCDateTime

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


class ClinicSettings(Model):
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


class CrisisLine(Model):
    """An admin's own crisis text for one country, in place of the built-in one."""

    __tablename__ = "crisis_line"

    country: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
