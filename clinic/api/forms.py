"""Query and body parsing for the JSON API (validation shared with the HTML forms)."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.validators import Optional

from clinic.web.fields import DayField, PractitionerField, ZoneField

BOOLEAN_FIELDS = ("consent_privacy", "consent_not_emergency", "marketing_opt_in")
TEXT_FIELDS = ("practitioner", "start", "timezone", "name", "email", "phone")


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IsoDayField(DayField):
    """Exactly YYYY-MM-DD, as the OpenAPI document says (``strptime`` alone would also take
    2026-1-5); empty means not given."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] and not _ISO_DAY.fullmatch(valuelist[0]):
            self.data = None
            raise ValueError("Use a date like 2026-12-03 (year-month-day).")
        super().process_formdata(valuelist)


class SlotsQuery(FlaskForm):
    class Meta:
        csrf = False

    practitioner = PractitionerField("practitioner")
    timezone = ZoneField("timezone")
    start_day = IsoDayField("from", name="from", validators=[Optional()], format="%Y-%m-%d")
    end_day = IsoDayField("to", name="to", validators=[Optional()], format="%Y-%m-%d")


def json_to_formdata(payload: dict) -> tuple[MultiDict[str, str], dict[str, list[str]]]:
    """Map a JSON booking body onto form data, reporting values of the wrong JSON type."""
    data: MultiDict[str, str] = MultiDict()
    errors: dict[str, list[str]] = {}
    for key in TEXT_FIELDS:
        value = payload.get(key)
        if value is None:
            continue
        if key == "practitioner" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            errors[key] = ["must be a string."]
            continue
        data[key] = value
    for key in BOOLEAN_FIELDS:
        value = payload.get(key, False)
        if not isinstance(value, bool):
            errors[key] = ["must be true or false."]
        elif value:
            data[key] = "y"
    return data, errors
