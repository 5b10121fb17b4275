"""Forms of the availability pages: weekly hours, time off, closures, one-day overrides.

Times are wall-clock times in the practitioner's zone (the clinic's, for closures)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from clinic.web.fields import printable

TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _time(label: str, required: str | None = None) -> TimeField:
    check = InputRequired(required) if required else Optional()
    return TimeField(
        label,
        format=TIME_FORMATS,
        validators=[check],
        invalid_value_message="Use a time like 09:30.",
    )


def _local(label: str, required: str) -> DateTimeLocalField:
    return DateTimeLocalField(
        label,
        format=LOCAL_FORMATS,
        validators=[InputRequired(required)],
        invalid_value_message="Use a date and time like 2026-12-03 09:30.",
    )


def _reason() -> StringField:
    return StringField(
        "Note for staff (optional, no health details)",
        validators=[
            Optional(),
            Length(max=200, message="Please keep it under 200 characters."),
            printable,
        ],
    )


class WeekdayField(SelectField):
    """0 (Monday) to 6 (Sunday), chosen by name."""

    def __init__(self, label: str = "Day of the week", **kwargs):
        choices = [SelectChoice(i, name) for i, name in enumerate(WEEKDAY_NAMES)]
        super().__init__(label, choices=choices, coerce=int, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Please choose a day of the week.") from None

    def pre_validate(self, form):
        if self.data not in range(7):
            raise ValidationError("Please choose a day of the week.")


class WeeklyHoursForm(FlaskForm):
    weekday = WeekdayField()
    start = _time("From", "Please give the time the hours start.")
    end = _time("To (00:00 means midnight)", "Please give the time the hours end.")


class TimeOffForm(FlaskForm):
    starts = _local("From (date and time)", "Please give the date and time it starts.")
    ends = _local("To (date and time)", "Please give the date and time it ends.")
    reason = _reason()


OVERRIDE_RANGES = 3


class OverrideForm(FlaskForm):
    """A day's own hours: up to three ranges, or "not working"."""

    day = DateField(
        "Day",
        validators=[InputRequired("Please give the day.")],
        invalid_value_message="Use a date like 2026-12-24.",
    )
    off = BooleanField("Not working this day")
    start_1, end_1 = _time("First range: from"), _time("First range: to")
    start_2, end_2 = _time("Second range: from"), _time("Second range: to")
    start_3, end_3 = _time("Third range: from"), _time("Third range: to")
    note = _reason()

    def ranges(self) -> dict[str, tuple]:
        """The ranges given, keyed by their start field's name."""
        found = {}
        for i in range(1, OVERRIDE_RANGES + 1):
            start, end = self[f"start_{i}"].data, self[f"end_{i}"].data
            if start is not None and end is not None:
                found[f"start_{i}"] = (start, end)
        return found

    def validate(self, extra_validators=None) -> bool:
        """Each range whole; hours or "not working", never both or neither."""
        if not super().validate(extra_validators):
            return False
        for i in range(1, OVERRIDE_RANGES + 1):
            start, end = self[f"start_{i}"], self[f"end_{i}"]
            if (start.data is None) != (end.data is None):
                missing = start if start.data is None else end
                missing.errors.append("Please give both the start and the end of this range.")
                return False
        if self.off.data and self.ranges():
            self.off.errors.append("Untick “Not working this day”, or clear the hours.")
            return False
        if not self.off.data and not self.ranges():
            self.start_1.errors.append(
                "Please give at least one range of hours, or tick “Not working this day”."
            )
            return False
        return True
