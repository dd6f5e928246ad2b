"""The second step of a browser sign-in: /login/second-factor, after the password passed."""

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user

from acs_auth import messages, security
from acs_auth.mfa.forms import CodeForm
from acs_auth.ratelimits import SECOND_STEP, limited, pending_signin
from acs_auth.services.factors import remembered, second_step
from acs_auth.services.signin import browser

bp = Blueprint("mfa_signin", __name__)


@bp.route(browser.SECOND_FACTOR_PATH, methods=["GET", "POST"])
@limited(SECOND_STEP, pending_signin(lambda: session.get(browser.PENDING_KEY)))
def second_factor():
    """Ask for the code; the pending sign-in lives only in this browser's session."""
    if current_user.is_authenticated:
        return redirect(url_for("programs.index"))
    held = browser.held_here()
    if held is None:  # none, expired, used, or the account changed meanwhile
        return _start_again(messages.MFA_PENDING_EXPIRED)
    form = CodeForm()
    if form.validate_on_submit():
        outcome = second_step.finish(held, form.code.data)
        if outcome.signed_in is not None:
            browser.start(outcome.signed_in, held.remember)
            done = redirect(security.safe_next(held.next_url) or url_for("programs.index"))
            if form.remember_browser.data and remembered.enabled():
                remembered.set_cookie(done, remembered.remember(outcome.signed_in.user))
            return done
        if outcome.over:  # locked now, or used up or expired meanwhile
            return _start_again(messages.MFA_SIGN_IN_AGAIN)
        form.code.errors.append(messages.MFA_CODE_WRONG)
    return render_template(
        "mfa/second_step.html",
        form=form,
        kinds=second_step.offered(held),
        remember_days=remembered.days(),
    )


@bp.post(browser.SECOND_FACTOR_PATH + "/cancel")
def cancel():
    """Give up this sign-in: the browser forgets it (it expires on the server by itself)."""
    return _start_again(messages.MFA_CANCELLED)


def _start_again(message: str):
    browser.release()
    flash(message, "info")
    return redirect(url_for("auth.login"))
