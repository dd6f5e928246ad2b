"""The sign-in form: shape checks only; services.signin.authentication judges the credentials."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length

from acs_auth import messages
from acs_auth.fields import no_control_characters, password_field, strip
from acs_auth.services.text.addresses import EMAIL_MAX


class LoginForm(FlaskForm):
    """Email (or username), password and "remember me"."""

    email = StringField(
        "Email or username",
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    password = password_field("Password")
    remember = BooleanField("Keep me signed in on this device")
