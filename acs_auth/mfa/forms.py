"""Second-factor forms: a code, a password to confirm a change, the codes to download."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from acs_auth import messages
from acs_auth.fields import password_field, strip

# Shapes only: digits, ASCII letters, spaces and hyphens, and short. A control character, a
# non-ASCII letter or a long paste answers a form error before any service looks at it.
CODE_MAX = 32
CODE_SHAPE = r"^[0-9A-Za-z -]*$"
TOTP_SHAPE = r"^[0-9 ]*$"
CODES_MAX = 400  # ten recovery codes with separators


def _code_field(label: str, shape: str, wrong_shape: str) -> StringField:
    """A short code box: trimmed, required, at most CODE_MAX long and of ``shape``."""
    return StringField(
        label,
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=CODE_MAX, message=wrong_shape),
            Regexp(shape, message=wrong_shape),
        ],
    )


class CodeForm(FlaskForm):
    """The second step: the app's current code or one recovery code."""

    code = _code_field("Code", CODE_SHAPE, messages.MFA_CODE_FORMAT)
    # Offered while MFA_REMEMBER_DAYS > 0 (services/factors/remembered.py).
    remember_browser = BooleanField("Remember this browser")


class ConfirmTotpForm(FlaskForm):
    """The first code of a new authenticator, which proves the key was copied right."""

    code = _code_field("Code from your app", TOTP_SHAPE, messages.MFA_TOTP_FORMAT)


class PasswordForm(FlaskForm):
    """The current password, asked before removing a factor or replacing recovery codes."""

    password = password_field("Current password")


class DownloadCodesForm(FlaskForm):
    """The codes just shown, posted back to come down as a text file."""

    codes = HiddenField(
        validators=[
            InputRequired(),
            Length(max=CODES_MAX),
            Regexp(r"^[0-9a-z -]*$"),
        ]
    )
