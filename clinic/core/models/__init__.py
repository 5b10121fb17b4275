"""SQLAlchemy 2.0 typed models, one module per part of the clinic. Every instant is stored in
UTC (see ``UTCDateTime``). Import them from here: every model is then registered."""

from clinic.core.models.consults import (
    ACTIVE,
    Appointment,
    ConsultNote,
    Patient,
    Status,
)
from clinic.core.models.intake import (
    URGENT_ALERT_KINDS,
    AlertAction,
    AlertKind,
    IntakeAlert,
    IntakeFlagRaised,
    IntakeResponse,
    IntakeRevision,
)
from clinic.core.models.outbox import (
    OutboxMessage,
    OutboxStatus,
)
from clinic.core.models.own_calendars import (
    CalendarConnection,
    CalendarCopy,
    ConnectionKind,
    ExternalBusy,
)
from clinic.core.models.schedule import (
    ConsultType,
    HoursOverride,
    HoursOverrideRange,
    Practitioner,
    TimeOff,
    WorkingHours,
    meeting_url,
)
from clinic.core.models.settings import (
    DEFAULT_CRISIS_TEXT,
    DEFAULT_FOLLOWUP_TEXT,
    ClinicSettings,
    CrisisLine,
)
from clinic.core.models.staff import (
    AuditEvent,
    Role,
    StaffUser,
)

__all__ = [
    "ACTIVE",
    "AlertAction",
    "AlertKind",
    "Appointment",
    "AuditEvent",
    "CalendarConnection",
    "CalendarCopy",
    "ClinicSettings",
    "ConnectionKind",
    "ConsultNote",
    "ConsultType",
    "CrisisLine",
    "DEFAULT_CRISIS_TEXT",
    "DEFAULT_FOLLOWUP_TEXT",
    "ExternalBusy",
    "HoursOverride",
    "HoursOverrideRange",
    "IntakeAlert",
    "IntakeFlagRaised",
    "IntakeResponse",
    "IntakeRevision",
    "OutboxMessage",
    "OutboxStatus",
    "Patient",
    "Practitioner",
    "Role",
    "StaffUser",
    "Status",
    "TimeOff",
    "URGENT_ALERT_KINDS",
    "WorkingHours",
    "meeting_url",
]
