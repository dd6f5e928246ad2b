"""The browser side of the sign-in seam: start and end a browser session, hold a pending one.

Every page that signs someone in (/login, the registration, setup and reset links, the identity
provider's re-authentication) goes through ``proceed``/``start``, and every page that signs
someone out through ``end``, so Flask-Login, the remember-me cookie and the auth session's id
are handled the same way everywhere.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import login_user, logout_user

from acs_auth.services.signin import seam
from acs_auth.services.signin.pending import Channel, Pending

# The browser session key holding a pending sign-in's handle (never a form field or URL).
PENDING_KEY = "signin_pending"
# Where a pending sign-in is taken on (the second-factor page of issue 15).
SECOND_FACTOR_ENDPOINT = "auth.second_factor"
SECOND_FACTOR_PATH = "/login/second-factor"


def start(signed_in: seam.SignIn, remember: bool) -> None:
    """Replace whatever session the browser had with one for the account just signed in.

    Flask-Login's id is the new auth session's public id. A remember-me cookie left by an
    earlier sign-in (maybe someone else's) is deleted unless this one sets its own, so closing
    the browser never brings back the earlier person.
    """
    stale_cookie = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
    # A fresh session at sign-in: nothing planted in the old cookie survives (no fixation).
    session.clear()
    login_user(signed_in.user, remember=remember)
    if stale_cookie and not remember:
        session["_remember"] = "clear"  # drop an earlier account's remember-me cookie


def end() -> None:
    """Forget the signed-in user in this browser: session data and the remember-me cookie.

    The server-side session row must already be revoked by the caller; this only makes the
    browser drop what it holds.
    """
    session.clear()
    logout_user()  # marks the remember-me cookie for deletion when the browser sent one


def end_to_login(message: str, category: str = "error"):
    """End the browser session and send the person to /login with ``message``.

    The one way a page signs its person out: a lock after wrong passwords, their own session
    revoked, or a plain sign-out, so every one of them forgets the same things.
    """
    end()
    flash(message, category)
    return redirect(url_for("auth.login"))


def hold(held: Pending) -> None:
    """Keep a pending sign-in in this browser: nobody is signed in until it completes."""
    end()
    session[PENDING_KEY] = held.handle


def held_here() -> Pending | None:
    """The pending sign-in this browser holds, while live and unused; else None."""
    return seam.resume(session.get(PENDING_KEY), Channel.BROWSER)


def release() -> None:
    """Forget this browser's pending sign-in (completed, expired, or abandoned)."""
    session.pop(PENDING_KEY, None)


def complete(held: Pending, method: str):
    """The second factor ``method`` passed for this browser's ``held``: sign in and go on.

    Returns the redirect to where the sign-in was going (``held.next_url``, else /programs),
    or None when the pending sign-in was used or expired meanwhile, or the account locked
    (the page then starts again at /login).
    """
    signed_in = seam.complete(held, method)
    if signed_in is None:
        release()
        return None
    start(signed_in, held.remember)
    return redirect(held.next_url or _path("programs.index", "/programs"))


def _path(endpoint: str, fallback: str) -> str:
    return url_for(endpoint) if endpoint in current_app.view_functions else fallback


def proceed(attempt: seam.Attempt, target: str, remember: bool = False):
    """The answer to a sign-in that passed: the session and ``target``, or the second factor.

    None for a failed attempt (the page answers it).
    """
    if attempt.signed_in is not None:
        start(attempt.signed_in, remember)
        return redirect(target)
    if attempt.pending is not None:
        hold(attempt.pending)
        return redirect(_path(SECOND_FACTOR_ENDPOINT, SECOND_FACTOR_PATH))
    return None
