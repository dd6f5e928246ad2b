"""Forms of the password pages; their fields are shared with the registration pages."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from acs_auth import messages
from acs_auth.fields import no_control_characters, strip
from acs_auth.services.text.addresses import (
    EMAIL_MAX,
    InvalidEmail,
    LookalikeEmail,
    validate_address,
)
from acs_auth.services.text.names import NAME_MAX


def _valid_email(form, field) -> None:
    """Shape only: whether the address belongs to anyone is for the service to find out."""
    try:
        validate_address(field.data)
    except LookalikeEmail:
        raise ValidationError(messages.EMAIL_LOOKALIKE) from None
    except InvalidEmail:
        raise ValidationError(messages.EMAIL_INVALID) from None


def _email_or_username(form, field) -> None:
    """Anything with an "@" must be a well-formed address; anything else is a username."""
    if "@" in (field.data or ""):
        _valid_email(form, field)


def email_field() -> EmailField:
    """The email box: required, at most EMAIL_MAX characters, a well-formed address."""
    return EmailField(
        "Email",
        validators=[
            DataRequired(messages.FIELD_REQUIRED),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
            _valid_email,
        ],
    )


def last_name_field() -> StringField:
    """The last-name box used to match the authorization list."""
    return StringField(
        "Last name",
        validators=[
            DataRequired(messages.FIELD_REQUIRED),
            Length(max=NAME_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )


class ForgotPasswordForm(FlaskForm):
    """Ask for a reset link by email or username; the link goes only to the stored address."""

    email = StringField(
        "Email or username",
        filters=[strip],
        validators=[
            DataRequired(messages.FIELD_REQUIRED),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
            _email_or_username,
        ],
    )


class FirstTimePasswordForm(FlaskForm):
    """Ask for the setup link of an account that has no password yet."""

    last_name = last_name_field()
    email = email_field()


class NewPasswordForm(FlaskForm):
    """Choose a password: the policy itself is applied by the service, which gives the reason."""

    password = PasswordField("New password", validators=[DataRequired(messages.FIELD_REQUIRED)])
    confirm = PasswordField(
        "Confirm the new password",
        validators=[
            DataRequired(messages.FIELD_REQUIRED),
            EqualTo("password", message=messages.PASSWORD_MISMATCH),
        ],
    )
