"""Two-step sign-in on /account: set up or remove an authenticator app, recovery codes."""

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user, login_required

from acs_auth import messages
from acs_auth.mfa.forms import ConfirmTotpForm, DownloadCodesForm, PasswordForm
from acs_auth.ratelimits import PASSWORD, limited, signed_in_account
from acs_auth.services.factors import recovery_codes, state, totp
from acs_auth.services.signin import authentication, browser

bp = Blueprint("mfa", __name__, url_prefix="/account/two-step")


@bp.before_request
@login_required
def _require_login():
    """Every page of this blueprint, whatever the method, needs a signed-in user."""


def _index(remove_form: PasswordForm | None = None, codes_form: PasswordForm | None = None):
    return render_template(
        "mfa/index.html",
        overview=state.overview(current_user),
        remove_form=remove_form or PasswordForm(formdata=None, prefix="remove"),
        codes_form=codes_form or PasswordForm(formdata=None, prefix="codes"),
    )


def _codes_page(codes: list[str], message: str):
    """The recovery codes, shown this once; the page is never stored (no-store)."""
    flash(message, "success")
    form = DownloadCodesForm(formdata=None, codes=" ".join(codes))
    return render_template("mfa/recovery_codes.html", codes=codes, form=form)


@bp.get("")
def index():
    """What protects the account, with the actions for each factor."""
    return _index()


@bp.post("/authenticator")
def start_totp():
    """Begin setting up an authenticator app: a new key, shown on the next page."""
    try:
        totp.begin(current_user)
    except totp.AlreadyEnrolled:
        flash(messages.MFA_TOTP_ALREADY, "error")
        return redirect(url_for("mfa.index"))
    flash(messages.MFA_TOTP_STARTED, "info")
    return redirect(url_for("mfa.enrol_totp"))


@bp.get("/authenticator")
def enrol_totp(form: ConfirmTotpForm | None = None):
    """The key of the enrolment begun: QR code, text, and the box for a first code."""
    enrolment = totp.pending(current_user)
    if enrolment is None:
        flash(messages.MFA_TOTP_NOT_STARTED, "info")
        return redirect(url_for("mfa.index"))
    form = form or ConfirmTotpForm(formdata=None)
    return render_template("mfa/enrol_totp.html", enrolment=enrolment, form=form)


@bp.post("/authenticator/confirm")
@limited(PASSWORD, signed_in_account)
def confirm_totp():
    """Activate the authenticator with its first code; show the recovery codes once."""
    form = ConfirmTotpForm()
    if form.validate_on_submit():
        try:
            codes = totp.confirm(current_user, form.code.data)
        except totp.NotEnrolled:
            flash(messages.MFA_TOTP_NOT_STARTED, "info")
            return redirect(url_for("mfa.index"))
        except totp.CodeRefused:
            form.code.errors.append(messages.MFA_CODE_WRONG)
        else:
            return _codes_page(codes, messages.MFA_TOTP_ENABLED)
    return enrol_totp(form)


@bp.post("/authenticator/remove")
@limited(PASSWORD, signed_in_account)
def remove_totp():
    """Remove the authenticator app, behind the current password."""
    form = PasswordForm(prefix="remove")
    if form.validate_on_submit():
        try:
            totp.remove(current_user, form.password.data, current_user.auth_session)
        except authentication.SignedOutByLock:
            return browser.end_to_login(messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS)
        except authentication.CurrentPasswordWrong:
            form.password.errors.append(messages.CURRENT_PASSWORD_WRONG)
        except totp.NotEnrolled:
            flash(messages.MFA_NOTHING_TO_REMOVE, "info")
            return redirect(url_for("mfa.index"))
        else:
            flash(messages.MFA_TOTP_REMOVED, "success")
            return redirect(url_for("mfa.index"))
    return _index(remove_form=form)


@bp.post("/recovery-codes")
@limited(PASSWORD, signed_in_account)
def regenerate_codes():
    """Replace the recovery codes with ten new ones, behind the current password."""
    form = PasswordForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = recovery_codes.regenerate(
                current_user, form.password.data, current_user.auth_session
            )
        except authentication.SignedOutByLock:
            return browser.end_to_login(messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS)
        except authentication.CurrentPasswordWrong:
            form.password.errors.append(messages.CURRENT_PASSWORD_WRONG)
        except recovery_codes.NoSecondFactor:
            flash(messages.MFA_CODES_NEED_FACTOR, "error")
            return redirect(url_for("mfa.index"))
        else:
            return _codes_page(codes, messages.MFA_CODES_REGENERATED)
    return _index(codes_form=form)


@bp.post("/recovery-codes/download")
def download_codes():
    """The codes just shown, as a text file; only unused codes of this account come back."""
    form = DownloadCodesForm()
    codes = form.codes.data.split() if form.validate_on_submit() else []
    if not codes or not recovery_codes.all_unused(current_user, codes):
        flash(messages.MFA_DOWNLOAD_REFUSED, "error")
        return redirect(url_for("mfa.index"))
    body = render_template("mfa/recovery_codes.txt", codes=codes)
    response: Response = make_response(body)
    response.mimetype = "text/plain"
    response.headers["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    response.headers["Cache-Control"] = "no-store"
    return response
