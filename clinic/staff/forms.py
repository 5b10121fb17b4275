from datetime import date

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from clinic.booking.forms import DayField


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Please give your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Please give your password.")])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired("Please give your current password.")]
    )
    new = PasswordField(
        "New password (at least 12 characters)",
        validators=[
            DataRequired("Please choose a new password."),
            Length(min=12, message="Please choose a password of at least 12 characters."),
        ],
    )
    repeat = PasswordField(
        "New password again",
        validators=[EqualTo("new", message="The two new passwords don't match.")],
    )


# --- the schedule's filters (today and week views) --------------------------------------------

WHOLE_CLINIC = "all"
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


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
            raise ValidationError("Please choose a day between 1970 and 2999.")
