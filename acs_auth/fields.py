"""Form filters and validators every blueprint's forms share: the rules of services.text as
WTForms checks, so a form refuses what the services would refuse, with a form error, not a 500.

Imports only WTForms, messages and services.text; blueprints import it, never each other's
forms for these.
"""

from __future__ import annotations

from wtforms import PasswordField
from wtforms.validators import InputRequired, Length, ValidationError

from acs_auth import messages
from acs_auth.services.text.characters import PASSWORD_MAX, has_control_characters


def strip(value):
    """Trim the surrounding spaces that autofill and copy-paste add to identifiers."""
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form, field) -> None:
    """Refuse control characters: a form error, where a NUL would be a 500 on PostgreSQL."""
    if has_control_characters(field.data):
        raise ValidationError(messages.FIELD_INVALID_CHARACTERS)


def password_field(label: str, *extra) -> PasswordField:
    """A password box: required, and no longer than the hasher takes (PASSWORD_MAX).

    Not stripped: spaces are part of a password. ``extra`` adds validators after these.
    """
    return PasswordField(
        label,
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=PASSWORD_MAX, message=messages.FIELD_TOO_LONG),
            *extra,
        ],
    )
