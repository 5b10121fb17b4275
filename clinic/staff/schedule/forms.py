"""The schedule's query string (today and week views): whose consults, and which week; and
the form connecting a practitioner's own calendar."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from clinic.web.fields import FIRST_DAY, LAST_DAY, DayField, printable_text, strip_text

WHOLE_CLINIC = "all"


class ScheduleFilterForm(FlaskForm):
    """The schedule's query string: one practitioner's consults (their id) or "all"."""

    class Meta:
        csrf = False

    practitioner = SelectField(
        "Practitioner",
        choices=[SelectChoice(WHOLE_CLINIC, "Whole clinic")],
        invalid_choice_message="Please choose a practitioner from the list.",
    )

    def set_practitioners(self, practitioners) -> None:
        self.practitioner.choices = [SelectChoice(WHOLE_CLINIC, "Whole clinic")] + [
            SelectChoice(str(p.id), p.name if p.active else f"{p.name} (inactive)")
            for p in practitioners
        ]

    @property
    def practitioner_id(self) -> int | None:
        """The chosen practitioner's id, or None for the whole clinic (valid forms only)."""
        data = self.practitioner.data
        return None if data == WHOLE_CLINIC else int(data)


class WeekQueryForm(ScheduleFilterForm):
    day = DayField("Show the week of", validators=[Optional()], format="%Y-%m-%d")

    def validate_day(self, field) -> None:
        if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError("Please choose a day between 2000 and 2999.")


class FeedForm(FlaskForm):
    """A practitioner's own calendar, by its ICS address (which is never shown back)."""

    label = StringField(
        "Name it (only staff see this)",
        filters=[strip_text],
        validators=[
            DataRequired("Please give the calendar a name, such as Home or Work."),
            Length(max=100, message="Please keep the name under 100 characters."),
            printable_text,
        ],
    )
    url = StringField(
        "Calendar address (ICS, webcal or https)",
        filters=[strip_text],
        validators=[
            DataRequired("Please paste the calendar's secret address."),
            Length(max=2000, message="That address is longer than 2000 characters."),
            printable_text,
        ],
    )
