"""Passkeys in the browser: the page on /account that manages them, and passkey sign-in.

The ceremonies are JSON exchanges driven by static/js/passkeys.js: ask for options, let the
browser talk to the authenticator, post its answer. They are session-cookie endpoints, so they
carry the CSRF token (the X-CSRFToken header) like every form. Errors answer RFC 9457 problem
JSON, which the script shows beside the button.
"""

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from acs_auth import messages, security
from acs_auth.passkeys.forms import AddPasskeyForm, RemovePasskeyForm, RenamePasskeyForm
from acs_auth.ratelimits import PASSWORD, Budget, json_field, limited, signed_in_account
from acs_auth.services.factors import passkey_manage, passkey_signin, passkeys
from acs_auth.services.signin import authentication, browser
from acs_auth.services.signin.pending import Channel

bp = Blueprint("passkeys", __name__)

# The ceremony in progress in this browser session (its challenge; the server keeps a hash).
CEREMONY = "passkey_ceremony"
# Passkey sign-in: per account (the credential's owner) and per client address. Asking for
# options names no account, so that request is counted per address only (in both scopes).
PASSKEY_SIGN_IN = Budget("passkey", "RATELIMIT_PER_IDENTIFIER", "RATELIMIT_PER_IP")
PASSKEY_OPTIONS = Budget("passkey-options", "RATELIMIT_PER_IP", "RATELIMIT_PER_IP")


def _problem(status: int, detail: str, **extra) -> Response:
    """An RFC 9457 problem for the script to show."""
    response = jsonify({"type": "about:blank", "title": detail, "status": status, **extra})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _options(ceremony: passkeys.Ceremony) -> Response:
    """Keep the ceremony's state in this session and hand its options to the script."""
    session[CEREMONY] = ceremony.state
    return Response(ceremony.options, mimetype="application/json")


def _credential():
    """The authenticator's answer posted by the script: ``{"credential": {...}}``."""
    body = request.get_json(silent=True)
    return body.get("credential") if isinstance(body, dict) else None


def _credential_owner() -> str | None:
    """Rate-limit subject of passkey sign-in: the account the posted credential belongs to."""
    found = json_field("credential")()
    account = passkey_signin.account_id_for_credential(
        found.get("id") if isinstance(found, dict) else None
    )
    return f"account:{account}" if account is not None else None


@bp.app_context_processor
def _unsupported_message() -> dict:
    """The words shown where passkeys cannot work (no WebAuthn, or no JavaScript)."""
    return {
        "passkey_unsupported": messages.PASSKEY_UNSUPPORTED,
        "passkey_rate_limited": messages.RATE_LIMITED,
    }


# --- the page on /account -------------------------------------------------------------------


@bp.get("/account/passkeys")
@login_required
def index():
    """The person's passkeys, with the form that adds one."""
    return render_template(
        "passkeys/index.html",
        keys=passkeys.list_for(current_user),
        add_form=AddPasskeyForm(formdata=None),
        rename_form=RenamePasskeyForm(formdata=None),
        remove_form=RemovePasskeyForm(formdata=None),
    )


@bp.post("/account/passkeys/options")
@login_required
@limited(PASSWORD, signed_in_account)
def registration_options():
    """Confirm the password, then hand out options for navigator.credentials.create()."""
    form = AddPasskeyForm()
    if not form.validate_on_submit():
        errors = {name: field[0] for name, field in form.errors.items()}
        return _problem(422, next(iter(errors.values())), errors=errors)
    try:
        ceremony = passkeys.start_registration(
            current_user, form.password.data, current_user.auth_session, form.name.data
        )
    except authentication.SignedOutByLock:
        browser.end()
        flash(messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS, "error")
        return _problem(
            401, messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS, redirect=url_for("auth.login")
        )
    except authentication.CurrentPasswordWrong:
        return _problem(422, messages.PASSKEY_PASSWORD_WRONG)
    except passkeys.PasskeyError as exc:
        return _problem(422, str(exc))
    return _options(ceremony)


