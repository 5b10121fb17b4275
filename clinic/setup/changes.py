"""Writes behind the admin's settings pages. Each function owns its transaction: it changes
the row, writes one audit event naming the fields that changed (never their values) and
commits once. Values arrive already checked by the forms; what needs the database (a unique
email, the free consult staying on) is checked here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa

from clinic.availability.open_times import DEFAULT_CONSULT
from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, lock_rows
from clinic.core.errors import ClinicError
from clinic.core.extensions import db
from clinic.core.models import ConsultType, Practitioner, StaffUser

SETTINGS_FIELDS = (
    "name",
    "timezone",
    "contact_email",
    "contact_phone",
    "min_notice_minutes",
    "horizon_days",
    "buffer_minutes",
    "slot_step_minutes",
    "hold_minutes",
    "daily_cap",
    "reminder_minutes",
    "change_cutoff_minutes",
    "office_days",
    "office_opens",
    "office_closes",
    "alert_escalate_minutes",
    "followup_text",
    "feed_full_names",
)


class SettingsProblem(ClinicError, ValueError):
    """A change refused for a reason only the database knows, for the form field ``field``."""

    status = 422

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PractitionerDetails:
    """What the practitioner form sets; ``email`` is lower-cased, ``timezone`` an IANA name."""

    name: str
    email: str
    title: str
    bio: str
    timezone: str
    meeting_link: str
    active: bool


def _apply(row: object, values: Mapping[str, object]) -> list[str]:
    """Set each value that differs on ``row``; the names of those that did, in order."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    return changed


def change_settings(
    values: Mapping[str, object], user: StaffUser, now: datetime, *, address: str
) -> list[str]:
    """Save the clinic's settings (keys: ``SETTINGS_FIELDS``); the names of those changed."""
    begin_write()  # read, check and write under SQLite's write lock (rows passed in reload)
    changed = _apply(clinic_settings(), {name: values[name] for name in SETTINGS_FIELDS})
    if changed:
        audit(
            "settings_changed",
            user,
            subject="clinic settings",
            detail=", ".join(changed),
            now=now,
            commit=False,
            address=address,
        )
    db.session.commit()
    return changed


def _check_email_free(email: str, practitioner_id: int | None) -> None:
    stmt = sa.select(Practitioner.id).where(sa.func.lower(Practitioner.email) == email.lower())
    if practitioner_id is not None:
        stmt = stmt.where(Practitioner.id != practitioner_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        db.session.rollback()
        raise SettingsProblem("email", f"Another practitioner already uses {email}.")


def add_practitioner(
    details: PractitionerDetails, user: StaffUser, now: datetime, *, address: str
) -> Practitioner:
    """A new practitioner, with no working hours yet (so nobody can book them until set)."""
    begin_write()  # read, check and write under SQLite's write lock (rows passed in reload)
    _check_email_free(details.email, None)
    practitioner = Practitioner(**asdict(details))
    db.session.add(practitioner)
    db.session.flush()  # for its id in the audit row
    audit(
        "practitioner_added",
        user,
        subject=f"practitioner {practitioner.id}",
        now=now,
        commit=False,
        address=address,
    )
    db.session.commit()
    return practitioner


def change_practitioner(
    practitioner: Practitioner,
    details: PractitionerDetails,
    user: StaffUser,
    now: datetime,
    *,
    address: str,
) -> list[str]:
    """Save a practitioner's details; the names of the fields that changed.

    An inactive practitioner is offered for no new bookings; consults already booked stay.
    A new time zone moves their wall-clock hours in real time: consults it leaves outside
    working time stay booked and are listed on the practitioner's availability page.
    """
    begin_write()  # read, check and write under SQLite's write lock (rows passed in reload)
    lock_rows(Practitioner, [practitioner.id])  # hours change meaning: as a booking would
    _check_email_free(details.email, practitioner.id)
    changed = _apply(practitioner, asdict(details))
    if changed:
        audit(
            "practitioner_changed",
            user,
            subject=f"practitioner {practitioner.id}",
            detail=", ".join(changed),
            now=now,
            commit=False,
            address=address,
        )
    db.session.commit()
    return changed


def change_consult_type(
    kind: ConsultType,
    name: str,
    duration_minutes: int,
    active: bool,
    user: StaffUser,
    now: datetime,
    *,
    address: str,
) -> list[str]:
    """Save a consult type; the names of the fields that changed.

    The length applies to consults booked or moved from now on; booked ones keep theirs. The
    free consult (the one patients book online) cannot be turned off.
    """
    begin_write()  # read, check and write under SQLite's write lock (rows passed in reload)
    if kind.slug == DEFAULT_CONSULT and not active:
        db.session.rollback()
        raise SettingsProblem(
            "active", "The free consult is the one patients book online, so it stays offered."
        )
    values = {"name": name, "duration_minutes": duration_minutes, "active": active}
    changed = _apply(kind, values)
    if changed:
        audit(
            "consult_type_changed",
            user,
            subject=f"consult type {kind.id}",
            detail=", ".join(changed),
            now=now,
            commit=False,
            address=address,
        )
    db.session.commit()
    return changed
