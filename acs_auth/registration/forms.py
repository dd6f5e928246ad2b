"""Forms of the registration pages."""

from flask_wtf import FlaskForm

from acs_auth.passwords.forms import NewPasswordForm, email_field, last_name_field


class RegistrationForm(FlaskForm):
    """Step 1: the last name and email that the authorization list holds."""

    last_name = last_name_field()
    email = email_field()


class RegistrationPasswordForm(NewPasswordForm):
    """Step 2: the password of the new account."""
