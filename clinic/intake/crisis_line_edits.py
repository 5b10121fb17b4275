"""The crisis text patients see, country by country, and the admin's changes to it.

A place is a listed country's code in lower case ("gb") or ``OTHER``, every other country,
whose text is ``ClinicSettings.crisis_text``. Each write owns its transaction: it changes the
text, writes one audit event naming the place and whether the text is now the clinic's own or
the built-in one (never the text itself), and commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from clinic.core.audit import audit
from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write, lock_rows
from clinic.core.extensions import db
from clinic.core.models import DEFAULT_CRISIS_TEXT, ClinicSettings, CrisisLine, StaffUser
from clinic.intake.crisis_help import OTHER_EMERGENCY
from clinic.intake.crisis_lines import COUNTRIES, CountryLines, lines_for

OTHER = "other"


@dataclass(frozen=True)
class CrisisText:
    place: str  # "gb", or OTHER
    name: str  # "United Kingdom", or "Other countries"
    where: str  # "in the United Kingdom", "in other countries": for sentences
    emergency: str  # "999", or OTHER_EMERGENCY
    text: str  # what patients there see now
    builtin: str  # what they would see without the clinic's own text
    changed_at: datetime | None  # when the clinic's own text was saved (countries only)

    @property
    def own(self) -> bool:
        """The clinic's own text, not the built-in one."""
        return self.text != self.builtin

    @property
    def subject(self) -> str:
        """How the audit log names the place: "GB", "other countries"."""
        return "other countries" if self.place == OTHER else self.place.upper()


def _country(lines: CountryLines, own: CrisisLine | None) -> CrisisText:
    return CrisisText(
        lines.code.lower(),
        lines.name,
        f"in {lines.place}",
        lines.emergency,
        own.text if own is not None else lines.text,
        lines.text,
        own.updated_at if own is not None else None,
    )


def _other(settings: ClinicSettings) -> CrisisText:
    text = settings.crisis_text
    return CrisisText(
        OTHER,
        "Other countries",
        "in other countries",
        OTHER_EMERGENCY,
        text,
        DEFAULT_CRISIS_TEXT,
        None,
    )


def crisis_texts() -> list[CrisisText]:
    """Every listed country in order, then other countries."""
    own = {row.country: row for row in db.session.scalars(sa.select(CrisisLine))}
    return [*(_country(c, own.get(c.code)) for c in COUNTRIES), _other(clinic_settings())]


def crisis_text(place: str) -> CrisisText | None:
    """The place's text now; None for a place that is not a listed country or ``OTHER``."""
    if place == OTHER:
        return _other(clinic_settings())
    lines = lines_for(place) if place == place.lower() else None
    return _country(lines, db.session.get(CrisisLine, lines.code)) if lines else None


def change_crisis_text(
    place: str, text: str, user: StaffUser, now: datetime, *, address: str
) -> bool:
    """Make ``text`` what patients in ``place`` see; whether anything changed. The built-in
    text given back counts as going back to it, so later corrections to it reach them."""
    begin_write()  # under SQLite's write lock; on PostgreSQL the settings row serialises
    lock_rows(ClinicSettings, [1])  # two admins saving one country: the second sees the first
    before = crisis_text(place)
    if before is None:
        db.session.rollback()
        raise LookupError(place)
    changed = before.text != text
    if changed and place == OTHER:
        clinic_settings().crisis_text = text
    elif changed:
        row = db.session.get(CrisisLine, place.upper())
        if text == before.builtin:
            db.session.delete(row)
        elif row is None:
            db.session.add(CrisisLine(country=place.upper(), text=text, updated_at=now))
        else:
            row.text, row.updated_at = text, now
    if changed:
        detail = "the clinic's own text" if text != before.builtin else "the built-in text"
        audit(
            "crisis_line_changed",
            user,
            subject=before.subject,
            detail=detail,
            now=now,
            commit=False,
            address=address,
        )
    db.session.commit()
    return changed


def use_builtin_text(place: str, user: StaffUser, now: datetime, *, address: str) -> bool:
    """Go back to the built-in text for ``place``; whether anything changed."""
    current = crisis_text(place)
    if current is None:
        raise LookupError(place)
    return change_crisis_text(place, current.builtin, user, now, address=address)
