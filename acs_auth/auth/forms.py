"""The sign-in form: shape checks only; the credentials are judged by services.authentication."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from acs_auth import messages

# Longer than any password the policy accepts; a cap keeps a huge field from costing work.
PASSWORD_FIELD_MAX = 1024


def strip(value):
    """Trim surrounding spaces that autofill and copy-paste add to identifiers."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    """Email (or username), password and "remember me"."""

    email = StringField(
        "Email or username",
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=254, message=messages.FIELD_TOO_LONG),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=PASSWORD_FIELD_MAX, message=messages.FIELD_TOO_LONG),
        ],
    )
    remember = BooleanField("Keep me signed in on this device")
