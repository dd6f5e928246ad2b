"""Passkey forms: shape checks only; the passkeys service decides."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from acs_auth import messages
from acs_auth.fields import password_field, strip
from acs_auth.services.factors.passkeys import NAME_MAX


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
    password = password_field("Current password")


class RenamePasskeyForm(FlaskForm):
    """A new name for one passkey."""

    name = _name()


class RemovePasskeyForm(FlaskForm):
    """Remove one passkey (the CSRF token is the only field)."""
