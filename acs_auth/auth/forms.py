"""The sign-in form: shape checks only; services.signin.authentication judges the credentials."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from acs_auth import messages
from acs_auth.services.text.characters import has_control_characters

# Longer than any password the policy accepts; a cap keeps a huge field from costing work.
PASSWORD_FIELD_MAX = 1024


def strip(value):
    """Trim surrounding spaces that autofill and copy-paste add to identifiers."""
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form, field) -> None:
    """Refuse control characters: a form error, where a NUL would be a 500 on PostgreSQL."""
    if has_control_characters(field.data):
        raise ValidationError(messages.FIELD_INVALID_CHARACTERS)


class LoginForm(FlaskForm):
    """Email (or username), password and "remember me"."""

    email = StringField(
        "Email or username",
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=254, message=messages.FIELD_TOO_LONG),
            no_control_characters,
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
