"""Form fields and checks for the admin's settings pages: bounded numbers, reminder times,
office days, video-meeting links and texts with placeholders, each refused with a message
that says what to write instead."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from wtforms import Field, IntegerField, StringField
from wtforms.validators import ValidationError

from clinic.core.formatting import CONTROL_CATEGORIES
from clinic.staff.availability.forms import WEEKDAY_NAMES

_DIGITS = re.compile(r"[0-9]{1,7}")
REMINDER_RANGE = (5, 10080)  # five minutes to one week before the start
MAX_REMINDERS = 5
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


def strip(value):
    return value.strip() if isinstance(value, str) else value


class WholeNumberField(IntegerField):
    """A whole number from ``low`` to ``high`` inclusive; blank means None when ``blank_ok``.

    One message covers a missing value, a non-number and a number out of range, so the admin
    always reads the allowed range beside the field.
    """

    def __init__(self, label, low: int, high: int, unit: str, blank_ok: bool = False, **kwargs):
        render_kw = {"min": low, "max": high, "inputmode": "numeric"} | kwargs.pop("render_kw", {})
        super().__init__(label, render_kw=render_kw, **kwargs)
        self.low, self.high, self.blank_ok = low, high, blank_ok
        self.message = f"Please give a whole number of {unit} from {low} to {high}" + (
            ", or leave it blank." if blank_ok else "."
        )

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not raw and self.blank_ok:
            return
        if not _DIGITS.fullmatch(raw) or not self.low <= int(raw) <= self.high:
            raise ValueError(self.message)
        self.data = int(raw)


class ReminderTimesField(StringField):
    """Minutes before the start, comma-separated ("1440, 60").

    ``data`` is stored form: distinct values, largest first, joined by commas ("1440,60"), as
    ``ClinicSettings.reminder_minutes`` keeps them. Blank means no reminders.
    """

    def process_formdata(self, valuelist):
        raw = valuelist[0] if valuelist else ""
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        self.data = None
        if not all(_DIGITS.fullmatch(part) for part in parts):
            raise ValueError("Write whole numbers of minutes separated by commas, e.g. 1440, 60.")
        values = sorted({int(part) for part in parts}, reverse=True)
        low, high = REMINDER_RANGE
        if any(not low <= value <= high for value in values):
            raise ValueError(
                f"Each reminder must be from {low} to {high} minutes (one week) before the start."
            )
        if len(values) > MAX_REMINDERS:
            raise ValueError(f"Please give at most {MAX_REMINDERS} reminder times.")
        self.data = ",".join(str(value) for value in values)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(self.data.split(",")) if self.data else ""


class WeekdaysField(Field):
    """Days of the week, one checkbox each (the template draws them in a fieldset).

    ``data`` is stored form: the ticked days' numbers (Monday=0 .. Sunday=6) in order, joined
    by commas ("0,1,2,3,4"), as ``ClinicSettings.office_days`` keeps them. At least one.
    """

    choices = tuple((str(day), name) for day, name in enumerate(WEEKDAY_NAMES))

    def process_data(self, value):
        self.data = value if isinstance(value, str) else ""

    def process_formdata(self, valuelist):
        ticked = {value.strip() for value in valuelist if value.strip()}
        self.data = ",".join(value for value, _ in self.choices if value in ticked)
        if ticked - {value for value, _ in self.choices}:
            raise ValueError("Please tick days from Monday to Sunday only.")

    def pre_validate(self, form):
        if not self.process_errors and not self.data:
            raise ValidationError("Please tick at least one day.")

    def ticked(self, value: str) -> bool:
        return value in (self.data or "").split(",")


def placeholders(*allowed: str):
    """A check that a text holds no placeholder but ``allowed`` ones ("{hours}"), so that a
    mistyped one ("{hour}") is caught here rather than shown to patients as written."""
    names = " and ".join(", ".join(allowed).rsplit(", ", 1))

    def check(form, field) -> None:
        sample = field.data or ""
        for placeholder in allowed:
            sample = sample.replace(placeholder, "")
        if "{" in sample or "}" in sample:
            raise ValidationError(f"The only placeholders this text can hold are {names}.")

    return check


def meeting_link(form, field) -> None:
    """An https:// address (http://localhost for trying things out); ``{reference}`` is the one
    placeholder, filled in with the consult's reference."""
    sample = (field.data or "").replace("{reference}", "ABCD-EFGH")
    if "{" in sample or "}" in sample:
        raise ValidationError("The only placeholder a link can hold is {reference}.")
    if any(c.isspace() or unicodedata.category(c) in CONTROL_CATEGORIES for c in sample):
        raise ValidationError("A link can't contain spaces or line breaks.")
    try:
        parts = urlsplit(sample)
        scheme, host = parts.scheme, parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        scheme, host = "", None
    if not ((scheme == "https" and host) or (scheme == "http" and host in LOCAL_HOSTS)):
        raise ValidationError(
            "Please give a full link starting with https://, e.g. "
            "https://meet.example.com/room-{reference} (http://localhost only for testing)."
        )
