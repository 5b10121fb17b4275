"""Form fields and checks shared by the patient's pages, the API and the staff console."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.fields.choices import Choice
from wtforms.validators import ValidationError
from wtforms.widgets import Select, html_params

from clinic.core.errors import ClinicError
from clinic.core.formatting import CONTROL_CATEGORIES, parse_zone, zone_names


def strip_text(value):
    return value.strip() if isinstance(value, str) else value


def printable(form, field) -> None:
    """No control characters (line breaks, NUL, escapes): they have no place in a name."""
    if field.data and any(unicodedata.category(c) in CONTROL_CATEGORIES for c in field.data):
        raise ValidationError("Please use letters, numbers and ordinary punctuation only.")


def printable_text(form, field) -> None:
    """Like ``printable``, but line breaks and tabs are fine (free text in a text box)."""
    if field.data and any(
        unicodedata.category(c) in CONTROL_CATEGORIES and c not in "\r\n\t" for c in field.data
    ):
        raise ValidationError("Please use letters, numbers and ordinary punctuation only.")


class InstantField(StringField):
    """An ISO 8601 date and time that must say its offset, e.g. 2026-12-03T14:00:00Z.

    Pair it with ``InputRequired``: ``DataRequired`` would replace the parsing message
    ("Include the time zone offset...") with its own "required" one.
    """

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if not self.raw:
            return
        try:
            value = datetime.fromisoformat(self.raw.strip())
        except (TypeError, ValueError):
            raise ValueError("Use a date and time like 2026-12-03T14:00:00Z.") from None
        if value.tzinfo is None:
            raise ValueError("Include the time zone offset, e.g. 2026-12-03T14:00:00Z.")
        try:
            self.data = value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 falls before year 1 in UTC
            raise ValueError("Use a date and time like 2026-12-03T14:00:00Z.") from None

    def _value(self):
        return self.raw if hasattr(self, "raw") else ""


@lru_cache(maxsize=1)
def zone_choices() -> tuple[SelectChoice, ...]:
    return tuple(SelectChoice(name, name.replace("_", " ")) for name in zone_names())


def _joined_options(choices: tuple[tuple[str, str], ...]) -> tuple[str, dict]:
    """Each (value, label)'s ``<option>`` as WTForms writes it, joined, and where each one lies
    in the joined markup with its selected form."""
    parts, where, at = [], {}, 0
    for value, label in choices:
        plain = str(Select.render_option(Choice(value, label, False, None)))
        selected = str(Select.render_option(Choice(value, label, True, None)))
        parts.append(plain)
        where[value] = (at, at + len(plain), selected)
        at += len(plain)
    return "".join(parts), where


@lru_cache(maxsize=1)
def _zone_options() -> tuple[str, dict[str, tuple[int, int, str]]]:
    """Built once, not ~600 options on every page."""
    return _joined_options(tuple((choice.value, choice.label) for choice in zone_choices()))


@lru_cache(maxsize=64)
def _kept_options(choices: tuple[tuple[str, str], ...]) -> tuple[str, dict]:
    return _joined_options(choices)


class KeptSelect(Select):
    """WTForms' ``Select`` (without groups), with its options' markup built once for each list
    of choices and the chosen one marked in it: a page of free times has two such lists."""

    def options(self, field) -> tuple[str, dict] | None:
        """The joined options and where each lies; None for choices given as plain pairs or
        in groups, which WTForms' own ``Select`` writes."""
        if field.has_groups() or not all(isinstance(c, SelectChoice) for c in field.choices):
            return None
        return _kept_options(tuple((choice.value, choice.label) for choice in field.choices))

    def __call__(self, field, **kwargs):
        kept = self.options(field)
        if kept is None:
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        options, where = kept
        if isinstance(field.data, str) and field.data in where:
            start, end, selected = where[field.data]
            options = options[:start] + selected + options[end:]
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class ZoneSelect(KeptSelect):
    """``KeptSelect`` for ``ZoneField``, whose one list of zones is built once."""

    def options(self, field) -> tuple[str, dict] | None:
        return _zone_options()


class ZoneField(SelectField):
    """An IANA time-zone name from the list of known zones."""

    widget = ZoneSelect()

    def __init__(self, label="Time zone", **kwargs):
        super().__init__(label, choices=[], validate_choice=False, **kwargs)
        self.choices = zone_choices()

    def pre_validate(self, form):
        if self.data and parse_zone(self.data) is None:
            raise ValidationError(
                "We don't recognise that time zone; please pick one from the list."
            )

    @property
    def zone(self) -> ZoneInfo | None:
        return parse_zone(self.data)


ANY = SelectChoice("any", "First available")


class PractitionerField(SelectField):
    """'any' (first available) or a practitioner's id; choices are set by the view."""

    widget = KeptSelect()

    def __init__(self, label="Practitioner", **kwargs):
        super().__init__(label, choices=[ANY], default="any", **kwargs)

    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError("Please choose a practitioner from the list.")

    @property
    def practitioner_id(self) -> int | None:
        return None if self.data in (None, "any") else int(self.data)


def set_practitioner_choices(field: PractitionerField, practitioners) -> None:
    field.choices = [ANY] + [SelectChoice(str(p.id), p.name) for p in practitioners]


class DayField(DateField):
    """A calendar day written as YYYY-MM-DD."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Use a date like 2026-12-03 (year-month-day).") from None


# Dates outside these bounds are refused rather than risking overflow in time arithmetic.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def known_choice(message: str):
    def check(form, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(message)

    return check


class GetForm(FlaskForm):
    """A form read from the query string: bookmarkable, no CSRF (it changes nothing)."""

    class Meta:
        csrf = False


def show_refusal(form: FlaskForm, problem: ClinicError) -> None:
    """Show a service's refusal beside the field it concerns."""
    field = form[problem.field]
    field.errors = [*field.errors, str(problem)]
