"""Password pages: forgotten password, first-time setup, and the emailed links that set one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request

from acs_auth import messages
from acs_auth.pages import (
    email_sent,
    endpoint_url,
    link_invalid,
    refuse_password,
    sign_in_and_redirect,
)
from acs_auth.passwords.forms import FirstTimePasswordForm, ForgotPasswordForm, NewPasswordForm
from acs_auth.ratelimits import (
    LINK_REQUEST,
    PASSWORD,
    address_in,
    form_field,
    limited,
    link_subject,
    path_value,
    reset_address_in,
)
from acs_auth.services.accounts import recovery
from acs_auth.services.accounts.passwords import PasswordRejected
from acs_auth.services.accounts.tokens import Purpose
from acs_auth.services.mail import link_requests
from acs_auth.services.signin import browser

bp = Blueprint("passwords", __name__)


def signed_out_to_login(message: str):
    """Forget whoever this browser held and send it to /login (a reset never signs in)."""
    browser.end()
    flash(message, "success")
    return redirect(endpoint_url("auth.login", "/login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limited(LINK_REQUEST, reset_address_in(form_field("email")))
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("passwords/forgot.html", form=form)
    link_requests.defer(link_requests.RESET, form.email.data)
    return email_sent("Check your email", messages.RESET_EMAIL_SENT)


@bp.route("/first-time-password", methods=["GET", "POST"])
@limited(LINK_REQUEST, address_in(form_field("email")))
def first_time_password():
    """Ask for the setup link of an account created without a password."""
    form = FirstTimePasswordForm()
    if not form.validate_on_submit():
        return render_template("passwords/first_time.html", form=form)
    link_requests.defer(link_requests.SETUP, form.email.data, form.last_name.data)
    return email_sent("Check your email", messages.SETUP_EMAIL_SENT)


def _password_from_link(purpose: Purpose, token: str, template: str, done: str):
    # GET only reads the token; it is consumed when the new password is committed, because
    # the token is bound to the password hash that this changes.
    user = recovery.user_for_token(purpose, token)
    if user is None:
        return link_invalid()
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            result = recovery.complete(purpose, token, form.password.data)
        except recovery.LinkInvalid:
            return link_invalid()
        except PasswordRejected as exc:
            refuse_password(form, exc)
        else:
            if result is None:
                return signed_out_to_login(done)
            return sign_in_and_redirect(result, done)
    return render_template(template, form=form, email=user.email, action=request.path)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limited(PASSWORD, link_subject(Purpose.RESET, path_value("token")))
def reset_password(token: str):
    """Choose a new password through a reset link."""
    return _password_from_link(
        Purpose.RESET, token, "passwords/reset.html", messages.PASSWORD_RESET_DONE
    )


@bp.route("/setup-password/<token>", methods=["GET", "POST"])
@limited(PASSWORD, link_subject(Purpose.SETUP, path_value("token")))
def setup_password(token: str):
    """Choose the first password through a setup link."""
    return _password_from_link(Purpose.SETUP, token, "passwords/setup.html", messages.PASSWORD_SET)
