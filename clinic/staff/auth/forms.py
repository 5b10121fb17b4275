"""Signing in and changing one's password."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from clinic.web.fields import printable


class SignInForm(FlaskForm):
    # Checked before the account is looked up: PostgreSQL refuses NUL in a query's text.
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Please give your email address."),
            Length(max=254, message="Please check your email address; it is too long."),
            printable,
        ],
    )
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
