"""Filter forms read from query strings: the schedule, the consult list and export, the outbox
and the audit log. They change nothing, so they are bookmarkable and carry no CSRF token."""

from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from clinic.web.fields import DayField, printable

# Dates outside these bounds are refused rather than risking overflow in time arithmetic.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
LONGEST_RANGE_DAYS = 366
WHOLE_CLINIC = "all"
CONSULT_STATUSES = [
    SelectChoice("any", "Any status"),
    SelectChoice("confirmed", "Confirmed"),
    SelectChoice("completed", "Completed"),
    SelectChoice("no_show", "No show"),
    SelectChoice("cancelled", "Cancelled"),
]


class GetForm(FlaskForm):
    """A filter form read from the query string: bookmarkable, no CSRF (it changes nothing)."""

    class Meta:
        csrf = False


def _known_choice(message: str):
    def check(form, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(message)

    return check


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
        validators=[_known_choice("There is no such practitioner to choose.")],
    )
    status = SelectField(
        "Status",
        choices=CONSULT_STATUSES,
        default="any",
        validate_choice=False,
        validators=[_known_choice("Please choose one of the statuses listed.")],
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


class OutboxFilterForm(GetForm):
    status = SelectField(
        "Status",
        default="any",
        validate_choice=False,
        choices=[
            SelectChoice("any", "Any status (failed and pending first)"),
            SelectChoice("failed", "Failed"),
            SelectChoice("pending", "Pending"),
            SelectChoice("sending", "Sending"),
            SelectChoice("sent", "Sent"),
            SelectChoice("dropped", "Dropped"),
            SelectChoice("logged", "Logged (no mail server)"),
        ],
        validators=[_known_choice("Please choose one of the statuses listed.")],
    )


class AuditFilterForm(GetForm):
    action = SelectField(
        "Action",
        default="any",
        validate_choice=False,
        validators=[_known_choice("There is no such action in the log.")],
    )
    staff = SelectField(
        "Staff member",
        default="any",
        validate_choice=False,
        validators=[_known_choice("There is no such staff member.")],
    )

    def fill_in(self, actions, staff) -> None:
        """Offer the actions found in the log and every staff account."""
        self.action.choices = [SelectChoice("any", "Any action")] + [
            SelectChoice(a, a.replace("_", " ")) for a in actions
        ]
        self.staff.choices = [
            SelectChoice("any", "Anyone"),
            SelectChoice("unknown", "Unknown (no staff account)"),
        ] + [SelectChoice(str(s.id), s.email) for s in staff]


# --- the schedule (today and week views) ---


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
