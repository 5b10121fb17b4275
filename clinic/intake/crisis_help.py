"""The crisis help a patient is shown, for the country they are in, and what the clinic
promises to do next.

Reads only. The text is, in order of preference: the admin's own text for the country
(``CrisisLine``), the built-in text (``clinic.intake.crisis_lines``), and for any other
country the clinic's ``crisis_text``. Admin-written text is filled in with ``str.replace``,
never ``str.format``, so a stray brace in it is shown as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.models import ClinicSettings, CrisisLine
from clinic.intake.alerts import office_days
from clinic.intake.crisis_lines import lines_for

OTHER_EMERGENCY = "your local emergency number"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class CrisisHelp:
    country: str  # the listed country's ISO code, or "" for any other country
    country_name: str  # "United Kingdom"; "" for any other country
    emergency: str  # "999", or OTHER_EMERGENCY
    text: str  # the crisis lines to call, as one or two sentences
    followup: str  # what the clinic will do, with office hours and response time filled in


def crisis_help(country: str) -> CrisisHelp:
    """The help for a patient in ``country`` (an ISO code in any case; "" or an unlisted code
    for any other country)."""
    settings = clinic_settings()
    followup = followup_text(settings)
    lines = lines_for(country)
    if lines is None:
        return CrisisHelp("", "", OTHER_EMERGENCY, settings.crisis_text, followup)
    own = db.session.get(CrisisLine, lines.code)
    text = own.text if own is not None else lines.text
    return CrisisHelp(lines.code, lines.name, lines.emergency, text, followup)


def followup_text(settings: ClinicSettings) -> str:
    """The clinic's follow-up promise with ``{hours}`` and ``{response}`` filled in."""
    hours = office_hours_text(
        sorted(office_days(settings.office_days)),
        settings.office_opens,
        settings.office_closes,
        settings.timezone,
    )
    response = response_time_text(settings.alert_escalate_minutes)
    return settings.followup_text.replace("{hours}", hours).replace("{response}", response)


def office_hours_text(days: Iterable[int], opens: time, closes: time, zone: str) -> str:
    """Office hours in words, e.g. "Monday to Friday, 9:00 to 17:00 (Europe/London)". Days are
    Monday=0 .. Sunday=6; runs of three or more read "Monday to Friday"; the week doesn't wrap."""
    when = f"{_clock(opens)} to {_clock(closes)} ({zone})"
    days = sorted(set(days))
    if not days:
        return when
    if len(days) == 7:
        return f"every day, {when}"
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]} to {DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[day] for day in run)
    named = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"{named}, {when}"


def response_time_text(minutes: int) -> str:
    """How soon staff respond, counted in office time: "2 office hours", "45 minutes of
    office time", "1 hour 30 minutes of office time"."""
    hours, rest = divmod(max(int(minutes), 0), 60)
    if not rest and hours:
        return f"{hours} office hour{'s' if hours != 1 else ''}"
    spoken = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    spoken.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return f"{' '.join(spoken)} of office time"


def _clock(value: time) -> str:
    return f"{value.hour}:{value.minute:02d}"
