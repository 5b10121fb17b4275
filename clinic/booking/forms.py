"""Forms of the booking flow. The JSON API validates with the same classes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
)

from clinic.web.fields import (
    DayField,
    InstantField,
    PractitionerField,
    ZoneField,
    printable,
    printable_text,
    strip_text,
)


class SlotQueryForm(FlaskForm):
    """The slot picker's query string: who, from which day, shown in which zone, and which of
    the days the patient's pages show the times of (``on``; the staff's pickers show them all)."""

    class Meta:
        csrf = False

    practitioner = PractitionerField()
    tz = ZoneField("Show times in")
    day = DayField("From", validators=[Optional()], format="%Y-%m-%d")
    on = DayField("Day", validators=[Optional()], format="%Y-%m-%d")


class HoldForm(FlaskForm):
    """A click on a free time."""

    practitioner = PractitionerField()
    tz = ZoneField(validators=[DataRequired()])
    start = InstantField("Time", validators=[InputRequired("Please choose a time.")])


class RescheduleForm(FlaskForm):
    """A click on a new time for a booked consult (the practitioner stays the same)."""

    tz = ZoneField(validators=[DataRequired()])
    start = InstantField("New time", validators=[InputRequired("Please choose a time.")])


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        filters=[strip_text],
        validators=[
            Optional(),
            Length(max=500, message="Please keep the reason under 500 characters."),
            printable_text,
        ],
    )


class PatientDetailsForm(FlaskForm):
    name = StringField(
        "Full name",
        filters=[strip_text],
        validators=[DataRequired("Please tell us your name."), Length(max=100), printable],
    )
    email = EmailField(
        "Email",
        filters=[strip_text],
        validators=[
            DataRequired("Please give an email address for your confirmation."),
            Length(max=254),
            Email(
                "Please check your email address; it doesn't look complete.",
                allow_smtputf8=False,
            ),
        ],
    )
    phone = TelField(
        "Phone (optional)",
        filters=[strip_text],
        validators=[
            Optional(),
            Length(max=30),
            Regexp(
                r"^\+?[0-9 ()\-.]{6,30}$", message="Please use digits, spaces and + ( ) - only."
            ),
        ],
    )
    consent_privacy = BooleanField(
        "I have read the privacy notice and agree to the clinic keeping these details "
        "to arrange my consult.",
        validators=[
            DataRequired("Please agree to the privacy notice so we can book your consult.")
        ],
    )
    consent_not_emergency = BooleanField(
        "I understand this is not an emergency service and the consult is not medical advice.",
        validators=[
            DataRequired("Please confirm you understand this is not an emergency service.")
        ],
    )
    marketing_opt_in = BooleanField("Send me occasional news from the clinic (optional).")
    # Hidden from people by CSS; bots that fill every field give themselves away.
    website = StringField("Leave this field empty")

    def is_bot(self) -> bool:
        return bool(self.website.data)


class ApiBookingForm(PatientDetailsForm):
    """``POST /api/v1/bookings``: the details form plus which time, without CSRF (JSON)."""

    class Meta:
        csrf = False

    practitioner = PractitionerField()
    start = InstantField("start", validators=[InputRequired("start is required.")])
    timezone = ZoneField("timezone", validators=[DataRequired("timezone is required.")])
