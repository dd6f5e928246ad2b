"""Self-service: profile, password change, the devices signed in and the API keys."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from acs_auth import messages
from acs_auth.account.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmEmailForm,
    ProfileForm,
)
from acs_auth.models import utcnow
from acs_auth.ratelimits import PASSWORD, limited, signed_in_account
from acs_auth.services import factors
from acs_auth.services.accounts import accounts, email_change, passwords
from acs_auth.services.factors import remembered
from acs_auth.services.signin import activity, api_keys, api_quota, browser, sessions

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def _require_login():
    """Every page of this blueprint, whatever the method, needs a signed-in user."""


def _page(
    profile_form: ProfileForm | None = None,
    password_form: ChangePasswordForm | None = None,
    email_form: ChangeEmailForm | None = None,
):
    """Render the account page; a form that was just posted keeps its input and errors."""
    return render_template(
        "account/index.html",
        profile_form=profile_form or ProfileForm(formdata=None, obj=current_user),
        password_form=password_form or ChangePasswordForm(formdata=None),
        email_form=email_form or ChangeEmailForm(formdata=None),
        live_sessions=sessions.list_live(current_user),
        keys=api_keys.list_for(current_user),
        activity=activity.recent(current_user),
        now=utcnow(),
        current_session_id=current_user.auth_session.public_id,
        describe_device=sessions.describe_device,
        key_usage=api_quota.key_usage,
        remembered_browsers=remembered.list_live(current_user),
        second_factors=factors.overview(current_user),
    )


@bp.get("")
def index():
    """The account page."""
    return _page()


@bp.post("/profile")
def update_profile():
    """Change names and username; any other posted field (email, role…) is ignored."""
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                current_user,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                username=form.username.data,
            )
        except accounts.AccountExists:
            form.username.errors.append(messages.USERNAME_TAKEN)
        except accounts.ProfileInvalid as exc:
            form[exc.field].errors.append(str(exc))
        else:
            flash(messages.PROFILE_UPDATED, "success")
            return redirect(url_for("account.index"))
    return _page(profile_form=form)


@bp.post("/password")
@limited(PASSWORD, signed_in_account)
def change_password():
    """Change the password; this device stays signed in, every other one is signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                keep=current_user.auth_session,
                revoke_keys=form.revoke_api_keys.data,
            )
        except accounts.SignedOutByLock:
            return browser.end_to_login(messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS)
        except accounts.CurrentPasswordWrong:
            form.current_password.errors.append(messages.CURRENT_PASSWORD_WRONG)
        except passwords.PasswordRejected as exc:
            form.new_password.errors.append(str(exc))
        else:
            flash(messages.PASSWORD_CHANGED, "success")
            return redirect(url_for("account.index"))
    return _page(password_form=form)


@bp.post("/email")
@limited(PASSWORD, signed_in_account)
def change_email():
    """Ask to change the email address: the current password, then a link to the new one."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            accounts.confirm_password(
                current_user,
                form.email_password.data,
                current_user.auth_session,
                "account.email_change_password_wrong",
            )
            address = email_change.request_change(current_user, form.new_email.data)
        except accounts.SignedOutByLock:
            return browser.end_to_login(messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS)
        except accounts.CurrentPasswordWrong:
            form.email_password.errors.append(messages.CURRENT_PASSWORD_WRONG)
        except email_change.EmailChangeInvalid as exc:
            form.new_email.errors.append(str(exc))
        else:
            flash(messages.EMAIL_CHANGE_SENT.format(address=address), "success")
            return redirect(url_for("account.index"))
    return _page(email_form=form)


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """Confirm a new address through its emailed link, signed in as the account it is for."""
    address = email_change.pending_address(token)
    if address is None or email_change.user_id_of(token) != current_user.id:
        flash(messages.EMAIL_CHANGE_LINK_INVALID, "error")
        return redirect(url_for("account.index"))
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        return render_template("account/confirm_email.html", form=form, address=address)
    try:
        email_change.confirm_change(token)
    except email_change.ChangeLinkInvalid:
        flash(messages.EMAIL_CHANGE_LINK_INVALID, "error")
    else:
        flash(messages.EMAIL_CHANGE_DONE.format(address=address), "success")
    return redirect(url_for("account.index"))


@bp.post("/sessions/<public_id>/revoke")
def revoke_session(public_id: str):
    """Sign out one of the user's own devices; another user's session answers 404."""
    is_current = public_id == current_user.auth_session.public_id
    if not accounts.sign_out_session(current_user, public_id):
        abort(404)
    if is_current:
        return browser.end_to_login(messages.SESSION_ENDED, "info")
    flash(messages.SESSION_REVOKED, "success")
    return redirect(url_for("account.index"))


@bp.post("/sessions/revoke-others")
def revoke_other_sessions():
    """Sign out every device but this one (browsers and API clients alike)."""
    accounts.sign_out_everywhere(current_user, keep=current_user.auth_session)
    flash(messages.OTHER_SESSIONS_REVOKED, "success")
    return redirect(url_for("account.index"))


@bp.post("/remembered-browsers/<public_id>/forget")
def forget_browser(public_id: str):
    """Make one remembered browser ask for the second factor again; another's answers 404."""
    if not remembered.revoke(current_user, public_id):
        abort(404)
    flash(messages.REMEMBERED_BROWSER_REVOKED, "success")
    return redirect(url_for("account.index"))


@bp.post("/api-keys/<public_id>/revoke")
def revoke_api_key(public_id: str):
    """Revoke one of the user's own API keys at once; another person's answers 404."""
    key = api_keys.revoke(current_user, public_id[:32])
    if key is None:
        abort(404)
    flash(messages.API_KEY_REVOKED.format(prefix=key.prefix), "success")
    return redirect(url_for("account.index"))