@bp.post("/account/passkeys")
@login_required
def add():
    """Verify the new credential and keep it."""
    try:
        row = passkeys.finish_registration(current_user, session.pop(CEREMONY, None), _credential())
    except passkeys.PasskeyError as exc:
        return _problem(400, str(exc))
    flash(messages.PASSKEY_ADDED.format(name=row.name), "success")
    return jsonify(redirect=url_for("passkeys.index"))


@bp.post("/account/passkeys/<public_id>/name")
@login_required
def rename(public_id: str):
    """Rename one of the person's passkeys."""
    form = RenamePasskeyForm()
    try:
        if not form.validate_on_submit():
            raise passkeys.PasskeyError(messages.PASSKEY_NAME_INVALID)
        row = passkey_manage.rename(current_user, public_id, form.name.data)
    except passkeys.PasskeyNotFound:
        flash(messages.PASSKEY_NOT_FOUND, "error")
    except passkeys.PasskeyError as exc:
        flash(str(exc), "error")
    else:
        flash(messages.PASSKEY_RENAMED.format(name=row.name), "success")
    return redirect(url_for("passkeys.index"))


@bp.post("/account/passkeys/<public_id>/remove")
@login_required
def remove(public_id: str):
    """Remove one of the person's passkeys; another person's answers as missing."""
    form = RemovePasskeyForm()
    if form.validate_on_submit():
        try:
            name = passkey_manage.remove(current_user, public_id)
        except passkeys.PasskeyNotFound:
            flash(messages.PASSKEY_NOT_FOUND, "error")
        else:
            flash(messages.PASSKEY_REMOVED.format(name=name), "success")
    return redirect(url_for("passkeys.index"))


# --- passkey sign-in (first factor) ---------------------------------------------------------


@bp.post("/login/passkey/options")
@limited(PASSKEY_OPTIONS, lambda: None)
def sign_in_options():
    """Options for navigator.credentials.get() with any passkey this site's authenticator holds."""
    return _options(passkeys.start_assertion(None))


@bp.post("/login/passkey")
@limited(PASSKEY_SIGN_IN, _credential_owner)
def sign_in():
    """Sign in with a passkey alone, through the seam; every refusal answers the same."""
    target = security.safe_next(request.args.get("next")) or url_for("programs.index")
    try:
        attempt = passkey_signin.sign_in(
            session.pop(CEREMONY, None), _credential(), _channel_for(target), next_url=target
        )
    except passkeys.PasskeyError:
        return _problem(401, messages.PASSKEY_SIGN_IN_FAILED)
    return jsonify(redirect=browser.proceed(attempt, target).location)


def _channel_for(target: str) -> Channel:
    """A sign-in on its way back to the identity provider's authorize step is the provider's."""
    return Channel.PROVIDER if target.startswith("/oauth/authorize") else Channel.BROWSER


# --- the second step after the password ----------------------------------------------------


@bp.post("/login/second-factor/passkey/options")
@limited(PASSKEY_OPTIONS, lambda: None)
def second_factor_options():
    """Options for the second step: the passkeys of the person whose password just passed."""
    held = browser.held_here()
    if held is None:
        return _problem(401, messages.PASSKEY_CEREMONY_EXPIRED, redirect=url_for("auth.login"))
    return _options(passkey_signin.second_factor_options(held))


@bp.post("/login/second-factor/passkey")
@limited(PASSKEY_SIGN_IN, _credential_owner)
def second_factor():
    """Complete the pending sign-in with a passkey; a wrong one counts toward the lockout."""
    held = browser.held_here()
    if held is None:
        return _problem(401, messages.PASSKEY_CEREMONY_EXPIRED, redirect=url_for("auth.login"))
    try:
        signed_in = passkey_signin.second_factor(held, session.pop(CEREMONY, None), _credential())
    except passkeys.PasskeyError as exc:
        gone = browser.held_here() is None  # locked: start again at /login
        return _problem(401, str(exc), **({"redirect": url_for("auth.login")} if gone else {}))
    if signed_in is None:
        browser.release()
        return _problem(401, messages.PASSKEY_CEREMONY_EXPIRED, redirect=url_for("auth.login"))
    browser.start(signed_in, held.remember)
    return jsonify(redirect=held.next_url or url_for("programs.index"))
