"""Forms that change a consult or book one (all with CSRF)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    ValidationError,
)

from clinic.booking.forms import PatientDetailsForm
from clinic.staff.alert_words import ALERT_ACTIONS
from clinic.web.fields import (
    InstantField,
    PractitionerField,
    ZoneField,
    printable_text,
    strip_text,
)


class CancelConsultForm(FlaskForm):
    reason = TextAreaField(
        "Reason for cancelling (the patient sees it in their email)",
        filters=[strip_text],
        validators=[
            DataRequired("Please give a reason; the patient sees it."),
            Length(max=500, message="Please keep the reason under 500 characters."),
            printable_text,
        ],
    )


class OutcomeForm(FlaskForm):
    outcome = RadioField(
        "How did it go?",
        choices=[
            SelectChoice("completed", "Completed"),
            SelectChoice("no_show", "No-show (the patient didn't join)"),
        ],
        validate_choice=False,
        validators=[
            InputRequired("Please choose completed or no-show."),
            AnyOf(["completed", "no_show"], message="Please choose completed or no-show."),
        ],
    )


class NoteForm(FlaskForm):
    body = TextAreaField(
        "Add a note (staff only; for running the schedule, not clinical notes)",
        filters=[strip_text],
        validators=[
            DataRequired("Please write the note first."),
            Length(max=2000, message="Please keep a note under 2,000 characters."),
            printable_text,
        ],
    )


class AcknowledgeAlertForm(FlaskForm):
    """Taking on an intake alert: what was done, and a note (required for "something else")."""

    action = RadioField(
        "What was done?",
        choices=[SelectChoice(value, label) for value, label in ALERT_ACTIONS.items()],
        validate_choice=False,
        validators=[
            InputRequired("Please choose what was done."),
            AnyOf(list(ALERT_ACTIONS), message="Please choose what was done."),
        ],
    )
    note = TextAreaField(
        "Note (optional; staff who can see this consult read it)",
        filters=[strip_text],
        validators=[
            Length(max=500, message="Please keep the note under 500 characters."),
            printable_text,
        ],
    )

    def validate_note(self, field) -> None:
        if self.action.data == "other" and not field.data:
            raise ValidationError("Please say in the note what was done.")


class StaffRescheduleForm(FlaskForm):
    """A click on a new time in the staff picker (the practitioner stays the same)."""

    tz = ZoneField(validators=[DataRequired()])
    start = InstantField("New time", validators=[InputRequired("Please choose a time.")])


class PhoneBookingForm(FlaskForm):
    """A consult booked for a patient on the phone: the time chosen, then their details."""

    practitioner = PractitionerField()
    tz = ZoneField("Patient's time zone", validators=[DataRequired()])
    start = InstantField("Time", validators=[InputRequired("Please choose a time.")])
    name = PatientDetailsForm.name
    email = PatientDetailsForm.email
    phone = PatientDetailsForm.phone
    consent = BooleanField(
        "The patient has heard the privacy notice, agrees to the clinic keeping these details, "
        "and understands this is not an emergency service or medical advice.",
        validators=[DataRequired("Please confirm the patient agreed before booking.")],
    )
