"""Self-service forms: profile and password change. Shape checks only; services decide."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from acs_auth import messages
from acs_auth.fields import password_field, strip
from acs_auth.services.text.addresses import EMAIL_MAX
from acs_auth.services.text.identifiers import USERNAME_MAX, USERNAME_REGEX
from acs_auth.services.text.names import NAME_MAX


class ProfileForm(FlaskForm):
    """The names and username a person may change; email and role are not fields here."""

    first_name = StringField(
        "First name",
        filters=[strip],
        validators=[
            DataRequired(messages.FIELD_REQUIRED),
            Length(max=NAME_MAX, message=messages.FIELD_TOO_LONG),
        ],
    )
    last_name = StringField(
        "Last name",
        filters=[strip],
        validators=[
            DataRequired(messages.FIELD_REQUIRED),
            Length(max=NAME_MAX, message=messages.FIELD_TOO_LONG),
        ],
    )
    username = StringField(
        "Username (optional)",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=USERNAME_MAX, message=messages.FIELD_TOO_LONG),
            Regexp(f"^{USERNAME_REGEX}$", message=messages.USERNAME_INVALID),
        ],
    )


class ChangeEmailForm(FlaskForm):
    """A new email address, confirmed by the current password (and then by an emailed link)."""

    new_email = StringField(
        "New email address",
        filters=[strip],
        validators=[
            DataRequired(messages.FIELD_REQUIRED),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
        ],
    )
    email_password = password_field("Current password")


class ConfirmEmailForm(FlaskForm):
    """The button on the confirmation page (a POST, so a mail scanner's GET changes nothing)."""


class ChangePasswordForm(FlaskForm):
    """Current password, new password and its confirmation."""

    current_password = password_field("Current password")
    new_password = password_field("New password")
    confirm_password = password_field(
        "Confirm the new password", EqualTo("new_password", messages.PASSWORD_MISMATCH)
    )
    revoke_api_keys = BooleanField("Also revoke my API keys")
