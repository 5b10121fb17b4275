from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


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
