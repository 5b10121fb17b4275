"""The schedule's query string (today and week views): whose consults, and which week; and
the forms connecting a practitioner's own calendars (an ICS feed, a CalDAV account) and
choosing among a CalDAV account's calendars."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

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


def _text(label: str, missing: str, longest: int, too_long: str) -> StringField:
    """A required line of ordinary text, trimmed, at most ``longest`` characters."""
    return StringField(
        label,
        filters=[strip_text],
        validators=[DataRequired(missing), Length(max=longest, message=too_long), printable_text],
    )


NAME_IT = "Name it (only staff see this)"
NAME_TOO_LONG = "Please keep the name under 100 characters."


class FeedForm(FlaskForm):
    """A practitioner's own calendar, by its ICS address (which is never shown back)."""

    label = _text(
        NAME_IT, "Please give the calendar a name, such as Home or Work.", 100, NAME_TOO_LONG
    )
    url = _text(
        "Calendar address (ICS, webcal or https)",
        "Please paste the calendar's secret address.",
        2000,
        "That address is longer than 2000 characters.",
    )


class AccountForm(FlaskForm):
    """A practitioner's CalDAV account; its app password is never shown back."""

    label = _text(
        NAME_IT, "Please give the account a name, such as iCloud or Work.", 100, NAME_TOO_LONG
    )
    server_url = _text(
        "CalDAV server address",
        "Please give the server's address, starting with https://.",
        2000,
        "That address is longer than 2000 characters.",
    )
    username = _text(
        "User name (often the account's email address)",
        "Please give the account's user name.",
        200,
        "Please keep the user name under 200 characters.",
    )
    password = PasswordField(
        "App password",
        validators=[
            DataRequired("Please give an app password made for this site."),
            Length(max=500, message="That password is longer than 500 characters."),
        ],
    )


class CalendarsForm(FlaskForm):
    """Which of a CalDAV account's calendars count as busy, and which receives consults."""

    busy = SelectMultipleField(
        "Count events in these calendars as busy",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service refuses an unknown calendar, in plain words
    )
    push = SelectField("Add booked consults to", choices=[], validate_choice=False)

    def offer(self, calendars: list[list[str]]) -> None:
        """The account's calendars, as [address, name] pairs, are the only choices."""
        self.busy.choices = [(url, name) for url, name in calendars]
        self.push.choices = [("", "None: don't add consults to this account")] + [
            (url, name) for url, name in calendars
        ]
