"""Browser sign-in: the login page, logout, and the old URLs that lead to them."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from acs_auth import messages, security
from acs_auth.auth.forms import LoginForm
from acs_auth.ratelimits import SIGN_IN, account_named_by, form_field, limited
from acs_auth.services.accounts import accounts
from acs_auth.services.signin import browser, seam

bp = Blueprint("auth", __name__)


@bp.get("/")
def home():
    """Signed-in visitors go to their programs, everyone else to the sign-in page."""
    endpoint = "programs.index" if current_user.is_authenticated else "auth.login"
    return redirect(url_for(endpoint))


@bp.route("/login", methods=["GET", "POST"])
@limited(SIGN_IN, account_named_by(form_field("email")))
def login():
    """Email + password sign-in; every failure answers with the same page and status."""
    target = security.safe_next(request.args.get("next")) or url_for("programs.index")
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        attempt = seam.sign_in(
            form.email.data,
            form.password.data,
            _channel_for(target),
            remember=form.remember.data,
            next_url=target,
        )
        answer = browser.proceed(attempt, target, form.remember.data)
        if answer is not None:
            return answer
        # Unknown email, wrong password, locked, inactive, no password yet: one answer for all.
        failed = True
    return render_template(
        "auth/login.html", form=form, failed=failed, failed_message=messages.LOGIN_FAILED
    )


def _channel_for(target: str) -> seam.Channel:
    """A sign-in on its way back to the identity provider's authorize step is the provider's."""
    return seam.Channel.PROVIDER if target.startswith("/oauth/authorize") else seam.Channel.BROWSER


@bp.post("/logout")
def logout():
    """End this browser's session on the server, then forget it in the browser."""
    row = getattr(current_user, "auth_session", None)
    if current_user.is_authenticated and row is not None:
        accounts.sign_out(row)
    return browser.end_to_login(messages.LOGGED_OUT, "info")


@bp.get("/login/last-name")
@bp.get("/login-lastname")
def legacy_login():
    """The seed's last-name sign-in moved: send bookmarks to the email sign-in page."""
    flash(messages.LEGACY_LOGIN_MOVED, "info")
    return redirect(url_for("auth.login"), code=301)
