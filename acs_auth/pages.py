"""Answers the HTML blueprints share: the emailed-link pages, and where a signed-in person goes.

The password and registration pages both send emailed links and both sign a person in at the
end, so these live here rather than in one blueprint's views: no blueprint imports another's
views. It may import services; never a blueprint.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm

from acs_auth import messages
from acs_auth.services.accounts.passwords import PasswordRejected
from acs_auth.services.signin import browser, seam


def endpoint_url(endpoint: str, fallback: str) -> str:
    """``url_for(endpoint)`` when another blueprint has mounted it, else its known path."""
    return url_for(endpoint) if endpoint in current_app.view_functions else fallback


def sign_in_and_redirect(attempt: seam.Attempt, message: str):
    """Go on from a link that signs in, through the seam: the programs, or the second factor."""
    answer = browser.proceed(attempt, endpoint_url("programs.index", "/programs"))
    flash(message, "success")  # after proceed, which starts a fresh session
    return answer or redirect(endpoint_url("auth.login", "/login"))


def link_invalid():
    """The page for an emailed link that is malformed, expired, used or superseded."""
    return render_template("passwords/link_invalid.html", message=messages.LINK_INVALID), 400


def email_sent(title: str, message: str):
    """The one answer to a request for an emailed link, whatever the outcome."""
    return render_template("passwords/email_sent.html", title=title, message=message)


def refuse_password(form: FlaskForm, exc: PasswordRejected) -> None:
    """Show the policy's reason beside the form's ``password`` field."""
    form.password.errors = [*form.password.errors, str(exc)]
