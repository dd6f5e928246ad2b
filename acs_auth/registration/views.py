"""Registration pages: step 1 (last name + email) and step 2 (the password)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from acs_auth import messages
from acs_auth.models import utcnow
from acs_auth.pages import (
    email_sent,
    endpoint_url,
    link_invalid,
    refuse_password,
    sign_in_and_redirect,
)
from acs_auth.ratelimits import (
    LINK_REQUEST,
    PASSWORD,
    address_in,
    form_field,
    limited,
    link_subject,
    path_value,
    registration_in_session,
)
from acs_auth.registration.forms import RegistrationForm, RegistrationPasswordForm
from acs_auth.services.accounts import registration
from acs_auth.services.accounts.passwords import PasswordRejected
from acs_auth.services.accounts.tokens import Purpose
from acs_auth.services.mail import link_requests

bp = Blueprint("registration", __name__)

# The in-session variant keeps only the entry's email key and when step 1 happened, in the
# signed session cookie; the entry is looked up again, and re-checked, at step 2.
SESSION_KEY = "registration"


@bp.route("/register", methods=["GET", "POST"])
@limited(LINK_REQUEST, address_in(form_field("email")))
def start():
    """Step 1: the answer never says whether the details matched (unless configured to)."""
    form = RegistrationForm()
    if not form.validate_on_submit():
        return render_template("registration/start.html", form=form)
    if not current_app.config["REGISTRATION_EMAIL_CONFIRMATION"]:
        return _start_in_session(form)
    link_requests.defer(link_requests.REGISTER, form.email.data, form.last_name.data)
    return email_sent("Check your email", messages.REGISTRATION_EMAIL_SENT)


def _start_in_session(form: RegistrationForm):
    try:
        entry = registration.start_in_session(form.last_name.data, form.email.data)
    except registration.NoMatch:
        form.email.errors = [*form.email.errors, messages.REGISTRATION_NOT_FOUND]
        return render_template("registration/start.html", form=form)
    except registration.AlreadyRegistered:
        return _account_exists()
    session[SESSION_KEY] = {"key": entry.email_key, "at": utcnow().timestamp()}
    return redirect(url_for(".password_in_session"))


def _account_exists():
    flash(messages.ACCOUNT_EXISTS, "info")
    return redirect(endpoint_url("auth.login", "/login"))


@bp.route("/register/password/<token>", methods=["GET", "POST"])
@limited(PASSWORD, link_subject(Purpose.REGISTER, path_value("token")))
def password_from_link(token: str):
    """Step 2 through the emailed link; GET shows the form and never consumes the link."""
    entry = registration.entry_for_token(token)
    if entry is None:
        return link_invalid()
    return _choose_password(entry, verified=True)


@bp.route("/register/password", methods=["GET", "POST"])
@limited(PASSWORD, registration_in_session(SESSION_KEY))
def password_in_session():
    """Step 2 of the in-session variant, valid for 30 minutes after step 1."""
    state = session.get(SESSION_KEY)
    if current_app.config["REGISTRATION_EMAIL_CONFIRMATION"] or not isinstance(state, dict):
        return _back_to_start(messages.REGISTRATION_START_AGAIN)
    try:
        entry = registration.entry_for_session(state.get("key"), state.get("at"))
    except registration.RegistrationExpired:
        return _back_to_start(messages.REGISTRATION_EXPIRED)
    if entry is None:
        return _back_to_start(messages.REGISTRATION_START_AGAIN)
    return _choose_password(entry, verified=False)


def _back_to_start(message: str):
    session.pop(SESSION_KEY, None)
    flash(message, "info")
    return redirect(url_for(".start"))


def _choose_password(entry, *, verified: bool):
    form = RegistrationPasswordForm()
    if form.validate_on_submit():
        try:
            result = registration.complete_registration(
                entry, form.password.data, verified=verified
            )
        except registration.AlreadyRegistered:
            return _account_exists()
        except PasswordRejected as exc:
            refuse_password(form, exc)
        else:
            return sign_in_and_redirect(result, messages.REGISTRATION_DONE)
    return render_template(
        "registration/password.html", form=form, email=entry.email, action=request.path
    )
