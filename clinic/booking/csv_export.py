"""The consults as a CSV file for spreadsheets: schedule facts only, never intake answers.

Times are ISO 8601 in the clinic's zone with their offset. A cell that a spreadsheet would
run as a formula (starting with = + - @, a tab or a carriage return) gets a leading
apostrophe, so a patient named ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from clinic.booking.search import ConsultFilters, all_consults
from clinic.core.audit import audit
from clinic.core.models import Appointment, StaffUser

COLUMNS = (
    "reference",
    "start",
    "end",
    "clinic time zone",
    "patient's time zone",
    "practitioner",
    "status",
    "patient name",
    "patient email",
    "patient phone",
    "urgent",
    "source",
    "booked at",
    "cancelled at",
    "cancel reason",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # lets Excel read the file as UTF-8


def neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _stamp(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat() if moment is not None else ""


def _row(a: Appointment, zone: ZoneInfo) -> list[str]:
    patient = a.patient
    return [
        a.reference,
        _stamp(a.starts_at, zone),
        _stamp(a.ends_at, zone),
        zone.key,
        a.patient_timezone,
        a.practitioner.name,
        a.status.replace("_", " "),
        patient.name if patient else "",
        patient.email if patient else "",
        patient.phone if patient else "",
        "yes" if a.urgent else "no",
        a.source,
        _stamp(a.created_at, zone),
        _stamp(a.cancelled_at, zone),
        a.cancel_reason,
    ]


def consults_csv(consults: list[Appointment], zone: ZoneInfo) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for appointment in consults:
        writer.writerow([neutralise(cell) for cell in _row(appointment, zone)])
    return BOM + out.getvalue()


def export_consults(
    filters: ConsultFilters, zone: ZoneInfo, user: StaffUser, now: datetime, *, address: str
) -> tuple[str, int]:
    """The CSV text and its number of consults; the export is audited (filters, no patients)."""
    consults = all_consults(filters, zone)
    text = consults_csv(consults, zone)
    audit(
        "consults_exported",
        user,
        subject="consults",
        detail=f"{filters.describe()}; {len(consults)} rows",
        now=now,
        address=address,
    )
    return text, len(consults)
