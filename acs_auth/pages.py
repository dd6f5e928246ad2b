"""Answers the HTML blueprints share: the emailed-link pages, and where a signed-in person goes.

The password and registration pages both send emailed links and both sign a person in at the
end, so these live here rather than in one blueprint's views: no blueprint imports another's
views. It may import services; never a blueprint.
"""

from __future__ import annotations

import flask_login
from flask import current_app, flash, redirect, render_template, session, url_for
from flask_wtf import FlaskForm

from acs_auth import messages
from acs_auth.services.accounts.passwords import PasswordRejected
from acs_auth.services.signin.authentication import SignIn


def endpoint_url(endpoint: str, fallback: str) -> str:
    """``url_for(endpoint)`` when another blueprint has mounted it, else its known path."""
    return url_for(endpoint) if endpoint in current_app.view_functions else fallback


def sign_in_and_redirect(result: SignIn, message: str):
    """Start a fresh browser session for ``result`` (no fixation) and go to the programs."""
    session.clear()
    flask_login.login_user(result.user)
    flash(message, "success")
    return redirect(endpoint_url("programs.index", "/programs"))


def link_invalid():
    """The page for an emailed link that is malformed, expired, used or superseded."""
    return render_template("passwords/link_invalid.html", message=messages.LINK_INVALID), 400


def email_sent(title: str, message: str):
    """The one answer to a request for an emailed link, whatever the outcome."""
    return render_template("passwords/email_sent.html", title=title, message=message)


def refuse_password(form: FlaskForm, exc: PasswordRejected) -> None:
    """Show the policy's reason beside the form's ``password`` field."""
    form.password.errors = [*form.password.errors, str(exc)]
