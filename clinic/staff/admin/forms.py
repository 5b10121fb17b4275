"""Forms of the admin's pages: the clinic's settings, crisis lines, practitioners and consult
types."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, SubmitField, TextAreaField, TimeField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from clinic.staff.admin.fields import (
    ReminderTimesField,
    WeekdaysField,
    WholeNumberField,
    meeting_link,
    placeholders,
    strip,
)
from clinic.staff.availability.forms import TIME_FORMATS
from clinic.web.fields import ZoneField, printable, printable_text


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _name(label: str, required: str, max_length: int = 120) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(required),
            Length(max=max_length, message=f"Please keep it under {max_length} characters."),
            printable,
        ],
    )


def _clock(label: str, required: str) -> TimeField:
    return TimeField(
        label,
        format=TIME_FORMATS,
        validators=[InputRequired(required)],
        invalid_value_message="Use a time like 09:30.",
    )


def _email(label: str, required: str) -> EmailField:
    return EmailField(
        label,
        filters=[_lower],
        validators=[
            DataRequired(required),
            Length(max=254, message="Please keep the email address under 254 characters."),
            Email(
                "Please check the email address; it doesn't look complete.", allow_smtputf8=False
            ),
        ],
    )


class ClinicSettingsForm(FlaskForm):
    """Every field is a column of ``ClinicSettings`` of the same name."""

    name = _name("Clinic name", "Please give the clinic's name.")
    timezone = ZoneField(
        "Clinic time zone", validators=[DataRequired("Please choose the clinic's time zone.")]
    )
    contact_email = _email("Contact email", "Please give an email address patients can write to.")
    contact_phone = StringField(
        "Contact phone (optional)",
        filters=[strip],
        validators=[
            Optional(),
            Regexp(
                r"^\+?[0-9 ()\-.]{6,40}$", message="Please use digits, spaces and + ( ) - only."
            ),
        ],
    )
    min_notice_minutes = WholeNumberField("Minimum notice (minutes)", 0, 10080, "minutes")
    horizon_days = WholeNumberField("Booking horizon (days)", 1, 365, "days")
    buffer_minutes = WholeNumberField("Gap between consults (minutes)", 0, 240, "minutes")
    slot_step_minutes = WholeNumberField("Start times every (minutes)", 5, 240, "minutes")
    hold_minutes = WholeNumberField("Hold a chosen time for (minutes)", 1, 60, "minutes")
    daily_cap = WholeNumberField(
        "Daily cap per practitioner (consults, optional)", 1, 50, "consults", blank_ok=True
    )
    reminder_minutes = ReminderTimesField("Reminder emails (minutes before the start)")
    change_cutoff_minutes = WholeNumberField(
        "Online changes close (minutes before the start)", 0, 10080, "minutes"
    )
    office_days = WeekdaysField("Office days")
    office_opens = _clock("Office opens", "Please give the time the office opens.")
    office_closes = _clock("Office closes", "Please give the time the office closes.")
    alert_escalate_minutes = WholeNumberField(
        "Urgent alerts go to the admins after (minutes)", 15, 1440, "minutes"
    )
    followup_text = TextAreaField(
        "What a patient with a flagged answer is told will happen next",
        filters=[strip],
        validators=[
            DataRequired(
                "Please give the follow-up text: patients whose answers raise a flag read it."
            ),
            Length(max=2000, message="Please keep the follow-up text under 2000 characters."),
            printable_text,
            placeholders("{hours}", "{response}"),
        ],
    )
    feed_full_names = BooleanField("Show patients' full names in calendar feeds")

    def validate_office_closes(self, field) -> None:
        opens = self.office_opens.data
        if field.data is not None and opens is not None and field.data <= opens:
            raise ValidationError("The office must close later in the day than it opens.")

    def validate_min_notice_minutes(self, field) -> None:
        horizon = self.horizon_days.data
        if field.data is not None and horizon is not None and field.data >= horizon * 24 * 60:
            raise ValidationError(
                "The minimum notice must be shorter than the booking horizon, "
                "or no time could ever be booked."
            )


def _crisis_text(max_length: int) -> TextAreaField:
    return TextAreaField(
        "Crisis text",
        filters=[strip],
        validators=[
            DataRequired(
                "Please give the crisis text: patients whose answers signal a risk see it."
            ),
            Length(
                max=max_length,
                message=f"Please keep the crisis text under {max_length} characters.",
            ),
            printable_text,
        ],
    )


class CrisisLineForm(FlaskForm):
    """What patients in one listed country see; ``use_builtin`` (a second button) goes back
    to the built-in text instead of saving ``text``."""

    text = _crisis_text(1000)
    use_builtin = SubmitField("Use the built-in text")


class OtherCrisisTextForm(CrisisLineForm):
    """``ClinicSettings.crisis_text``: what patients in every other country see."""

    text = _crisis_text(2000)


class PractitionerForm(FlaskForm):
    """Every field is a column of ``Practitioner`` of the same name."""

    name = _name("Name", "Please give the practitioner's name.")
    email = _email("Email", "Please give the practitioner's email address.")
    title = StringField(
        "Title (optional)",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=120, message="Please keep it under 120 characters."),
            printable,
        ],
    )
    bio = TextAreaField(
        "Short biography (optional)",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=2000, message="Please keep the biography under 2000 characters."),
            printable_text,
        ],
    )
    timezone = ZoneField(
        "Time zone", validators=[DataRequired("Please choose the practitioner's time zone.")]
    )
    meeting_link = StringField(
        "Video meeting link",
        filters=[strip],
        validators=[
            DataRequired("Please give the link patients use to join the video consult."),
            Length(max=500, message="Please keep the link under 500 characters."),
            meeting_link,
        ],
    )
    active = BooleanField("Takes new bookings", default=True)


class ConsultTypeForm(FlaskForm):
    name = _name("Name", "Please give the consult type a name.")
    duration_minutes = WholeNumberField("Length (minutes)", 5, 240, "minutes")
    active = BooleanField("Offered for booking")
