"""Passkey forms: shape checks only; the passkeys service decides."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from acs_auth import messages
from acs_auth.fields import strip
from acs_auth.services.factors.passkeys import NAME_MAX
from acs_auth.services.text.characters import PASSWORD_MAX


def _name() -> StringField:
    return StringField(
        "Name",
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=NAME_MAX, message=messages.PASSKEY_NAME_INVALID),
        ],
    )


class AddPasskeyForm(FlaskForm):
    """Start adding a passkey: what to call it, and the current password to confirm it is you."""

    name = _name()
    password = PasswordField(
        "Current password",
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=PASSWORD_MAX, message=messages.FIELD_TOO_LONG),
        ],
    )


class RenamePasskeyForm(FlaskForm):
    """A new name for one passkey."""

    name = _name()


class RemovePasskeyForm(FlaskForm):
    """Remove one passkey (the CSRF token is the only field)."""
