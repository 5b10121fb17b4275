"""The consult list's filters, read from the query string (they also choose what an export
holds). They change nothing, so they are bookmarkable and carry no CSRF token."""

from datetime import date, timedelta

from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from clinic.web.fields import FIRST_DAY, LAST_DAY, GetForm, known_choice, printable

LONGEST_RANGE_DAYS = 366
CONSULT_STATUSES = [
    SelectChoice("any", "Any status"),
    SelectChoice("confirmed", "Confirmed"),
    SelectChoice("completed", "Completed"),
    SelectChoice("no_show", "No show"),
    SelectChoice("cancelled", "Cancelled"),
]


class ConsultFilterForm(GetForm):
    """Local dates are in the clinic's zone; the range includes both ends."""

    date_from = DateField(
        "From (date)",
        name="from",
        validators=[Optional()],
        invalid_value_message="Please give the first day as a date, like 2026-12-03.",
    )
    date_to = DateField(
        "To (date, included)",
        name="to",
        validators=[Optional()],
        invalid_value_message="Please give the last day as a date, like 2026-12-17.",
    )
    practitioner = SelectField(
        "Practitioner",
        default="any",
        validate_choice=False,
        validators=[known_choice("There is no such practitioner to choose.")],
    )
    status = SelectField(
        "Status",
        choices=CONSULT_STATUSES,
        default="any",
        validate_choice=False,
        validators=[known_choice("Please choose one of the statuses listed.")],
    )
    q = StringField(
        "Patient name or email contains",
        filters=[lambda value: value.strip() if value else ""],
        validators=[
            Length(max=100, message="Please search for at most 100 characters."),
            printable,
        ],
    )

    def fill_in(self, practitioners, today: date, default_days: int) -> None:
        """Offer ``practitioners``; an empty date becomes today or ``default_days`` later."""
        self.practitioner.choices = [SelectChoice("any", "Any practitioner")] + [
            SelectChoice(str(p.id), p.name) for p in practitioners
        ]
        if _blank(self.date_from):
            self.date_from.data = today
        first = self.date_from.data
        if _blank(self.date_to) and (first is None or FIRST_DAY <= first <= LAST_DAY):
            self.date_to.data = (first or today) + timedelta(days=default_days)

    def validate_date_from(self, field):
        if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError("Please give a date between the years 2000 and 2999.")

    def validate_date_to(self, field):
        if field.data is None or self.date_from.data is None:
            return
        if not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError("Please give a date between the years 2000 and 2999.")
        if field.data < self.date_from.data:
            raise ValidationError("The last day is before the first day.")
        if (field.data - self.date_from.data).days + 1 > LONGEST_RANGE_DAYS:
            raise ValidationError(f"Please choose at most {LONGEST_RANGE_DAYS} days at a time.")


def _blank(field) -> bool:
    return not field.raw_data or not field.raw_data[0].strip()
