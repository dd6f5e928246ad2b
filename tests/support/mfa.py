"""Helpers of the second-factor tests: enrol through the pages, read codes as a person would."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pyotp
from sqlalchemy import select, update

from acs_auth.extensions import db
from acs_auth.models import RecoveryCode, TotpFactor, utcnow
from tests.support.db import read_db
from tests.support.web import AuthActions, csrf_from

KEY_FIELD = re.compile(r'id="totp-key" type="text" value="([A-Z2-7 ]+)"')
CODES_AREA = re.compile(r'<textarea id="recovery-codes"[^>]*>([^<]*)</textarea>')
ENROL = "/account/two-step/authenticator"
CONFIRM = "/account/two-step/authenticator/confirm"
INDEX = "/account/two-step"


def key_on(page: str) -> str:
    """The authenticator key the enrolment page shows as text (spaces removed)."""
    match = KEY_FIELD.search(page)
    assert match, "the enrolment page shows no key"
    return match.group(1).replace(" ", "")


def codes_on(page: str) -> list[str]:
    """The recovery codes a page shows."""
    match = CODES_AREA.search(page)
    assert match, "the page shows no recovery codes"
    return html.unescape(match.group(1)).split()


def code_for(key: str, steps: int = 0) -> str:
    """The app's code for ``key`` now, or ``steps`` time steps away."""
    totp = pyotp.TOTP(key)
    return totp.at(utcnow() + timedelta(seconds=totp.interval * steps))


def begin(client) -> str:
    """Start an enrolment on the signed-in ``client``; the key shown."""
    auth = AuthActions(client)
    started = auth.post(ENROL, {}, form_url=INDEX)
    assert started.status_code == 302, started.get_data(as_text=True)
    return key_on(client.get(ENROL).get_data(as_text=True))


def enrol(client) -> tuple[str, list[str]]:
    """Enrol an authenticator on the signed-in ``client``: (key, recovery codes).

    The confirming code is the previous step's, so the current step stays free for a sign-in
    that follows at once (a code is accepted only for a step later than the last one used).
    """
    key = begin(client)
    done = confirm(client, code_for(key, steps=-1))
    if not CODES_AREA.search(done.get_data(as_text=True)):
        # A new time step began in between (a slow machine) and took the code's step out of
        # the window: the step before the new one is still in it.
        done = confirm(client, code_for(key, steps=-1))
    assert done.status_code == 200, done.get_data(as_text=True)
    return key, codes_on(done.get_data(as_text=True))


def confirm(client, code: str):
    token = csrf_from(client.get(ENROL).get_data(as_text=True))
    return client.post(CONFIRM, data={"csrf_token": token, "code": code})


def use_up_codes(app, user_id: int, keep: int) -> None:
    """Mark all but ``keep`` of the person's recovery codes used (to arrange a low count)."""

    def change():
        ids = db.session.scalars(
            select(RecoveryCode.id)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
            .order_by(RecoveryCode.id)
        ).all()
        spent = ids[: len(ids) - keep]
        db.session.execute(
            update(RecoveryCode).where(RecoveryCode.id.in_(spent)).values(used_at=utcnow())
        )
        db.session.commit()

    read_db(app, change)


def stored_secret(app, user_id: int) -> str | None:
    """The authenticator column as the database holds it."""
    return read_db(
        app,
        lambda: db.session.scalar(select(TotpFactor.secret).where(TotpFactor.user_id == user_id)),
    )
